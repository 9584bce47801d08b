using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sluice.Tests.Support;
using Sluice.Tests.Support.Conformance;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>HLS, LL-HLS and DASH of live streams, read by ffmpeg, ffprobe, Chromium with hls.js and Chromium's own HLS.</summary>
public sealed partial class HlsTests(ITestOutputHelper output)
{
    internal const string Config =
        "MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 8M\n</Feed>\n" +
        "<Stream live>\nFeed in.ffm\nFormat hls\nHLSSegmentDuration 1\n</Stream>\n" +
        "<Stream live.ts>\nFeed in.ffm\nFormat mpegts\nHLSFormat ts\nHLSSegmentDuration 1\n</Stream>\n";

    /// <summary>H.264 (a keyframe a second) + AAC in MPEG-TS, as most encoders push it.</summary>
    internal static readonly string[] H264Aac = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mpegts"];

    [Fact]
    public async Task Every_playlist_of_a_live_run_keeps_the_rules_and_ffmpeg_decodes_hls_and_dash()
    {
        await using var server = await TestServer.StartAsync(Config);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var fetchers = new[]
        {
            new HlsFetcher(http, server.Url("live/"), new HlsCapture("live", cmaf: true)),
            new HlsFetcher(http, server.Url("live.ts/"), new HlsCapture("live.ts", cmaf: false)),
        };

        // ffmpeg reads 10 s of each form while every playlist made in a 30 s live run is fetched, with what it lists.
        var decodes = new[] { "live/index.m3u8", "live.ts/index.m3u8", "live/manifest.mpd" }
            .Select(path => ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "10000000", "-i", server.Url(path), "-t", "10", "-f", "null", "-"], TimeSpan.FromSeconds(60)))
            .ToArray();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var fetcher in fetchers)
            {
                await fetcher.PollAsync();
            }

            await Task.Delay(150);
        }

        foreach (var fetcher in fetchers)
        {
            var capture = fetcher.Capture;
            output.WriteLine($"{capture.Name}: {capture.Playlists.Count} playlists, {fetcher.Segments} segments, {fetcher.Parts} parts checked");
            Assert.True(fetcher.Segments >= 20, $"{capture.Name}: only {fetcher.Segments} segments in 30 s");
            Assert.True(!capture.Cmaf || fetcher.Parts >= 60, $"{capture.Name}: only {fetcher.Parts} parts");

            // Every rule of the validator: the playlists, where segments start, and the timelines.
            var findings = Validator.CheckHls(capture);
            Assert.True(findings.Count == 0, Validator.Report(findings));
        }

        foreach (var decode in await Task.WhenAll(decodes))
        {
            Assert.True(decode.ExitCode == 0 && decode.StdErr.Trim() == "", decode.ToString());
        }
    }

    [Fact]
    public async Task The_first_playlist_of_a_new_stream_waits_until_it_offers_a_start_three_segments_from_the_end_and_the_status_page_counts_it()
    {
        await using var server = await TestServer.StartAsync(Config + "<Stream stat.html>\nFormat status\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        // The conformance validator over what the new stream serves from its first playlist on, as another player.
        var conformance = LiveConformance.CaptureAsync(http, server, "live", TimeSpan.FromSeconds(15), tsStream: "live.ts");
        foreach (string path in new[] { "live.ts/media.m3u8", "live/media.m3u8" })
        {
            // Asked for as soon as the stream has a segment under way: the answer comes when three are complete.
            string text = await WaitForPlaylistAsync(http, server.Url(path));
            int segments = text.Split('\n').Count(line => line.StartsWith("#EXTINF:", StringComparison.Ordinal));
            Assert.True(segments >= 3, $"{path}: the first playlist served lists {segments} segment(s):\n{text}");
            string newest = text.Split('\n').Last(line => line.EndsWith(".ts", StringComparison.Ordinal) || (line.EndsWith(".m4s", StringComparison.Ordinal) && !line.StartsWith('#')));
            byte[] segment = await http.GetByteArrayAsync(server.Url($"{path[..path.IndexOf('/')]}/{newest}"));
            Assert.NotEmpty(segment);
        }

        var live = await conformance;
        output.WriteLine(live.Summary);
        Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");

        // The status page counts the segment fetched above and each one the validator fetched, all from one address.
        using var status = JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json")));
        var hls = status.RootElement.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "live.ts").GetProperty("hls");
        output.WriteLine(hls.ToString());
        Assert.Equal("ts", hls.GetProperty("segmentFormat").GetString());
        Assert.True(hls.GetProperty("segments").GetInt64() >= 3, hls.ToString());
        Assert.Equal(1, hls.GetProperty("players").GetInt32());
        Assert.True(hls.GetProperty("playlists").GetInt64() >= 1 && hls.GetProperty("segmentsServed").GetInt64() == 1 + live.TsSegments, $"{live.Summary}\n{hls}");
        Assert.True(hls.GetProperty("bytesSent").GetInt64() > 1000, hls.ToString());
        Assert.Contains("<h2>HLS and DASH</h2>", await http.GetStringAsync(server.Url("stat.html")));
    }

    [Fact]
    public async Task A_blocking_reload_returns_when_the_next_part_is_ready_and_not_before()
    {
        await using var server = await TestServer.StartAsync(Config);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        await WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
        // The conformance validator over what the server serves meanwhile, as another player reloading beside the blocked one.
        var conformance = LiveConformance.CaptureAsync(http, server, "live", TimeSpan.FromSeconds(10), tsStream: "live.ts");

        for (int round = 0; round < 5; round++)
        {
            string now = await http.GetStringAsync(server.Url("live/media.m3u8"));
            var hint = PreloadHint().Match(now);
            Assert.True(hint.Success, now);
            long msn = long.Parse(hint.Groups[2].Value, CultureInfo.InvariantCulture);
            int part = int.Parse(hint.Groups[3].Value, CultureInfo.InvariantCulture);
            string partUri = hint.Groups[1].Value;
            Assert.False(PartLine(now, partUri), $"the hinted part {partUri} is listed already:\n{now}");

            var clock = Stopwatch.StartNew();
            string blocked = await http.GetStringAsync(server.Url($"live/media.m3u8?_HLS_msn={msn}&_HLS_part={part}"));
            var waited = clock.Elapsed;
            output.WriteLine($"_HLS_msn={msn}&_HLS_part={part}: answered after {waited.TotalMilliseconds:0} ms");
            Assert.True(PartLine(blocked, partUri), $"the answer does not list part {partUri}:\n{blocked}");
            Assert.True(waited < TimeSpan.FromSeconds(2), $"waited {waited}");
        }

        using var absurd = await http.GetAsync(server.Url("live/media.m3u8?_HLS_msn=99999999"));
        Assert.Equal(400, (int)absurd.StatusCode);
        using var garbage = await http.GetAsync(server.Url("live/media.m3u8?_HLS_msn=abc"));
        Assert.Equal(400, (int)garbage.StatusCode);

        var live = await conformance;
        output.WriteLine(live.Summary);
        Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");
    }

    [Fact]
    public async Task Segments_are_cacheable_with_etags_ranges_and_cors_and_playlists_are_short_lived()
    {
        await using var server = await TestServer.StartAsync(Config);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        string playlist = await WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
        string segment = playlist.Split('\n').First(l => l.EndsWith(".m4s", StringComparison.Ordinal) && !l.StartsWith('#'));

        using var whole = await http.GetAsync(server.Url($"live/{segment}"));
        Assert.Equal(200, (int)whole.StatusCode);
        Assert.Contains("immutable", whole.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Equal("*", whole.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.NotNull(whole.Content.Headers.LastModified);
        byte[] bytes = await whole.Content.ReadAsByteArrayAsync();

        using var range = new HttpRequestMessage(HttpMethod.Get, server.Url($"live/{segment}"));
        range.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 99);
        using var partial = await http.SendAsync(range);
        Assert.Equal(206, (int)partial.StatusCode);
        Assert.Equal(bytes[10..100], await partial.Content.ReadAsByteArrayAsync());

        using var again = new HttpRequestMessage(HttpMethod.Get, server.Url($"live/{segment}"));
        again.Headers.IfNoneMatch.Add(whole.Headers.ETag!);
        using var notModified = await http.SendAsync(again);
        Assert.Equal(304, (int)notModified.StatusCode);

        using var list = await http.GetAsync(server.Url("live/media.m3u8"));
        Assert.Equal("application/vnd.apple.mpegurl", list.Content.Headers.ContentType!.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(1), list.Headers.CacheControl!.MaxAge);

        using var gone = await http.GetAsync(server.Url("live/abc-1.m4s"));
        Assert.Equal(404, (int)gone.StatusCode);
        using var redirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var progressive = await redirect.GetAsync(server.Url("live"));
        Assert.Equal(302, (int)progressive.StatusCode);
        Assert.Equal("/live/index.m3u8", progressive.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Renditions_of_one_feed_are_variants_of_one_multivariant_playlist()
    {
        await using var server = await TestServer.StartAsync(
            "MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 8M\n</Feed>\n" +
            "<Stream big>\nFeed in.ffm\nFormat hls\n</Stream>\n" +
            "<Stream small>\nFeed in.ffm\nFormat hls\nVideoCodec libx264\nVideoSize 160x120\nVideoBitRate 100\nVideoFrameRate 15\nAudioCodec aac\nAudioBitRate 32\nAudioSampleRate 48000\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        await WaitForPlaylistAsync(http, server.Url("small/media.m3u8"));
        string multivariant = await http.GetStringAsync(server.Url("big/index.m3u8"));
        output.WriteLine(multivariant);
        var variants = StreamInf().Matches(multivariant).Select(m => (Bandwidth: long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Codecs: m.Groups[2].Value, Resolution: m.Groups[3].Value, Uri: m.Groups[4].Value)).ToList();
        Assert.Equal(2, variants.Count);
        Assert.Equal(("320x240", "media.m3u8"), (variants[0].Resolution, variants[0].Uri));
        Assert.Equal(("160x120", "../small/media.m3u8"), (variants[1].Resolution, variants[1].Uri));
        Assert.All(variants, v => Assert.Matches("^avc1\\.[0-9a-f]{6},mp4a\\.40\\.2$", v.Codecs));
        Assert.True(variants[1].Bandwidth < variants[0].Bandwidth, multivariant);
        var decoded = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", server.Url("big/index.m3u8"), "-map", "0:p:1", "-t", "3", "-f", "null", "-"], TimeSpan.FromSeconds(60));
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());
    }

    [Fact]
    public async Task Dash_js_plays_the_DASH_manifest_in_Chromium()
    {
        await using var server = await TestServer.StartAsync(Config);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        await WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
        var conformance = LiveConformance.CaptureAsync(http, server, "live", TimeSpan.FromSeconds(10));
        var run = await Browser.RunAsync("dash.mjs", server.Url("live/manifest.mpd"), 10);
        var live = await conformance;
        output.WriteLine(live.Summary);
        Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");
        double played = Advanced(run, 0, 10);
        output.WriteLine($"dash.js played {played:0.0} s in 10 s");
        Assert.True(run.GetProperty("dashErrors").GetArrayLength() == 0, run.ToString());
        Assert.True(played >= 5, $"dash.js: {run}");
    }

    [Fact]
    public async Task Dash_js_plays_on_when_the_publisher_returns_in_a_new_period_and_the_mpd_keeps_every_rule_across_it()
    {
        await using var server = await TestServer.StartAsync(Config);
        var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            await WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
            var conformance = LiveConformance.CaptureAsync(http, server, "live", TimeSpan.FromSeconds(20));
            var player = Browser.RunAsync("dash.mjs", server.Url("live/manifest.mpd"), 24);

            // The publisher drops 8 s in and comes back 2 s later: its segments begin a second Period.
            await Task.Delay(8000);
            feeder.Dispose();
            await Task.Delay(2000);
            feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);

            var live = await conformance;
            output.WriteLine(live.Summary);
            Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");
            string mpd = await http.GetStringAsync(server.Url("live/manifest.mpd"));
            Assert.Contains("<Period id=\"1\" start=\"PT", mpd, StringComparison.Ordinal);

            var run = await player;
            double before = Advanced(run, 0, 8), after = Advanced(run, 16, 24);
            output.WriteLine($"dash.js played {before:0.0} s in the first 8 s and {after:0.0} s in the 8 s from 6 s after the publisher came back; errors: {run.GetProperty("dashErrors")}");
            Assert.True(run.GetProperty("dashErrors").GetArrayLength() == 0, run.ToString());
            Assert.True(before >= 4, $"dash.js before the drop: {run}");
            Assert.True(after >= 4, $"dash.js after the publisher came back: {run}");
        }
        finally
        {
            feeder.Dispose();
        }
    }

    [Fact]
    public async Task Behind_the_example_nginx_edge_cache_200_players_cost_sluice_a_handful_of_requests_a_segment()
    {
        string dir = Directory.CreateTempSubdirectory("sluice-edge-").FullName;
        string log = Path.Combine(dir, "sluice-access.log");
        await using var server = await TestServer.StartAsync($"CustomLog {log}\n" + Config);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264Aac);
        int edgePort = Ports.Free();
        string conf = (await File.ReadAllTextAsync(Path.Combine(Configs.RepoRoot, "examples", "nginx-edge.conf")))
            .Replace("listen 8080;", $"listen 127.0.0.1:{edgePort};", StringComparison.Ordinal)
            .Replace("server 127.0.0.1:8090;", $"server 127.0.0.1:{server.Port};", StringComparison.Ordinal)
            .Replace("/var/cache/nginx/sluice", Path.Combine(dir, "cache"), StringComparison.Ordinal)
            .Replace("worker_processes auto;", "user root; worker_processes 1;", StringComparison.Ordinal); // the test folder is root's alone
        await File.WriteAllTextAsync(Path.Combine(dir, "nginx.conf"), conf);
        var nginx = ProcessRunner.Start("nginx", ["-p", dir, "-c", Path.Combine(dir, "nginx.conf"), "-g", $"daemon off; pid {dir}/nginx.pid; error_log {dir}/error.log;"]);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 400 }) { Timeout = TimeSpan.FromSeconds(20) };
            string edge = $"http://127.0.0.1:{edgePort}/live/";
            await WaitForPlaylistAsync(http, edge + "media.m3u8");

            // 200 players for 8 s: each polls the playlist twice a second and fetches every segment it lists. Beside
            // them the conformance validator reads what nginx serves (HLS fMP4 with its parts, MPEG-TS HLS, DASH), once
            // each: what it asks of Sluice through the cache is counted below with the players'.
            int fetched = 0;
            var conformance = LiveConformance.CaptureAsync(http, $"http://127.0.0.1:{edgePort}/", "live", TimeSpan.FromSeconds(8), tsStream: "live.ts");
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
            var players = Enumerable.Range(0, 200).Select(async _ =>
            {
                var seen = new HashSet<string>();
                while (!stop.IsCancellationRequested)
                {
                    string playlist = await http.GetStringAsync(edge + "media.m3u8");
                    foreach (string uri in playlist.Split('\n').Where(l => l.EndsWith(".m4s", StringComparison.Ordinal) && !l.StartsWith('#')))
                    {
                        if (seen.Add(uri))
                        {
                            using var segment = await http.GetAsync(edge + uri);
                            Assert.Equal(200, (int)segment.StatusCode);
                            Interlocked.Increment(ref fetched);
                        }
                    }

                    await Task.Delay(500);
                }
            }).ToArray();
            await Task.WhenAll(players);
            var live = await conformance;
            output.WriteLine(live.Summary);
            Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");
            await Task.Delay(500);

            // Sluice's access log: requests per segment and per playlist second.
            var lines = (await File.ReadAllLinesAsync(log)).Where(l => l.Contains("/live/", StringComparison.Ordinal)).ToList();
            var perSegment = lines.Select(l => SegmentRequest().Match(l)).Where(m => m.Success).GroupBy(m => m.Groups[1].Value).Select(g => g.Count()).ToList();
            int playlists = lines.Count(l => l.Contains("/live/media.m3u8", StringComparison.Ordinal));
            output.WriteLine($"200 players through nginx fetched {fetched} segments; Sluice answered {perSegment.Sum()} segment requests for {perSegment.Count} segments (at most {perSegment.DefaultIfEmpty().Max()} for one) and {playlists} playlist requests");
            Assert.True(fetched >= 200 * 4, $"the players fetched only {fetched} segments");
            Assert.True(perSegment.Count >= 4 && perSegment.Max() <= 3, $"requests per segment at Sluice: {string.Join(", ", perSegment)}");
            Assert.True(playlists <= 8 * 2 * 3, $"{playlists} playlist requests reached Sluice in 8 s");
        }
        finally
        {
            ProcessRunner.Kill(nginx);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>How far currentTime moved between two moments of a run (seconds of the run).</summary>
    internal static double Advanced(JsonElement run, double from, double to)
    {
        var samples = run.GetProperty("samples").EnumerateArray()
            .Where(s => s.GetProperty("t").GetDouble() >= from && s.GetProperty("t").GetDouble() <= to)
            .Select(s => s.GetProperty("currentTime").GetDouble()).ToList();
        return samples.Count < 2 ? 0 : samples[^1] - samples.Where(t => t > 0).DefaultIfEmpty(samples[^1]).First();
    }

    internal static async Task<string> WaitForPlaylistAsync(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            string state;
            try
            {
                using var response = await http.GetAsync(url);
                string text = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && text.Contains("#EXTINF", StringComparison.Ordinal))
                {
                    return text;
                }

                state = $"{(int)response.StatusCode} {text}";
            }
            catch (HttpRequestException ex)
            {
                state = ex.Message; // a server (nginx) still starting
            }

            Assert.True(DateTime.UtcNow < deadline, $"{url}: no segment within 30 s ({state})");
            await Task.Delay(200);
        }
    }

    private static bool PartLine(string playlist, string uri) =>
        playlist.Split('\n').Any(l => l.StartsWith("#EXT-X-PART:", StringComparison.Ordinal) && l.Contains($"URI=\"{uri}\"", StringComparison.Ordinal));

    [GeneratedRegex("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"([0-9a-z]+-([0-9]+)\\.([0-9]+)\\.m4s)\"")]
    private static partial Regex PreloadHint();

    [GeneratedRegex("GET /live/([0-9a-z]+-[0-9]+\\.m4s) ")]
    private static partial Regex SegmentRequest();

    [GeneratedRegex("#EXT-X-STREAM-INF:BANDWIDTH=([0-9]+),CODECS=\"([^\"]+)\",RESOLUTION=([0-9x]+)\n(\\S+)")]
    private static partial Regex StreamInf();
}
