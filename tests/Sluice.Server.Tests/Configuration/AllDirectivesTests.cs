using System.Net;
using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

public sealed class AllDirectivesTests
{
    [Fact]
    public void EveryDirectiveIsReadAndTheUnimplementedOnesWarnOnce()
    {
        var path = SeedConfigTests.ExamplePath("all-directives.conf");
        var result = ConfigParser.ParseFile(path);

        Assert.Empty(result.Errors);
        string[] expected =
        [
            "17: RTSPPort is not supported; RTSP is not served (streams are served over HTTP only)",
            "18: RTSPBindAddress is not supported; RTSP is not served (streams are served over HTTP only)",
            "19: NoDaemon has no effect; Sluice always runs in the foreground",
            "20: LoadModule is not supported; no module is loaded",
            "47: UseDefaults/NoDefaults already given on line 46; this one (UseDefaults) wins",
            "69: InputFormat is not supported; the feed's format is detected from what the publisher sends",
            "70: Debug is not supported; encoders run without debug flags",
            "71: Strict is not supported; encoders run with ffmpeg's default strictness, but mpeg1video at a frame rate MPEG-1 lacks, which gets -strict unofficial",
            "72: VideoTag is not supported; the muxer chooses the codec tag",
            "73: VideoHighQuality is not supported; the encoder uses its default macroblock decision",
            "74: Video4MotionVector is not supported; the encoder uses its default motion vectors",
            "75: VideoQDiff is not supported; the encoder uses its default quantizer difference",
            "76: Qscale is not supported; the encoder uses bitrate control (VideoBitRate)",
            "77: LumiMask is not supported; the encoder uses no luminance masking",
            "78: DarkMask is not supported; the encoder uses no darkness masking",
            "79: BitExact is not supported; the encoder output is not forced bit-exact",
            "80: DctFastint is not supported; the encoder uses its default DCT",
            "81: IdctSimple is not supported; the encoder uses its default IDCT",
            "82: DynamicACL is not supported; only this stream's ACL lines apply",
            "83: RTSPOption is not supported; RTSP is not served",
            "84: MulticastAddress is not supported; the stream is not sent by multicast (viewers use HTTP)",
            "85: MulticastPort is not supported; the stream is not sent by multicast (viewers use HTTP)",
            "86: MulticastTTL is not supported; the stream is not sent by multicast (viewers use HTTP)",
            "87: NoLoop has no effect in <Stream live.webm>: it reads a Feed, and only a stream that plays a File loops",
            "88: File inside <Stream> is not read when the stream has a Feed: the stream reads its Feed, as ffserver 3.4 did",
            "89: ReadOnlyFile inside <Stream> is not read when the stream has a Feed: the stream reads its Feed, as ffserver 3.4 did",
            "101: FaviconURL is not supported; the status page has no favicon",
        ];
        Assert.Equal(expected.Select(w => $"{path}:{w}"), result.Warnings.Select(w => w.ToString()));

        var config = result.Config!;
        Assert.Equal(100, config.MaxClients);
        Assert.Equal(100000, config.MaxBandwidth);
        Assert.Equal(5454, config.RTSPPort);
        Assert.Equal(IPAddress.Any, config.RTSPBindAddress);

        var feed = Assert.Single(config.Feeds);
        Assert.Equal(5L * 1024 * 1024, feed.FileMaxSize);
        Assert.Equal(["ffmpeg", "-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "webm"], feed.Launch.ToArray());
        Assert.Equal(3, feed.Acl.Rules.Length);
        Assert.True(feed.ReadOnly);
        Assert.True(feed.Truncate);

        var live = config.FindStream("live.webm")!;
        Assert.Equal("Live test", live.Metadata["description"]);
        Assert.Equal("Live", live.Metadata["title"]);
        Assert.Equal("Sluice", live.Metadata["author"]);
        Assert.Equal("every directive", live.Metadata["comment"]);
        Assert.Equal("public domain", live.Metadata["copyright"]);
        Assert.Equal(5, live.Preroll);
        Assert.Equal(3600, live.MaxTime);
        Assert.True(live.StartSendOnKey);
        Assert.True(live.UseDefaults);
        Assert.Equal((320, 240), (live.Video.Width, live.Video.Height));
        Assert.Equal(30000.0 / 1001, live.Video.FrameRate);
        Assert.Equal((256L, 1024L), (live.Video.BitRateRangeMin, live.Video.BitRateRangeMax));
        Assert.Equal(128, live.Video.BitRateTolerance);
        Assert.Equal(40, live.Video.BufferSize);
        Assert.Equal("yuv420p", live.Video.PixelFormat);
        Assert.Equal(30, live.Video.GopSize);
        Assert.True(live.Video.IntraOnly);
        Assert.Equal((4, 50), (live.Video.QMin, live.Video.QMax));
        Assert.Equal("libvpx-360p", live.Video.Preset);
        Assert.Equal("deadline", Assert.Single(live.Video.Options).Name);
        Assert.Equal(44100, live.Audio.SampleRate);
        Assert.Equal("aq", Assert.Single(live.Audio.Options).Name);
        Assert.Equal("default", live.Audio.Preset);
        Assert.Equal(512 + 96, live.ConfiguredBitRate);

        var audio = config.FindStream("audio.ogg")!;
        Assert.Equal("ogg", audio.Format);
        Assert.True(audio.NoVideo && audio.NoAudio);
        Assert.Equal(0, audio.ConfiguredBitRate);

        Assert.True(config.FindStream("status.html")!.IsStatus);
        Assert.Null(config.FindStream("status.html")!.Feed);
        var redirect = Assert.Single(config.Redirects);
        Assert.Equal(("old.webm", "http://example.com/live.webm"), (redirect.Name, redirect.Url));
    }
}
