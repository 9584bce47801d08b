using System.Text.Json;
using Sluice.Tests.Support;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// hls.js in low-latency mode against Sluice's LL-HLS, going on after the publisher returns. It runs alone: beside the
/// encoders and players of other tests, a 2-core machine delays the feed's parts past hls.js's playlist timeout.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LowLatencyHlsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Hls_js_in_low_latency_mode_and_Chromiums_own_hls_play_and_hls_js_goes_on_after_the_publisher_returns()
    {
        await using var server = await TestServer.StartAsync(HlsTests.Config);
        var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), HlsTests.H264Aac);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            await HlsTests.WaitForPlaylistAsync(http, server.Url("live/media.m3u8"));
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
        }
        finally
        {
            feeder.Dispose();
        }
    }
}
