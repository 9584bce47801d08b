using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// Streams that play a file (ffserver's re-streaming), for real: files ffmpeg writes at the start (4 s of H.264 + AAC
/// as MP4, MPEG-TS and FLV, of VP8 + Opus as Matroska), served as MPEG-TS, WebM and HLS, read by ffprobe and ffmpeg,
/// played past their end (looping), once with NoLoop, and in Chromium.
/// </summary>
public sealed class FileStreamTests(FileStreamFiles files) : IClassFixture<FileStreamFiles>
{
    private string Config(string streams) => $"MaxClients 100\nMaxBandwidth 100000\n{streams}<Stream stat.html>\nFormat status\n</Stream>\n";

    [Theory]
    [InlineData("clip.mp4", "mpegts", "h264", "aac")]
    [InlineData("fragmented.mp4", "mpegts", "h264", "aac")]
    [InlineData("clip.mov", "mpegts", "h264", "aac")]
    [InlineData("clip.ts", "mpegts", "h264", "aac")]
    [InlineData("clip.flv", "mpegts", "h264", "aac")]
    [InlineData("clip.mkv", "webm", "vp8", "opus")]
    public async Task A_file_is_served_in_the_streams_format_and_decodes_with_no_error(string file, string format, string video, string audio)
    {
        await using var server = await TestServer.StartAsync(Config($"<Stream s>\nFormat {format}\nFile {files.Path(file)}\n</Stream>\n"));
        await Tools.WaitForStreamAsync(server, "s", TimeSpan.FromSeconds(10));
        await AssertPlaysAsync(server.Url("s"), video, audio);
    }

    [Fact]
    public async Task A_file_whose_codecs_the_format_cannot_carry_is_encoded_with_the_streams_codec_settings()
    {
        await using var server = await TestServer.StartAsync(Config(
            $"<Stream enc.webm>\nFile {files.Path("clip.mp4")}\nVideoCodec libvpx\nVideoSize 160x120\nVideoFrameRate 25\nVideoBitRate 200\n"
            + "AudioCodec libopus\nAudioBitRate 48\nAudioSampleRate 48000\nAudioChannels 1\n</Stream>\n"));
        await Tools.WaitForStreamAsync(server, "enc.webm", TimeSpan.FromSeconds(15));
        var streams = await AssertPlaysAsync(server.Url("enc.webm"), "vp8", "opus");
        Assert.Contains(streams, s => s.TryGetProperty("width", out var w) && w.GetInt32() == 160);
    }

    [Fact]
    public async Task A_file_plays_past_its_end_with_continuous_increasing_times_as_mpegts_and_as_hls()
    {
        await using var server = await TestServer.StartAsync(Config($"<Stream s.ts>\nFormat mpegts\nHLSSegmentDuration 1\nFile {files.Path("clip.mp4")}\n</Stream>\n"));
        await Tools.WaitForStreamAsync(server, "s.ts", TimeSpan.FromSeconds(10));

        // 6 s of the stream, 1.5 times the file: it crosses the loop once, whenever the viewer joins.
        var progressive = VideoTimesAsync(server.Url("s.ts"), 6);
        var hls = VideoTimesAsync(server.Url("s.ts/index.m3u8"), 6);
        foreach (var (what, times) in new[] { ("MPEG-TS", await progressive), ("HLS", await hls) })
        {
            Assert.True(times.Count >= 140, $"{what}: {times.Count} video packets");
            Assert.True(times[^1] - times[0] >= 5.5, $"{what}: {times[0]} to {times[^1]}");
            var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
            Assert.True(gaps.All(g => g > 0 && g < 0.1), $"{what}: gaps {string.Join(" ", gaps.Where(g => g <= 0 || g >= 0.1))}");
        }

        Assert.True(server.Server.Sources["s.ts"].Passes >= 2);
    }

    [Fact]
    public async Task An_rtmp_player_plays_a_file_stream()
    {
        await using var server = await TestServer.StartAsync("RTMPPort 1935\n" + Config($"<Stream s.flv>\nFormat flv\nFile {files.Path("clip.mp4")}\n</Stream>\n"));
        await Tools.WaitForStreamAsync(server, "s.flv", TimeSpan.FromSeconds(10));
        await AssertPlaysAsync(server.RtmpUrl("live/s.flv"), "h264", "aac");
    }

