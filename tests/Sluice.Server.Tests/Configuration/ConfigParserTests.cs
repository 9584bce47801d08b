using System.Net;
using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

public sealed class ConfigParserTests
{
    private const string Feed = "<Feed f.ffm>\n</Feed>\n";

    private static ServerConfig ParseOk(string text)
    {
        var result = ConfigParser.Parse(text, "t.conf");
        Assert.Equal([], result.Errors.Select(e => e.ToString()));
        return result.Config!;
    }

    private static StreamConfig Stream(string lines) =>
        ParseOk(Feed + "<Stream s>\nFeed f.ffm\n" + lines + "\n</Stream>\n").FindStream("s")!;

    [Theory]
    [InlineData("200K", 200L * 1024)]
    [InlineData("200k", 200L * 1024)]
    [InlineData("200KB", 200L * 1024)]
    [InlineData("5M", 5L * 1024 * 1024)]
    [InlineData("1.5M", 3L * 512 * 1024)]
    [InlineData("2G", 2L * 1024 * 1024 * 1024)]
    [InlineData("16K", 16384)]
    public void FileMaxSizeTakesKMGSuffixes(string text, long bytes) =>
        Assert.Equal(bytes, ParseOk($"<Feed f.ffm>\nFileMaxSize {text}\n</Feed>\n").Feeds[0].FileMaxSize);

