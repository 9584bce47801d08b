using Sluice.Server.Ingest.Rtmp;

namespace Sluice.Server.Tests.Ingest.Rtmp;

public sealed class RtmpSessionNameTests
{
    [Theory]
    [InlineData(null, "", null)]
    [InlineData("", "", null)]
    [InlineData("live", "live", null)]
    [InlineData("live.ffm", "live.ffm", null)]
    [InlineData("live?", "live", null)]
    [InlineData("live?key=s3cret", "live", "s3cret")]
    [InlineData("live?key=", "live", "")]
    [InlineData("live?token=1&key=s3cret&x=2", "live", "s3cret")]
    [InlineData("live?key=a&key=b", "live", "b")]                   // the last key wins
    [InlineData("live?key=a%20b%3Fc", "live", "a b?c")]              // percent-escapes are decoded
    [InlineData("live?key=a+b", "live", "a+b")]                      // '+' stays a plus
    [InlineData("live?key=100%", "live", "100%")]                    // a broken escape is kept as written
    [InlineData("live?KEY=s3cret", "live", null)]                    // the parameter's name is case-sensitive
    [InlineData("live?monkey=s3cret", "live", null)]
    [InlineData("live?key=a?b", "live", "a?b")]                      // only the first '?' starts the query
    [InlineData("?key=s3cret", "", "s3cret")]
    public void A_published_name_splits_into_the_name_and_its_key(string? published, string name, string? key) =>
        Assert.Equal((name, key), RtmpSession.SplitName(published));

    [Theory]
    [InlineData("C0 version 5 is not RTMP", "C# version # is not RTMP")]
    [InlineData("C0 version 243 is not RTMP", "C# version # is not RTMP")]
    [InlineData("a message of 16777215 bytes is over the limit of 1048576", "a message of # bytes is over the limit of #")]
    [InlineData("no digits at all", "no digits at all")]
    [InlineData("12345", "#")]
    [InlineData("1.5 s", "#.# s")]
    [InlineData("", "")]
    public void A_failure_s_kind_is_its_text_with_each_run_of_digits_as_one_hash(string reason, string kind) =>
        Assert.Equal(kind, RtmpSession.KindOf(reason));

    [Fact]
    public void Failures_that_differ_only_in_their_numbers_are_one_kind() =>
        Assert.Equal(RtmpSession.KindOf("chunk stream 3 sent 999 bytes"), RtmpSession.KindOf("chunk stream 70000 sent 1 bytes"));

    [Fact]
    public void A_kind_is_at_most_the_first_80_characters_so_a_long_text_a_client_chose_cannot_make_many_kinds()
    {
        string head = new('x', 80);
        Assert.Equal(head, RtmpSession.KindOf(head + "tail one"));
        Assert.Equal(RtmpSession.KindOf(head + "tail one"), RtmpSession.KindOf(head + "another tail"));
        Assert.Equal("#" + new string('y', 76), RtmpSession.KindOf("1234" + new string('y', 100)));
    }
}