    [Fact]
    public async Task With_NoLoop_the_stream_ends_after_one_pass_and_the_viewers_response_ends()
    {
        await using var server = await TestServer.StartAsync(Config($"<Stream once.ts>\nFormat mpegts\nNoLoop\nFile {files.Path("clip.flv")}\n</Stream>\n"));
        await Tools.WaitForStreamAsync(server, "once.ts", TimeSpan.FromSeconds(10));

        // ffmpeg reads to the end: the response ends cleanly after the file's one pass (4 s), with no error.
        var started = DateTime.UtcNow;
        var decoded = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-i", server.Url("once.ts"), "-f", "null", "-"], TimeSpan.FromSeconds(15));
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(6), $"{(DateTime.UtcNow - started).TotalSeconds} s");
        Assert.Equal(1, server.Server.Sources["once.ts"].Passes);
        Assert.Contains(server.Log.Lines, l => l.Contains("the file " + files.Path("clip.flv") + " has been played once (NoLoop)", StringComparison.Ordinal));

        // A viewer after the end is told so.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var late = await http.GetAsync(server.Url("once.ts"));
        Assert.Empty(await late.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_OnDemand_file_stream_starts_with_its_first_viewer_and_stops_after_the_last()
    {
        await using var server = await TestServer.StartAsync(Config($"<Stream od.ts>\nFormat mpegts\nOnDemand 1\nFile {files.Path("clip.ts")}\n</Stream>\n"));
        var source = server.Server.Sources["od.ts"];
        Assert.False(source.Running);
        Assert.Null(server.Server.Streams["od.ts"].Output);

        var decoded = await Tools.DecodeAsync(server.Url("od.ts"), 50);
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());
        Assert.True(SpinWait.SpinUntil(() => !source.Running, TimeSpan.FromSeconds(5)), "the source still runs 5 s after its viewer left");
        Assert.Contains(server.Log.Lines, l => l.Contains("Stream od.ts (OnDemand): no viewer for 1 s: stopping", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Chromium_plays_a_webm_file_stream_on_the_index_page()
    {
        await using var server = await TestServer.StartAsync(Config($"<Stream clip.webm>\nFile {files.Path("clip.mkv")}\n</Stream>\n"));
        await Tools.WaitForStreamAsync(server, "clip.webm", TimeSpan.FromSeconds(10));
        await Task.Delay(2000); // the viewer's start burst (Preroll) is there

        var run = await Browser.RunAsync("play.mjs", server.Url("/"), 5);
        var end = run.GetProperty("end");
        Assert.Equal(JsonValueKind.Null, end.GetProperty("error").ValueKind);
        Assert.Equal(320, end.GetProperty("videoWidth").GetInt32());
        Assert.True(run.GetProperty("advanced").GetDouble() >= 2.0, run.ToString());
    }

    [Fact]
    public async Task The_status_json_lists_a_file_stream_with_its_file()
    {
        await using var server = await TestServer.StartAsync(Config($"<Stream s.ts>\nFormat mpegts\nReadOnlyFile {files.Path("clip.ts")}\n</Stream>\n"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var json = JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json")));
        var stream = json.RootElement.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "s.ts");
        Assert.Equal($"file {files.Path("clip.ts")}", stream.GetProperty("feed").GetString());
        Assert.Empty(json.RootElement.GetProperty("skippedStreams").EnumerateArray());
    }

    [Fact]
    public async Task Every_block_a_file_streams_readers_lend_is_back_in_the_pool_once_the_server_has_stopped()
    {
        Sluice.Media.Buffers.BlockPool pool;
        await using (var server = await TestServer.StartAsync(Config(
            $"<Stream a.ts>\nFormat mpegts\nHLSSegmentDuration 1\nFile {files.Path("clip.mp4")}\n</Stream>\n"
            + $"<Stream b.webm>\nFile {files.Path("clip.mkv")}\n</Stream>\n<Stream c.ts>\nFormat mpegts\nHLS off\nNoLoop\nFile {files.Path("clip.flv")}\n</Stream>\n")))
        {
            pool = server.Server.Buffers;
            pool.TrackLeaks = true;
            await Tools.WaitForStreamAsync(server, "a.ts", TimeSpan.FromSeconds(10));
            var readers = await Task.WhenAll(
                Tools.DecodeAsync(server.Url("a.ts"), 60),
                Tools.DecodeAsync(server.Url("a.ts/index.m3u8"), 30),
                Tools.DecodeAsync(server.Url("b.webm"), 60),
                Tools.DecodeAsync(server.Url("c.ts"), 60));
            Assert.All(readers, r => Assert.True(r.ExitCode == 0 && r.StdErr.Trim() == "", r.ToString()));
            Assert.True(pool.Outstanding > 0, "the rings keep the last GOP for the next viewer while the server runs");
        }

        // Stopped in the middle of a pass: the sources' readers, the feeds' rings and the segments have let go.
        Assert.True(SpinWait.SpinUntil(() => pool.Outstanding == 0, TimeSpan.FromSeconds(10)), pool.DescribeOutstanding());
    }

    [Fact]
    public async Task A_file_found_damaged_while_playing_is_logged_once_with_its_offset_and_only_its_stream_stops()
    {
        // The second half of the Matroska file is zeros: its header and first clusters are sound, the rest is no element.
        string damaged = files.Path("damaged.mkv");
        var bytes = await File.ReadAllBytesAsync(files.Path("clip.mkv"));
        Array.Clear(bytes, bytes.Length / 2, bytes.Length - bytes.Length / 2);
        await File.WriteAllBytesAsync(damaged, bytes);
        await using var server = await TestServer.StartAsync(Config(
            $"<Stream bad.webm>\nFile {damaged}\n</Stream>\n<Stream good.ts>\nFormat mpegts\nHLS off\nFile {files.Path("clip.ts")}\n</Stream>\n"));
        var source = server.Server.Sources["bad.webm"];
        await source.Stopped.WaitAsync(TimeSpan.FromSeconds(10));

        var lines = server.Log.Lines.Where(l => l.Contains("Stream bad.webm: the file", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines, l => l.Contains("is damaged", StringComparison.Ordinal));
        Assert.Matches(@"is damaged, the stream has stopped: Matroska: .+ \(at byte \d+\)", line);
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
        Assert.False(source.Running);

        var decoded = await Tools.DecodeAsync(server.Url("good.ts"), 50);
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());
    }

    /// <summary>ffprobe finds these two codecs at <paramref name="url"/> and ffmpeg decodes 50 frames of it, both with no error; the streams ffprobe saw.</summary>
    private static async Task<List<JsonElement>> AssertPlaysAsync(string url, string video, string audio)
    {
        var probe = await Tools.ProbeStreamsAsync(url);
        Assert.True(probe.ExitCode == 0 && probe.StdErr.Trim() == "", probe.ToString());
        using var json = JsonDocument.Parse(probe.StdOut);
        var streams = json.RootElement.GetProperty("streams").EnumerateArray().Select(s => s.Clone()).ToList();
        Assert.Equal(new[] { video, audio }.Order(), streams.Select(s => s.GetProperty("codec_name").GetString()).Order());

        var decoded = await Tools.DecodeAsync(url, 50);
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());
        return streams;
    }

    /// <summary>The decode times of the video packets ffprobe reads from a URL in <paramref name="seconds"/> of media.</summary>
    private static async Task<List<double>> VideoTimesAsync(string url, int seconds)
    {
        var run = await ProcessRunner.RunAsync("ffprobe",
            ["-v", "error", "-rw_timeout", "5000000", "-select_streams", "v:0", "-read_intervals", $"%+{seconds}", "-show_entries", "packet=dts_time", "-of", "csv=p=0", url],
            TimeSpan.FromSeconds(seconds + 10));
        Assert.True(run.ExitCode == 0 && run.StdErr.Trim() == "", run.ToString());
        return [.. run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => double.Parse(t.TrimEnd(','), CultureInfo.InvariantCulture))];
    }
}

/// <summary>The files the <see cref="FileStreamTests"/> play, written by ffmpeg once for the class: 4 s each, 25 fps.</summary>
public sealed class FileStreamFiles : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sluice-files-").FullName;

    public string Path(string name) => System.IO.Path.Combine(_folder, name);

    public async Task InitializeAsync()
    {
        string[] input = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4"];
        string[] h264 = ["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"];
        string[] vp8Opus = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-g", "25", "-c:a", "libopus", "-b:a", "64k"];
        var writes = new (string Name, string[] Args)[]
        {
            ("clip.mp4", [.. input, .. h264]),
            ("fragmented.mp4", [.. input, .. h264, "-movflags", "frag_keyframe+empty_moov"]),
            ("clip.ts", [.. input, .. h264]),
            ("clip.flv", [.. input, .. h264]),
            ("clip.mkv", [.. input, .. vp8Opus]),
            ("clip.mov", [.. input, .. h264]),
        }.Select(w => ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-y", .. w.Args, Path(w.Name)], TimeSpan.FromSeconds(60)));
        foreach (var result in await Task.WhenAll(writes))
        {
            Assert.True(result.ExitCode == 0, result.ToString());
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}
