using Sluice.Server.Ingest;

namespace Sluice.Server.Tests.Ingest;

public sealed class PublishKeysTests
{
    [Theory]
    [InlineData("s3cret", "s3cret", true)]
    [InlineData("s3cret", "s3cre", false)]       // a prefix
    [InlineData("s3cret", "s3cret!", false)]     // longer
    [InlineData("s3cret", "S3CRET", false)]      // keys are case-sensitive
    [InlineData("s3cret", "s3cret ", false)]     // no trimming
    [InlineData("s3cret", "x3cret", false)]
    [InlineData("clé-ünï", "clé-ünï", true)]     // compared as UTF-8
    [InlineData("clé", "cle\u0301", false)]       // no normalization: other bytes
    public void A_key_matches_only_when_every_byte_is_the_same(string expected, string given, bool matches) =>
        Assert.Equal(matches, PublishKeys.Match(expected, given));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void No_key_given_never_matches(string? given)
    {
        Assert.False(PublishKeys.Match("s3cret", given));
        Assert.False(PublishKeys.Match("", given)); // not even an empty expected key
    }

    [Fact]
    public void Keys_are_compared_in_constant_time_and_every_check_asks_this_type()
    {
        string server = Path.Combine(SourceRoot(), "src", "Sluice.Server");
        string source = File.ReadAllText(Path.Combine(server, "Ingest", "PublishKeys.cs"));
        Assert.Contains("CryptographicOperations.FixedTimeEquals(", source, StringComparison.Ordinal);
        Assert.DoesNotContain("string.Equals", source, StringComparison.Ordinal);

        // The feed's PublishKey (Admission) and the launched feeder's token (Feed) are both checked here.
        Assert.Contains("PublishKeys.Match(expected, key)", File.ReadAllText(Path.Combine(server, "Delivery", "Admission.cs")), StringComparison.Ordinal);
        Assert.Contains("PublishKeys.Match(token, given)", File.ReadAllText(Path.Combine(server, "Feeds", "Feed.cs")), StringComparison.Ordinal);
    }

    private static string SourceRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Sluice.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Sluice.slnx above the test's folder");
        }

        return root;
    }
}
