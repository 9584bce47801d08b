using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>Streams get what their codec settings ask for: Sluice runs ffmpeg when the feed does not already carry it.</summary>
public sealed class TranscodingTests
{
    /// <summary>The seed's livestream section, as ffserver.conf wrote it.</summary>
    private const string SeedStream = """
        <Stream livestream>
        Format webm
        Feed livestream.ffm
        VideoCodec libvpx
        VideoFrameRate 30
        VideoBitRate 512
        VideoSize 320x240
        AVOptionVideo preset medium
        AudioCodec libvorbis
        AudioBitRate 128
        AudioChannels 2
        </Stream>
        """;

    private static string Config(string streams) => $"""
        MaxClients 100
        MaxBandwidth 100000
        <Feed livestream.ffm>
        FileMaxSize 2M
        ACL allow 127.0.0.1
        </Feed>
        {streams}
        <Stream stat.html>
        Format status
        </Stream>
        """;

    [Fact]
    public async Task The_seed_stream_gets_vp8_and_vorbis_at_its_size_rate_and_bitrate_from_an_h264_aac_feed()
    {
        await using var server = await TestServer.StartAsync(Config(SeedStream));
        // testsrc2 rather than testsrc: libvpx makes at most ~360 kbit/s of testsrc at 320x240 even at its best
        // quality, so with testsrc no encoder could show that it honours 512 kbit/s.
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), FfmpegPublisher.MatroskaH264Aac, size: "1280x720", pattern: "testsrc2", rate: 25);
        await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(30));

        var probe = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-show_entries",
            "stream=codec_name,width,height,r_frame_rate,channels", "-of", "json", server.Url("livestream")], TimeSpan.FromSeconds(30));
        Assert.Equal(0, probe.ExitCode);
        using (var json = JsonDocument.Parse(probe.StdOut))
        {
            var streams = json.RootElement.GetProperty("streams").EnumerateArray().ToList();
            Assert.Equal(2, streams.Count);
            Assert.Equal("vp8", streams[0].GetProperty("codec_name").GetString());
            Assert.Equal(320, streams[0].GetProperty("width").GetInt32());
            Assert.Equal(240, streams[0].GetProperty("height").GetInt32());
            Assert.Equal("30/1", streams[0].GetProperty("r_frame_rate").GetString());
            Assert.Equal("vorbis", streams[1].GetProperty("codec_name").GetString());
            Assert.Equal(2, streams[1].GetProperty("channels").GetInt32());
        }

        // 10 s of video by its own timestamps, read live: within ±30 % of 512 kbit/s.
        var packets = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-select_streams", "v:0",
            "-read_intervals", "%+13", "-show_entries", "packet=pts_time,size", "-of", "csv=p=0", server.Url("livestream")], TimeSpan.FromSeconds(40));
        Assert.Equal(0, packets.ExitCode);
        var rows = packets.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(','))
            .Select(p => (Time: double.Parse(p[0], CultureInfo.InvariantCulture), Size: long.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
        double start = rows[0].Time + 2; // past the viewer's start burst
        long bits = rows.Where(r => r.Time >= start && r.Time < start + 10).Sum(r => r.Size) * 8;
        double kbps = bits / 10.0 / 1000;
        Assert.True(kbps is >= 512 * 0.7 and <= 512 * 1.3, $"video bitrate {kbps:0} kbit/s over 10 s; asked for 512");

        var decoded = await Tools.DecodeAsync(server.Url("livestream"), 60);
        Assert.Equal(0, decoded.ExitCode);
        Assert.Equal("", decoded.StdErr.Trim());

        var played = await Browser.RunAsync("play.mjs", server.Url("/"), 4);
        Assert.Equal(320, played.GetProperty("end").GetProperty("videoWidth").GetInt32());
        Assert.True(played.GetProperty("advanced").GetDouble() >= 1.5, played.ToString());
        Assert.False(feeder.HasExited, feeder.StdErr);
    }

    [Fact]
    public async Task A_feed_that_already_matches_passes_through_with_no_encoder()
    {
        await using var server = await TestServer.StartAsync(Config("""
            <Stream livestream>
            Format webm
            Feed livestream.ffm
            VideoCodec libvpx
            VideoSize 320x240
            VideoFrameRate 30
            VideoBitRate 512
            AudioCodec libvorbis
            AudioBitRate 128
            AudioChannels 2
            AudioSampleRate 48000
            </Stream>
            """));
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(20));

        using var status = await StatusAsync(server);
        var stream = status.RootElement.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "livestream");
        Assert.Equal("pass-through", stream.GetProperty("mode").GetString());
        Assert.Equal(0, status.RootElement.GetProperty("encoders").GetArrayLength());
        Assert.Empty(EncoderProcesses("512k"));
        await server.Log.WaitForAsync("Stream livestream: the feed carries what it asks for", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Two_sizes_of_one_feed_come_from_one_ffmpeg_and_both_play()
    {
        await using var server = await TestServer.StartAsync(Config("""
            <Stream big>
            Feed livestream.ffm
            VideoCodec libvpx
            VideoSize 320x240
            VideoBitRate 301
            AudioCodec libopus
            AudioSampleRate 48000
            AudioChannels 2
            </Stream>
            <Stream small>
            Feed livestream.ffm
            VideoCodec libvpx
            VideoSize 160x120
            VideoBitRate 157
            AudioCodec libopus
            AudioSampleRate 48000
            AudioChannels 2
            </Stream>
            """));
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), FfmpegPublisher.MatroskaH264Aac, size: "640x360", rate: 25);
        await Tools.WaitForStreamAsync(server, "big", TimeSpan.FromSeconds(30));
        await Tools.WaitForStreamAsync(server, "small", TimeSpan.FromSeconds(30));

        var processes = EncoderProcesses("301k").Concat(EncoderProcesses("157k")).Distinct().ToList();
        Assert.Single(processes);
        using (var status = await StatusAsync(server))
        {
            var encoder = Assert.Single(status.RootElement.GetProperty("encoders").EnumerateArray().ToList());
            Assert.Equal("big,small", string.Join(",", encoder.GetProperty("streams").EnumerateArray().Select(s => s.GetString())));
            Assert.Equal(processes[0], encoder.GetProperty("processId").GetInt32());
            Assert.Equal("running", encoder.GetProperty("state").GetString());
        }

        foreach (var (name, width) in new[] { ("big", 320), ("small", 160) })
        {
            var probe = await Tools.ProbeStreamsAsync(server.Url(name));
            using var json = JsonDocument.Parse(probe.StdOut);
            var video = json.RootElement.GetProperty("streams").EnumerateArray().First();
            Assert.Equal(width, video.GetProperty("width").GetInt32());
            var decoded = await Tools.DecodeAsync(server.Url(name), 30);
            Assert.Equal(0, decoded.ExitCode);
            Assert.Equal("", decoded.StdErr.Trim());
        }
    }

    [Fact]
    public async Task An_encoder_killed_mid_stream_is_restarted_and_its_viewer_goes_on()
    {
        await using var server = await TestServer.StartAsync(Config("""
            <Stream livestream>
            Feed livestream.ffm
            VideoCodec libvpx
            VideoSize 160x120
            VideoBitRate 200
            AudioCodec libopus
            AudioSampleRate 48000
            AudioChannels 2
            </Stream>
            """));
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), FfmpegPublisher.MatroskaH264Aac, rate: 25);
        await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(30));
        await using var viewer = await RawViewer.OpenAsync(server.Url("livestream"), TimeSpan.FromSeconds(10));
        Assert.True(await viewer.WaitForBytesAsync(20_000, TimeSpan.FromSeconds(10)));
        // A second viewer records 8 s across the kill, to check the timeline the restart leaves behind.
        string recording = Path.Combine(Path.GetTempPath(), $"sluice-restart-{Guid.NewGuid():N}.mkv");
        var recorder = ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-i", server.Url("livestream"),
            "-t", "8", "-c", "copy", "-f", "matroska", "-y", recording], TimeSpan.FromSeconds(30));
        await Task.Delay(1500);

        var transcoder = server.Server.Transcoders["livestream.ffm"];
        int pid = transcoder.Encoders.Single().ProcessId ?? throw new InvalidOperationException("no encoder runs");
        using (var process = Process.GetProcessById(pid))
        {
            process.Kill(); // SIGKILL
        }

        var killed = Stopwatch.StartNew();
        long before = viewer.Bytes;
        // Frames again within 5 s: the restarted encoder's output reaches the same connection.
        Assert.True(await viewer.WaitForBytesAsync(before + 20_000, TimeSpan.FromSeconds(5)), $"{viewer.Bytes - before} bytes in 5 s after the kill");
        Assert.False(viewer.Ended);
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(5));
        await server.Log.WaitForAsync("Feed livestream.ffm: encoder for streams livestream exited with code", TimeSpan.FromSeconds(1));

        using var status = await StatusAsync(server);
        var encoder = Assert.Single(status.RootElement.GetProperty("encoders").EnumerateArray().ToList());
        Assert.Equal(1, encoder.GetProperty("restarts").GetInt32());
        Assert.Equal(2, encoder.GetProperty("starts").GetInt32());
        Assert.NotEqual(pid, encoder.GetProperty("processId").GetInt32());
        var page = await new HttpClient().GetStringAsync(server.Url("stat.html"));
        Assert.Contains("<h2>Encoders</h2>", page, StringComparison.Ordinal);

        try
        {
            Assert.Equal(0, (await recorder).ExitCode);
            var decoded = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", recording, "-f", "null", "-"], TimeSpan.FromSeconds(30));
            Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());
            var times = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", recording], TimeSpan.FromSeconds(30));
            var pts = times.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(t => double.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.True(pts.Count > 20, $"{pts.Count} video packets in 8 s (5 fps, ffserver's default rate)");
            var steps = pts.Zip(pts.Skip(1), (a, b) => b - a).ToList();
            // Continuous: times only move forward, and the restart shows as one step of at most a second.
            Assert.True(steps.All(d => d > 0), "video times went backwards across the restart");
            Assert.True(steps.Max() < 1.0, $"a gap of {steps.Max():0.###} s in the video times");
        }
        finally
        {
            File.Delete(recording);
        }
    }

    [Fact]
    public async Task The_encoder_stops_when_the_feed_ends()
    {
        await using var server = await TestServer.StartAsync(Config("""
            <Stream livestream>
            Feed livestream.ffm
            VideoCodec libvpx
            VideoSize 160x120
            VideoBitRate 203
            NoAudio
            </Stream>
            """));
        using (var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), FfmpegPublisher.MatroskaH264Aac, rate: 25))
        {
            await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(30));
            Assert.Single(EncoderProcesses("203k"));
        }

        // The process goes first; the run then drains ffmpeg's pipes before its group says "stopped": within the same 10 s.
        var encoder = () => server.Server.Transcoders["livestream.ffm"].Encoders.Single();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((EncoderProcesses("203k").Count > 0 || encoder().State != "stopped") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Empty(EncoderProcesses("203k"));
        Assert.Equal("stopped", encoder().State);
    }

    [Fact]
    public async Task An_on_demand_stream_encodes_only_while_it_has_viewers()
    {
        await using var server = await TestServer.StartAsync(Config("""
            <Stream livestream>
            Feed livestream.ffm
            VideoCodec libvpx
            VideoSize 160x120
            VideoBitRate 207
            NoAudio
            OnDemand 1
            </Stream>
            """));
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), FfmpegPublisher.MatroskaH264Aac, rate: 25);
        await server.Log.WaitForAsync("Stream livestream (test.conf:", TimeSpan.FromSeconds(20));
        await Task.Delay(1000);
        Assert.Empty(EncoderProcesses("207k"));

        await using (var viewer = await RawViewer.OpenAsync(server.Url("livestream"), TimeSpan.FromSeconds(10)))
        {
            Assert.True(await viewer.WaitForBytesAsync(10_000, TimeSpan.FromSeconds(10)), "the on-demand stream sent nothing to its viewer");
            Assert.Single(EncoderProcesses("207k"));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (EncoderProcesses("207k").Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Empty(EncoderProcesses("207k"));
        await server.Log.WaitForAsync("Stream livestream (OnDemand): no viewer for 1 s: stopping its encoder", TimeSpan.FromSeconds(1));
    }

    private static async Task<JsonDocument> StatusAsync(TestServer server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json")));
    }

    /// <summary>This test process's ffmpeg encoders whose command line contains <paramref name="marker"/>.</summary>
    internal static List<int> EncoderProcesses(string marker) => Processes.Children(Environment.ProcessId)
        .Where(p => p.CommandLine.Contains("pipe:0", StringComparison.Ordinal) && p.CommandLine.Contains(marker, StringComparison.Ordinal))
        .Select(p => p.Pid)
        .ToList();
}
