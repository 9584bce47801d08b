using System.Text.RegularExpressions;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// GStreamer, a player other than ffmpeg, reads the formats ffserver 3.4 streamed from a running Sluice fed H.264/AAC
/// by a real ffmpeg: gst-discoverer finds the container and the configured codecs, and a decodebin pipeline decodes
/// every stream to raw video and audio without an error on the bus. SWF is not among them: GStreamer has no SWF
/// demuxer (gst-discoverer says "Missing plugins ... application/x-shockwave-flash decoder").
/// </summary>
public sealed partial class GstreamerPlayerTests
{
    public static TheoryData<string, string, string?, string?, string?> Streams => new()
    {
        // stream name, its directives, what gst-discoverer calls the container, the video codec and the audio codec
        { "cam.raw", "Format mjpeg\nNoAudio\nVideoSize 320x240\nVideoFrameRate 10\nVideoBitRate 2000", null, "JPEG", null },
        { "radio.mp2", "Format mp2\nNoVideo\nAudioCodec libmp3lame\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2", null, null, "MPEG-1 Layer 3 (MP3)" },
        { "layer2.mp2", "Format mp2\nNoVideo\nAudioCodec mp2\nAudioBitRate 128\nAudioSampleRate 44100\nAudioChannels 2", null, null, "MPEG-1 Layer 2 (MP2)" },
        { "live.mpg", "Format mpeg\nVideoCodec mpeg1video\nVideoBitRate 800\nVideoSize 320x240\nVideoFrameRate 25\nAudioCodec mp2\nAudioBitRate 128\nAudioSampleRate 44100\nAudioChannels 2", "MPEG-1 System Stream", "MPEG-1 Video", "MPEG-1 Layer 2 (MP2)" },
        // ffserver's default 5 fps and a 64 kbit/s audio: a join point's first kilobytes would be MP2 frames if its audio came first.
        { "slow.mpg", "Format mpeg\nVideoBitRate 300\nVideoSize 320x240\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2", "MPEG-1 System Stream", "MPEG-1 Video", "MPEG-1 Layer 2 (MP2)" },
        { "live.asf", "Format asf\nVideoBitRate 500\nVideoSize 320x240\nVideoFrameRate 25\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2", "Advanced Streaming Format (ASF)", "Microsoft MPEG-4 4.3", "Windows Media Audio 8" },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task GStreamer_finds_the_format_s_streams_and_decodes_them_without_an_error(string name, string directives, string? container, string? video, string? audio)
    {
        await using var server = await TestServer.StartAsync(
            $"MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 4M\n</Feed>\n<Stream {name}>\nFeed in.ffm\n{directives}\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), FfmpegPublisher.MatroskaH264Aac);
        await Tools.WaitForStreamAsync(server, name, TimeSpan.FromSeconds(30));
        string url = server.Url(name);
        // A viewer of a running stream, as a player that comes later: it starts at a join point after the output's first unit.
        var output = server.Server.Streams[name].Output!;
        for (int waited = 0; output.Ring.LatestJoinPoint <= 0 && waited < 100; waited++)
        {
            await Task.Delay(100);
        }

        Assert.True(output.Ring.LatestJoinPoint > 0, $"no join point after the first unit within 10 s (latest: {output.Ring.LatestJoinPoint})");

        // gst-discoverer prerolls every stream it finds: each is typefound, demuxed and decoded to its first frames.
        var discovered = await ProcessRunner.RunAsync("gst-discoverer-1.0", ["-t", "20", url], TimeSpan.FromSeconds(30));
        Assert.True(discovered.ExitCode == 0 && !discovered.StdOut.Contains("Missing plugins", StringComparison.Ordinal), discovered.ToString());
        var found = DiscoveredStream().Matches(discovered.StdOut).Select(m => (m.Groups[1].Value, m.Groups[2].Value.Trim())).ToList();
        var expected = new[] { ("container", container), ("video", video), ("audio", audio) }
            .Where(e => e.Item2 is not null).Select(e => (e.Item1, e.Item2!)).ToList();
        Assert.True(expected.Order().SequenceEqual(found.Order()), $"expected {string.Join(", ", expected)}; gst-discoverer found {string.Join(", ", found)}\n{discovered}");

        // A few seconds of the stream through decodebin to raw video and audio: each kind on its own branch (the
        // caps choose the pad, whatever order decodebin adds them in), to fakesinks that take them as they come.
        // The source's last buffer ends mid-frame; what GStreamer calls an error is on the bus, which -q leaves printed.
        var pipeline = new List<string> { "-q", "souphttpsrc", $"location={url}", "num-buffers=100", "!", "decodebin", "name=d" };
        foreach (var (kind, _) in expected.Where(e => e.Item1 != "container"))
        {
            pipeline.AddRange(["d.", "!", $"{kind}/x-raw", "!", "queue", "!", "fakesink", "sync=false"]);
        }

        var decoded = await ProcessRunner.RunAsync("gst-launch-1.0", pipeline, TimeSpan.FromSeconds(40));
        Assert.True(decoded.ExitCode == 0 && decoded.StdOut.Trim() == "" && decoded.StdErr.Trim() == "", $"gst-launch-1.0 {string.Join(' ', pipeline)}\n{decoded}");
    }

    [GeneratedRegex(@"^\s*(container|video|audio) #\d+: (.+)$", RegexOptions.Multiline)]
    private static partial Regex DiscoveredStream();
}