    [Fact]
    public void ViewerWriteInterval_is_global_with_a_default_and_a_stream_may_set_its_own()
    {
        var defaults = ParseOk(Feed + "<Stream s>\nFeed f.ffm\n</Stream>\n");
        Assert.Equal(ServerConfig.DefaultViewerWriteInterval, defaults.ViewerWriteInterval);
        Assert.Null(defaults.FindStream("s")!.ViewerWriteInterval);

        var set = ParseOk("ViewerWriteInterval 0.25\n" + Feed + "<Stream s>\nFeed f.ffm\nViewerWriteInterval 0\n</Stream>\n");
        Assert.Equal(0.25, set.ViewerWriteInterval);
        Assert.Equal(0, set.FindStream("s")!.ViewerWriteInterval);

        var refused = ConfigParser.Parse("ViewerWriteInterval 3\n", "t.conf");
        Assert.Equal(["t.conf:1: invalid ViewerWriteInterval '3': expected seconds from 0 to 2 (0: each frame as it comes)"], refused.Errors.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("320x240", 320, 240)]
    [InlineData("1920X1080", 1920, 1080)]
    [InlineData("sqcif", 128, 96)]
    [InlineData("qcif", 176, 144)]
    [InlineData("cif", 352, 288)]
    [InlineData("4cif", 704, 576)]
    [InlineData("qvga", 320, 240)]
    [InlineData("vga", 640, 480)]
    [InlineData("svga", 800, 600)]
    [InlineData("xga", 1024, 768)]
    [InlineData("hd480", 852, 480)]
    [InlineData("hd720", 1280, 720)]
    [InlineData("hd1080", 1920, 1080)]
    [InlineData("ntsc", 720, 480)]
    [InlineData("HD720", 1280, 720)]
    public void VideoSizeTakesWxHAndNames(string text, int width, int height)
    {
        var s = Stream($"VideoSize {text}");
        Assert.Equal((width, height), (s.Video.Width, s.Video.Height));
    }

    [Theory]
    [InlineData("25", 25.0)]
    [InlineData("29.97", 29.97)]
    [InlineData("30000/1001", 30000.0 / 1001)]
    [InlineData("ntsc", 30000.0 / 1001)]
    [InlineData("pal", 25.0)]
    [InlineData("film", 24.0)]
    public void VideoFrameRateTakesNumbersFractionsAndNames(string text, double fps) =>
        Assert.Equal(fps, Stream($"VideoFrameRate {text}").Video.FrameRate);

    [Theory]
    [InlineData("port 9000")]
    [InlineData("PORT 9000")]
    [InlineData("httpport 9000")]
    [InlineData("  HTTPPort   \"9000\"  ")]
    [InlineData("HTTPPort '9000'")]
    public void DirectiveNamesAreCaseInsensitiveAndArgumentsMayBeQuoted(string line) =>
        Assert.Equal(9000, ParseOk("# a comment\n\n   # an indented comment\n" + line + "\r\n").HTTPPort);

    [Theory]
    [InlineData("HTTPBindAddress 127.0.0.1", "127.0.0.1")]
    [InlineData("BindAddress ::", "::")]
    [InlineData("HTTPBindAddress [::1]", "::1")]
    [InlineData("HTTPBindAddress localhost", "127.0.0.1")]
    public void BindAddressTakesIPv4AndIPv6(string line, string address) =>
        Assert.Equal(IPAddress.Parse(address), ParseOk(line).HTTPBindAddress);

    [Fact]
    public void AbsentLimitsTakeFfserverDefaults()
    {
        var config = ParseOk("");
        Assert.Equal((8090, 5, 2000, 1000L), (config.HTTPPort, config.MaxClients, config.MaxHTTPConnections, config.MaxBandwidth));
        Assert.Null(config.CustomLog);
        Assert.Empty(config.Feeds);
    }

    [Fact]
    public void MaxClientsInsideAStreamLimitsThatStreamsViewers()
    {
        var config = ParseOk("<Feed f.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\nMaxClients 3\n</Stream>\n");
        Assert.Equal(3, config.Streams[0].MaxClients);
        Assert.Equal(ServerConfig.DefaultMaxClients, config.MaxClients);
    }

    [Fact]
    public void FeedDefaultsAndLaunchQuoting()
    {
        var feed = ParseOk("<Feed f.ffm>\nLaunch ffmpeg -i 'my file.mp4' -c:v libvpx\n</Feed>\n").Feeds[0];
        Assert.Equal(FeedConfig.DefaultFileMaxSize, feed.FileMaxSize);
        Assert.Null(feed.File);
        Assert.Equal(["ffmpeg", "-i", "my file.mp4", "-c:v", "libvpx"], feed.Launch.ToArray());
    }

    [Fact]
    public void StreamMayComeBeforeItsFeedAndStatusNeedsNoFeed()
    {
        var config = ParseOk("<Stream s>\nFeed f.ffm\nNoAudio\nNoVideo\n</Stream>\n" + Feed + "<Stream stat.html>\nFormat status\n</Stream>\n");
        Assert.Equal("f.ffm", config.FindStream("s")!.Feed);
        Assert.True(config.FindStream("stat.html")!.IsStatus);
    }

    [Theory]
    [InlineData("live.ts", "mpegts")]
    [InlineData("live.flv", "flv")]
    [InlineData("live.ogg", "ogg")]
    [InlineData("live.mkv", "matroska")]
    [InlineData("live", "webm")]
    public void FormatIsGuessedFromTheStreamNameWhenAbsent(string name, string format) =>
        Assert.Equal(format, ParseOk(Feed + $"<Stream {name}>\nFeed f.ffm\n</Stream>\n").FindStream(name)!.Format);

    [Fact]
    public void MetadataAndTheOldNamesShareOneDictionary()
    {
        var s = Stream("Metadata genre news\nTitle My live stream\nAuthor 'A. Person'");
        Assert.Equal("news", s.Metadata["genre"]);
        Assert.Equal("My live stream", s.Metadata["title"]);
        Assert.Equal("A. Person", s.Metadata["author"]);
    }

    [Fact]
    public void GlobalNoDefaultsAppliesToLaterStreams()
    {
        var config = ParseOk(Feed + "<Stream a>\nFeed f.ffm\n</Stream>\nNoDefaults\n<Stream b>\nFeed f.ffm\n</Stream>\n");
        Assert.True(config.FindStream("a")!.UseDefaults);
        Assert.False(config.FindStream("b")!.UseDefaults);
    }

    [Fact]
    public void DefaultsFillWhatAConfiguredCodecLeavesOutWithAWarningEach()
    {
        var result = ConfigParser.Parse(Feed + "<Stream s>\nFeed f.ffm\nVideoCodec libx264\nAudioCodec aac\n</Stream>\n", "t.conf");
        var s = result.Config!.Streams[0];
        Assert.Equal((64L, 22050, 1), (s.Audio.BitRate!.Value, s.Audio.SampleRate!.Value, s.Audio.Channels!.Value));
        Assert.Equal((64L, 5.0, 160, 128), (s.Video.BitRate!.Value, s.Video.FrameRate!.Value, s.Video.Width!.Value, s.Video.Height!.Value));
        Assert.Equal(128, s.ConfiguredBitRate);
        Assert.Equal(
            [
                "t.conf:3: <Stream s> sets no AudioBitRate; using ffserver's default 64 kbit/s (add AudioBitRate, or NoDefaults to turn defaults off)",
                "t.conf:3: <Stream s> sets no AudioSampleRate; using ffserver's default 22050 Hz (add AudioSampleRate, or NoDefaults to turn defaults off)",
                "t.conf:3: <Stream s> sets no AudioChannels; using ffserver's default 1 channel (add AudioChannels, or NoDefaults to turn defaults off)",
                "t.conf:3: <Stream s> sets no VideoBitRate; using ffserver's default 64 kbit/s (add VideoBitRate, or NoDefaults to turn defaults off)",
                "t.conf:3: <Stream s> sets no VideoFrameRate; using ffserver's default 5 fps (add VideoFrameRate, or NoDefaults to turn defaults off)",
                "t.conf:3: <Stream s> sets no VideoSize; using ffserver's default 160x128 (add VideoSize, or NoDefaults to turn defaults off)",
            ],
            result.Warnings.Select(w => w.ToString()));
    }

    [Theory]
    [InlineData("libvpx", "preset", "ultrafast",
        "t.conf:7: AVOptionVideo preset ultrafast: libvpx has no 'preset' option (ffserver 3.4 refused this line with \"Option not found: 'preset'\"); Sluice keeps it and, when it encodes this stream, passes -deadline realtime -cpu-used 8 to libvpx instead")]
    [InlineData("libvpx-vp9", "preset", "slow",
        "t.conf:7: AVOptionVideo preset slow: libvpx-vp9 has no 'preset' option (ffserver 3.4 refused this line with \"Option not found: 'preset'\"); Sluice keeps it and, when it encodes this stream, passes -deadline good -cpu-used 1 to libvpx-vp9 instead")]
    [InlineData("libvpx", "preset", "warp",
        "t.conf:7: AVOptionVideo preset warp: libvpx has no 'preset' option (ffserver 3.4 refused this line with \"Option not found: 'preset'\"); 'warp' is not an x264 preset name either, so Sluice ignores it when it encodes this stream")]
    [InlineData("libx264", "preset", "medium", null)]
    [InlineData("libvpx", "deadline", "good", null)]
    public void PresetOnLibvpxIsKeptWithAWarning(string codec, string option, string value, string? warning)
    {
        var result = ConfigParser.Parse(
            Feed + $"<Stream s>\nFeed f.ffm\nVideoCodec {codec}\nVideoBitRate 300\nAVOptionVideo {option} {value}\nVideoFrameRate 25\nVideoSize 320x240\n</Stream>\n",
            "t.conf");
        Assert.Equal(warning is null ? [] : [warning], result.Warnings.Select(w => w.ToString()));
        Assert.Equal(new AvOption(option, value, new ConfigLocation("t.conf", 7)), Assert.Single(result.Config!.Streams[0].Video.Options));
    }

    [Fact]
    public void FormatsNoPlayerPlaysAreRefusedWithTheirReplacement()
    {
        var result = ConfigParser.Parse(Feed + "<Stream s.avi>\nFeed f.ffm\nFormat avi\n</Stream>\n<Stream s.vob>\nFeed f.ffm\nFormat vob\n</Stream>\n", "t.conf");
        Assert.Equal(
            [
                "t.conf:5: Format avi is one no player of today plays, and Sluice does not write it; use Format mp4 or webm instead",
                "t.conf:9: Format vob is one no player of today plays, and Sluice does not write it; use Format mpegts (or hls for browsers) instead",
            ],
            result.Errors.Select(w => w.ToString()));
    }

    [Theory]
    [InlineData("mpeg")]
    [InlineData("asf")]
    [InlineData("swf")]
    [InlineData("mjpeg")]
    [InlineData("mp2")]
    [InlineData("ismv")]
    public void EveryFormatFfserverStreamedOverHttpIsServed(string format)
    {
        var stream = Assert.Single(ParseOk(Feed + $"<Stream s>\nFeed f.ffm\nFormat {format}\n</Stream>\n").Streams);
        Assert.Equal(format, stream.Format);
    }

    [Fact]
    public void OddVideoSizeWarns()
    {
        var result = ConfigParser.Parse(Feed + "<Stream s>\nFeed f.ffm\nNoAudio\nVideoSize 321x240\nVideoBitRate 100\nVideoFrameRate 10\n</Stream>\n", "t.conf");
        Assert.Equal(["t.conf:6: VideoSize 321x240 is not a multiple of 2; most encoders (yuv420p) will refuse it"], result.Warnings.Select(w => w.ToString()));
    }

    [Fact]
    public void RedirectTakesAUrl()
    {
        var redirect = ParseOk("<Redirect old>\nURL http://example.com/new.webm\n</Redirect>\n<Redirect rel>\nURL /live.webm\n</Redirect>\n").Redirects;
        Assert.Equal(["http://example.com/new.webm", "/live.webm"], redirect.Select(r => r.Url));
        Assert.Equal(new ConfigLocation("t.conf", 1), redirect[0].Location);
    }

    [Fact]
    public void Hls_directives_set_the_streams_segmenting_and_default_to_low_latency_cmaf()
    {
        var parsed = ConfigParser.Parse("<Feed f.ffm>\n</Feed>\n<Stream a>\nFeed f.ffm\n</Stream>\n<Stream b>\nFeed f.ffm\nHLS off\n</Stream>\n" +
            "<Stream c>\nFeed f.ffm\nHLSFormat TS\nHLSSegmentDuration 4\nHLSPartDuration 0.5\nHLSListSize 10\n</Stream>\n", "t.conf");
        Assert.True(parsed.Succeeded, string.Join("\n", parsed.Errors));
        var a = parsed.Config!.FindStream("a")!.Hls;
        Assert.Equal((true, "fmp4", 2.0, 0.25, 6), (a.Enabled, a.SegmentFormat, a.SegmentDuration, a.PartDuration, a.ListSize));
        Assert.False(parsed.Config.FindStream("b")!.Hls.Enabled);
        var c = parsed.Config.FindStream("c")!.Hls;
        Assert.Equal((true, "ts", 4.0, 0.5, 10), (c.Enabled, c.SegmentFormat, c.SegmentDuration, c.PartDuration, c.ListSize));
    }
}
