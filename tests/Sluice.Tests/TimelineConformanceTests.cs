using System.Diagnostics;
using Sluice.Tests.Support;
using Sluice.Tests.Support.Conformance;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// The acceptance tests of timelines exact to the sample on every output: five H.264 feeds, each published
/// by a real ffmpeg its own way, into one server; for <see cref="TimelineConformanceRun.Seconds"/> s their HLS fMP4
/// (with LL-HLS parts), HLS MPEG-TS and DASH are fetched at every reload, and a few seconds of progressive fMP4, and
/// the conformance validator must find nothing. The feeds run at the same time, so the set costs one run's wall time.
/// </summary>
public sealed class TimelineConformanceTests(TimelineConformanceRun run, ITestOutputHelper output) : IClassFixture<TimelineConformanceRun>
{
    [Fact]
    public void An_H264_AAC_feed_published_as_Matroska_over_HTTP_keeps_every_timeline_rule_in_HLS_DASH_and_fMP4() => Check("matroska");

    [Fact]
    public void An_H264_AAC_feed_published_as_FLV_over_HTTP_keeps_every_timeline_rule_in_HLS_DASH_and_fMP4() => Check("flv");

    [Fact]
    public void An_H264_AAC_feed_published_over_RTMP_keeps_every_timeline_rule_in_HLS_DASH_and_fMP4() => Check("rtmp");

    [Fact]
    public void An_H264_AAC_feed_published_as_MPEG_TS_over_HTTP_keeps_every_timeline_rule_in_HLS_DASH_and_fMP4() => Check("mpegts");

    [Fact]
    public void An_H264_Opus_feed_published_as_Matroska_over_HTTP_keeps_every_timeline_rule_in_HLS_DASH_and_fMP4() => Check("opus");

    private void Check(string feed)
    {
        var result = run.Results[feed];
        output.WriteLine(result.Summary);
        string report = Validator.Report(result.Findings);
        output.WriteLine(report.Length == 0 ? "no findings" : report);
        Assert.True(result.Problem is null, result.Problem);
        Assert.True(result.Findings.Count == 0, $"{feed}: {result.Findings.Count} finding(s)\n{report}");
    }
}

/// <summary>The one live run the <see cref="TimelineConformanceTests"/> share: a server, five publishers, the fetchers.</summary>
public sealed class TimelineConformanceRun : IAsyncLifetime
{
    /// <summary>How long each output is fetched (60 s, several reloads a second); the feeds run at once, so this is the run's wall time.</summary>
    public const int Seconds = 60;

    /// <summary>How long the progressive fMP4 of each feed is read.</summary>
    private const int ProgressiveSeconds = 8;

    private static readonly string[] H264 = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p"];

    /// <summary>Each feed: how ffmpeg encodes and where it publishes (an HTTP feed, or RTMP to the feed's name).</summary>
    private static readonly (string Name, string[] Encode, bool Rtmp)[] Feeds =
    [
        ("matroska", FfmpegPublisher.MatroskaH264Aac, false),
        ("flv", [.. H264, "-c:a", "aac", "-b:a", "96k", "-f", "flv"], false),
        ("rtmp", [.. H264, "-c:a", "aac", "-b:a", "96k", "-f", "flv"], true),
        ("mpegts", [.. H264, "-c:a", "aac", "-b:a", "96k", "-f", "mpegts"], false),
        ("opus", [.. H264, "-c:a", "libopus", "-b:a", "64k", "-f", "matroska", "-cluster_time_limit", "200", "-flush_packets", "1"], false),
    ];

    public Dictionary<string, FeedResult> Results { get; } = [];

    private static string Config() =>
        "RTMPPort 1935\nMaxClients 200\nMaxBandwidth 1000000\n" + string.Concat(Feeds.Select(f =>
            $"<Feed {f.Name}.ffm>\nFileMaxSize 8M\nACL allow 127.0.0.1\n</Feed>\n" +
            $"<Stream {f.Name}>\nFeed {f.Name}.ffm\nFormat hls\nHLSSegmentDuration 1\n</Stream>\n" +
            $"<Stream {f.Name}.ts>\nFeed {f.Name}.ffm\nFormat mpegts\nHLSFormat ts\nHLSSegmentDuration 1\n</Stream>\n" +
            $"<Stream {f.Name}.mp4>\nFeed {f.Name}.ffm\nFormat mp4\n</Stream>\n"));

    public async Task InitializeAsync()
    {
        await using var server = await TestServer.StartAsync(Config());
        var publishers = Feeds.Select(f => FfmpegPublisher.Start(f.Rtmp ? server.RtmpUrl($"live/{f.Name}") : server.Url($"{f.Name}.ffm"), f.Encode)).ToList();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            var runs = Feeds.Select(f => CaptureAsync(http, server, f.Name)).ToArray();
            var results = await Task.WhenAll(runs);
            for (int i = 0; i < Feeds.Length; i++)
            {
                var publisher = publishers[i];
                Results[Feeds[i].Name] = results[i] with
                {
                    Problem = results[i].Problem ?? (publisher.HasExited ? $"ffmpeg exited ({publisher.ExitCode}): {publisher.StdErr}" : null),
                };
            }
        }
        finally
        {
            publishers.ForEach(p => p.Dispose());
        }
    }

    /// <summary>Polls the feed's three segmented outputs every 400 ms for <see cref="Seconds"/> s, reads its progressive fMP4 meanwhile, and validates.</summary>
    private static async Task<FeedResult> CaptureAsync(HttpClient http, TestServer server, string feed)
    {
        var live = await LiveConformance.CaptureAsync(http, server, feed, TimeSpan.FromSeconds(Seconds), tsStream: $"{feed}.ts",
            progressiveStream: $"{feed}.mp4", progressiveFor: TimeSpan.FromSeconds(ProgressiveSeconds));
        // A run that fetched too little proves nothing: a segment a second, most of the run.
        int least = Seconds / 3;
        string? problem = live.Problem;
        if (live.CmafSegments < least || live.TsSegments < least || live.DashSegments < least || live.ProgressiveBytes < 10_000)
        {
            problem ??= $"too little fetched: {live.Summary}";
        }

        return new FeedResult(live.Findings, live.Summary, problem);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>What the validator found over one feed's outputs, what was fetched, and why the run itself failed, if it did.</summary>
public sealed record FeedResult(List<Finding> Findings, string Summary, string? Problem);
