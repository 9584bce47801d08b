using System.Text.Json;
using System.Text.RegularExpressions;
using Sluice.Tests.Support;
using Sluice.Tests.Support.Conformance;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// hls.js in low-latency mode against Sluice's LL-HLS, judged on what a viewer sees: no stall, no jump over a gap, next
/// to no dropped frames; and going on after the publisher returns. They run alone: beside the encoders and players of
/// other tests, a 2-core machine delays the feed's parts past hls.js's playlist timeout, which says nothing of the server.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LowLatencyHlsTests(ITestOutputHelper output)
{
    /// <summary>
    /// The test config with the default segment duration (2 s; parts of 0.25 s), on which hls.js gives a blocking
    /// playlist request max(3 part targets, 0.8 target duration) = 1.6 s.
    /// </summary>
    private static readonly string DefaultSegmentsConfig = HlsTests.Config.Replace("HLSSegmentDuration 1\n", "", StringComparison.Ordinal);

    /// <summary>
    /// H.264 + AAC in MPEG-TS muxed for low latency, as an LL-HLS publisher is told to (docs/configuration.md, Low
    /// latency and the publisher): each packet sent as it is muxed and each AAC frame a PES of its own. With ffmpeg's
    /// defaults the feed comes in 32 KiB writes and its AAC in PES of several frames, about every 0.32 s here, which
    /// the part hold-back then has to absorb too.
    /// </summary>
    internal static readonly string[] H264AacLowLatency = [.. HlsTests.H264Aac, "-flush_packets", "1", "-pes_payload_size", "0"];

    [Fact]
    public async Task Hls_js_in_low_latency_mode_plays_30_s_without_a_stall_a_gap_jump_or_dropped_frames()
    {
        // The sluice executable in a process of its own, as it runs in production. In the test host the server shared
        // the thread pool with the test runner, whose message loop holds a pool thread in Socket.Poll for the whole run
        // (vstest's TcpClientExtensions.MessageLoopAsync); Kestrel reads a chunked request body, ffmpeg's, on the pool,
        // and with the 2 pool threads of a 2-core machine the publisher's body waited 0.5 to 1.2 s now and then for the
        // pool to add a thread, while ffmpeg kept sending (strace) and the kernel had handed the server the bytes (ss):
        // parts paused as long, and hls.js, 0.75 s behind the newest part, ran dry. Measured on 2026-12-07: such a gap in
        // 16 of 17 runs in the test host (a wait in 2 of them), none in 2 with the pool's minimum raised to 32, and
        // PART-HOLD-BACK at three part targets throughout each of 6 runs of this process.
        await using var server = await ServerProcess.StartAsync(DefaultSegmentsConfig);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), H264AacLowLatency);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        await HlsTests.WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
        // The conformance validator over what the server serves meanwhile, as another player reloading beside it.
        var conformance = LiveConformance.CaptureAsync(http, server.Url(""), "live", TimeSpan.FromSeconds(20));
        // 34 s of the / page's hls.js, in low-latency mode, at a lower CPU priority than the feeder and the server
        // (Browser.Niceness), as a viewer on a machine of its own.
        var run = await Browser.RunAsync("hls.mjs", server.Url("/"), "page", 34);
        Assert.True(run.GetProperty("samples").EnumerateArray().Any(s => s.GetProperty("hlsjs").GetBoolean()), $"the page did not use hls.js: {run}");
        var errors = run.GetProperty("final").GetProperty("hlsErrors").EnumerateArray().Select(e => e.GetString()!).ToList();

        var live = await conformance;
        output.WriteLine(live.Summary);
        Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");

        var final = run.GetProperty("final");
        int dropped = final.GetProperty("droppedVideoFrames").GetInt32(), total = final.GetProperty("totalVideoFrames").GetInt32();
        int waits = final.GetProperty("waitsAfterPlaying").GetInt32();
        double played = HlsTests.Advanced(run, 4, 34);
        // Above three part targets (0.75 s), the longest gap between two parts of the last 30 s and a part target more.
        string holdBack = Regex.Match(await http.GetStringAsync(server.Url("live/media.m3u8")), "PART-HOLD-BACK=([0-9.]+)").Groups[1].Value;
        output.WriteLine($"hls.js (low-latency mode): played {played:0.0} s in the 30 s after the first 4; {waits} waits after playing; " +
            $"dropped {dropped} of {total} frames; PART-HOLD-BACK at the end {holdBack} s; hls.js errors: [{string.Join(", ", errors)}]; events: [{string.Join("; ", final.GetProperty("waitLog").EnumerateArray().Select(e => e.GetString()))}]");
        Assert.True(played >= 27, $"played {played:0.0} s of 30: {run}");
        Assert.DoesNotContain(errors, e => e.StartsWith("bufferStalledError", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.StartsWith("bufferSeekOverHole", StringComparison.Ordinal) || e.StartsWith("bufferNudgeOnStall", StringComparison.Ordinal));
        Assert.Equal(0, waits);
        // Chromium drops a few frames on a 2-core machine that also encodes the feed (0 to 17 of about 1030 alone).
        Assert.True(total > 0 && dropped <= Math.Max(2, total / 50), $"dropped {dropped} of {total} frames");
    }

    [Fact]
    public async Task Hls_js_in_low_latency_mode_and_Chromiums_own_hls_play_and_hls_js_goes_on_after_the_publisher_returns()
    {
        await using var server = await TestServer.StartAsync(HlsTests.Config);
        var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), HlsTests.H264Aac);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            await HlsTests.WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
            // The conformance validator over the HLS fMP4, MPEG-TS and DASH served across the publisher's drop and
            // return (a new Period in DASH), as another player reloading beside the browsers.
            var conformance = LiveConformance.CaptureAsync(http, server, "live", TimeSpan.FromSeconds(22), tsStream: "live.ts");
            var native = Browser.RunAsync("hls.mjs", server.Url("live.ts/index.m3u8"), "native", 10);
            var page = Browser.RunAsync("hls.mjs", server.Url("/"), "page", 24);

            // The publisher drops 9 s in and comes back 2 s later.
            await Task.Delay(9000);
            feeder.Dispose();
            await Task.Delay(2000);
            feeder = FfmpegPublisher.Start(server.Url("in.ffm"), HlsTests.H264Aac);

            var nativeRun = await native;
            Assert.True(HlsTests.Advanced(nativeRun, 0, 10) >= 3, $"native HLS: {nativeRun}");

            var run = await page;
            var samples = run.GetProperty("samples").EnumerateArray().ToList();
            Assert.True(samples.Any(s => s.GetProperty("hlsjs").GetBoolean()), "the page did not use hls.js");
            double before = HlsTests.Advanced(run, 0, 9);
            double after = HlsTests.Advanced(run, 15, 24);
            var latencies = samples.Where(s => s.GetProperty("t").GetDouble() < 9 && s.GetProperty("latency").ValueKind == JsonValueKind.Number)
                .Select(s => s.GetProperty("latency").GetDouble()).Order().ToList();
            output.WriteLine($"hls.js (low-latency mode): played {before:0.0} s in the first 9 s, {after:0.0} s in the 9 s after the publisher came back; " +
                $"latency from PROGRAM-DATE-TIME: median {(latencies.Count > 0 ? latencies[latencies.Count / 2] : double.NaN):0.00} s over {latencies.Count} samples; native HLS played {HlsTests.Advanced(nativeRun, 0, 10):0.0} s in 10 s");
            Assert.True(before >= 5, $"hls.js before the drop: {run}");
            Assert.True(after >= 4.5, $"hls.js after the publisher came back: {run}");

            var live = await conformance;
            output.WriteLine(live.Summary);
            Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");
        }
        finally
        {
            feeder.Dispose();
        }
    }
}
