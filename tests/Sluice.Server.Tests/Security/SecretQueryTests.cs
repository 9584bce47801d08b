using Sluice.Server.Security;

namespace Sluice.Server.Tests.Security;

public sealed class SecretQueryTests
{
    [Theory]
    [InlineData("/live.ffm?key=s3cr3t-KEY", "/live.ffm?key=REDACTED")]
    [InlineData("/live.ffm?KEY=s3cr3t", "/live.ffm?KEY=REDACTED")]
    [InlineData("/s/index.m3u8?_HLS_msn=4&token=abc&signature=def", "/s/index.m3u8?_HLS_msn=4&token=REDACTED&signature=REDACTED")]
    [InlineData("/live.ffm?%6Bey=s3cr3t&x=1", "/live.ffm?%6Bey=REDACTED&x=1")]
    [InlineData("/live.ffm?x=1&key=a&key=b", "/live.ffm?x=1&key=REDACTED&key=REDACTED")]
    [InlineData("live/livestream?key=s3cr3t", "live/livestream?key=REDACTED")]
    public void Secret_query_values_are_masked(string target, string shown) => Assert.Equal(shown, SecretQuery.Redact(target));

    [Theory]
    [InlineData("/livestream")]
    [InlineData("/s/index.m3u8?_HLS_msn=4&_HLS_part=1")]
    [InlineData("/monkey?keys=1&akey=2")]
    public void A_target_without_secrets_is_the_same_string(string target) => Assert.Same(target, SecretQuery.Redact(target));
}
