using System.Net;
using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

public sealed class SeedConfigTests
{
    internal static string ExamplePath(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sluice.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return Path.Combine(dir.FullName, "examples", name);
    }

    [Fact]
    public void SeedConfigParsesToTheExpectedModel()
    {
        var text = File.ReadAllText(ExamplePath("ffserver.conf"));
        var result = ConfigParser.Parse(text, "ffserver.conf");

        Assert.Empty(result.Errors);
        Assert.True(result.Succeeded);
        var config = result.Config!;
        Assert.Equal(8090, config.HTTPPort);
        Assert.Equal(IPAddress.IPv6Any, config.HTTPBindAddress); // no BindAddress: both families
        Assert.Equal(2000, config.MaxHTTPConnections);
        Assert.Equal(1000, config.MaxBandwidth);
        Assert.Equal(5, config.MaxClients);
        Assert.Equal("-", config.CustomLog);
        Assert.Null(config.RTSPPort);
        Assert.Empty(config.Redirects);

        var feed = Assert.Single(config.Feeds);
        Assert.Equal("livestream.ffm", feed.Name);
        Assert.Equal(new ConfigLocation("ffserver.conf", 5), feed.Location);
        Assert.Equal("/tmp/feed1.ffm", feed.File);
        Assert.Equal(200 * 1024, feed.FileMaxSize);
        Assert.False(feed.Truncate);
        Assert.False(feed.ReadOnly);
        Assert.Empty(feed.Launch);
        var rule = Assert.Single(feed.Acl.Rules);
        Assert.True(rule.Allow);
        Assert.Equal(IPAddress.Parse("127.0.0.1"), rule.First);
        Assert.Equal(IPAddress.Parse("127.0.0.1"), rule.Last);
        Assert.True(feed.Acl.Allows(IPAddress.Loopback));
        Assert.False(feed.Acl.Allows(IPAddress.Parse("10.0.0.1")));
        Assert.Same(feed, config.FindFeed("livestream.ffm"));

        var stream = Assert.Single(config.Streams);
        Assert.Same(stream, config.FindStream("livestream"));
        Assert.Equal("livestream", stream.Name);
        Assert.Equal("webm", stream.Format);
        Assert.Equal("livestream.ffm", stream.Feed);
        Assert.False(stream.IsStatus);
        Assert.True(stream.UseDefaults);
        Assert.Equal("libvpx", stream.Video.Codec);
        Assert.Equal(new ConfigLocation("ffserver.conf", 13), stream.Video.CodecLocation);
        Assert.Equal(30, stream.Video.FrameRate);
        Assert.Equal(512, stream.Video.BitRate);
        Assert.Equal(320, stream.Video.Width);
        Assert.Equal(240, stream.Video.Height);
        Assert.Equal(new AvOption("preset", "medium", new ConfigLocation("ffserver.conf", 17)), Assert.Single(stream.Video.Options));
        Assert.Equal("libvorbis", stream.Audio.Codec);
        Assert.Equal(128, stream.Audio.BitRate);
        Assert.Equal(2, stream.Audio.Channels);
        Assert.Equal(22050, stream.Audio.SampleRate);
        Assert.Empty(stream.Audio.Options);
        Assert.False(stream.NoVideo);
        Assert.False(stream.NoAudio);
        Assert.Equal(640, stream.ConfiguredBitRate);
        Assert.True(stream.Acl.Allows(IPAddress.Parse("203.0.113.9")));
    }

    [Fact]
    public void SeedConfigWarnsAboutWhatSluiceDoesDifferently()
    {
        var result = ConfigParser.ParseFile(ExamplePath("ffserver.conf"));
        var file = ExamplePath("ffserver.conf");

        Assert.Equal(
            [
                $"{file}:10: <Stream livestream> sets no AudioSampleRate; using ffserver's default 22050 Hz (add AudioSampleRate, or NoDefaults to turn defaults off)",
                $"{file}:17: AVOptionVideo preset medium: libvpx has no 'preset' option (ffserver 3.4 refused this line with \"Option not found: 'preset'\"); Sluice keeps it and, when it encodes this stream, passes -deadline good -cpu-used 2 to libvpx instead",
            ],
            result.Warnings.Select(w => w.ToString()));
    }
}
