using System.Text.Json;
using Sluice.Tests.Support;
using Sluice.Tests.Support.Conformance;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// hls.js in low-latency mode against Sluice's LL-HLS, judged on what a viewer sees: no stall, no jump over a gap, no
/// dropped frames. It runs alone: beside the encoders and players of other tests, a 2-core machine delays the feed's
/// parts past hls.js's playlist timeout, which says nothing of the server.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LowLatencyHlsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Hls_js_in_low_latency_mode_plays_30_s_without_a_stall_a_gap_jump_or_dropped_frames()
    {
        await using var server = await TestServer.StartAsync(HlsTests.Config);
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), HlsTests.H264Aac);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        await HlsTests.WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
        // The conformance validator over what the server serves meanwhile, as another player reloading beside it.
        var conformance = LiveConformance.CaptureAsync(http, server, "live", TimeSpan.FromSeconds(20));
        var run = await Browser.RunAsync("hls.mjs", server.Url("/"), "page", 34);
        var live = await conformance;
        output.WriteLine(live.Summary);
        Assert.True(live.Problem is null && live.Findings.Count == 0, $"{live.Problem}\n{Validator.Report(live.Findings)}");

        var samples = run.GetProperty("samples").EnumerateArray().ToList();
        Assert.True(samples.Any(s => s.GetProperty("hlsjs").GetBoolean()), $"the page did not use hls.js: {run}");
        var final = run.GetProperty("final");
        var errors = final.GetProperty("hlsErrors").EnumerateArray().Select(e => e.GetString()!).ToList();
        int dropped = final.GetProperty("droppedVideoFrames").GetInt32(), total = final.GetProperty("totalVideoFrames").GetInt32();
        int waits = final.GetProperty("waitsAfterPlaying").GetInt32();
        double played = HlsTests.Advanced(run, 4, 34);
        output.WriteLine($"hls.js (low-latency mode): played {played:0.0} s in the 30 s after the first 4; {waits} waits after playing; " +
            $"dropped {dropped} of {total} frames; hls.js errors: [{string.Join(", ", errors)}]");
        Assert.True(played >= 27, $"played {played:0.0} s of 30: {run}");
        Assert.DoesNotContain(errors, e => e.StartsWith("bufferStalledError", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.StartsWith("bufferSeekOverHole", StringComparison.Ordinal) || e.StartsWith("bufferNudgeOnStall", StringComparison.Ordinal));
        Assert.Equal(0, waits);
        Assert.True(total > 0 && dropped <= Math.Max(2, total / 100), $"dropped {dropped} of {total} frames");
    }
}
