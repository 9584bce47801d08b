using System.Net;
using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

public sealed class RtmpConfigTests
{
    [Fact]
    public void RTMP_is_off_unless_RTMPPort_is_given()
    {
        var config = ConfigParser.Parse("<Feed f.ffm>\n</Feed>\n", "t.conf").Config!;
        Assert.Null(config.RTMPPort);
        Assert.Null(config.RTMPBindAddress);
        Assert.Null(config.Feeds[0].PublishKey);
    }

    [Fact]
    public void RTMPPort_RTMPBindAddress_and_PublishKey_are_read()
    {
        var result = ConfigParser.Parse("RTMPPort 1935\nRTMPBindAddress 127.0.0.1\n<Feed f.ffm>\nPublishKey \"s3cret key\"\n</Feed>\n", "t.conf");
        Assert.Equal([], result.Errors.Select(e => e.ToString()));
        Assert.Equal(1935, result.Config!.RTMPPort);
        Assert.Equal(IPAddress.Loopback, result.Config.RTMPBindAddress);
        Assert.Equal("s3cret key", result.Config.Feeds[0].PublishKey);
    }

    [Theory]
    [InlineData("RTMPPort rtmp\n", "t.conf:1: invalid port 'rtmp' for RTMPPort: expected a whole number from 1 to 65535")]
    [InlineData("RTMPBindAddress nowhere\n", "t.conf:1: invalid address 'nowhere' for RTMPBindAddress")]
    [InlineData("HTTPPort 9000\nRTMPPort 9000\n", "t.conf:2: RTMPPort 9000 is also the HTTPPort; RTMP needs a port of its own")]
    [InlineData("<Feed f.ffm>\nPublishKey\n</Feed>\n", "t.conf:2: PublishKey needs an argument; usage: PublishKey <key>")]
    [InlineData("<Stream s>\nPublishKey k\n</Stream>\n", "t.conf:2: PublishKey")]
    public void Mistakes_are_reported_with_file_and_line(string text, string error)
    {
        var result = ConfigParser.Parse(text, "t.conf");
        Assert.Contains(result.Errors, e => e.ToString().StartsWith(error, StringComparison.Ordinal));
    }
}
