using System.Diagnostics;

namespace Sluice.Tests.Support.Conformance;

/// <summary>What <see cref="LiveConformance.CaptureAsync(HttpClient, string, string, TimeSpan, string?, string?, TimeSpan?, bool)"/> fetched of a live stream, and what the validator found in it.</summary>
internal sealed record LiveCapture(List<Finding> Findings, string Summary, string? Problem, int CmafSegments, int TsSegments, int DashSegments, int ProgressiveBytes);

/// <summary>
/// Fetches a live stream's HLS (fMP4, with parts) and DASH as a player keeps reloading them, every 400 ms for a
/// while, with its MPEG-TS HLS and its progressive fMP4 when named, and runs every rule of the validator over them:
/// what an end-to-end test of HLS or DASH calls beside its player.
/// </summary>
internal static class LiveConformance
{
    /// <summary>The stream as <paramref name="server"/> serves it.</summary>
    public static Task<LiveCapture> CaptureAsync(HttpClient http, TestServer server, string stream, TimeSpan duration,
        string? tsStream = null, string? progressiveStream = null, TimeSpan? progressiveFor = null, bool dash = true) =>
        CaptureAsync(http, server.Url(""), stream, duration, tsStream, progressiveStream, progressiveFor, dash);

    /// <summary>
    /// The stream as served under <paramref name="root"/> (the server's or an edge cache's, ending in /), its DASH left
    /// out when <paramref name="dash"/> is false.
    /// </summary>
    public static async Task<LiveCapture> CaptureAsync(HttpClient http, string root, string stream, TimeSpan duration,
        string? tsStream = null, string? progressiveStream = null, TimeSpan? progressiveFor = null, bool dash = true)
    {
        var cmaf = new HlsFetcher(http, $"{root}{stream}/", new HlsCapture($"{stream}/hls-fmp4", cmaf: true));
        var ts = tsStream is null ? null : new HlsFetcher(http, $"{root}{tsStream}/", new HlsCapture($"{stream}/hls-ts", cmaf: false));
        var mpd = dash ? new DashFetcher(http, $"{root}{stream}/", new DashCapture($"{stream}/dash")) : null;
        Task<byte[]>? progressive = null;
        var clock = Stopwatch.StartNew();
        string? problem = null;
        while (clock.Elapsed < duration)
        {
            try
            {
                await Task.WhenAll(cmaf.PollAsync(), ts?.PollAsync() ?? Task.CompletedTask, mpd?.PollAsync() ?? Task.CompletedTask);
            }
            catch (HttpRequestException ex)
            {
                problem ??= $"{stream}: {ex.Message} after {clock.Elapsed.TotalSeconds:0.0} s";
            }

            // The progressive stream is read once the feed has segments (a keyframe came), for a few seconds.
            if (progressiveStream is not null && progressive is null && cmaf.Segments > 0)
            {
                progressive = ProgressiveFetcher.ReadAsync(http, root + progressiveStream, progressiveFor ?? TimeSpan.FromSeconds(8));
            }

            await Task.Delay(400);
        }

        byte[] mp4 = progressive is null ? [] : await progressive;
        var findings = new List<Finding>();
        findings.AddRange(Validator.CheckHls(cmaf.Capture));
        if (ts is not null)
        {
            findings.AddRange(Validator.CheckHls(ts.Capture));
        }

        if (mpd is not null)
        {
            findings.AddRange(Validator.CheckDash(mpd.Capture));
            findings.AddRange(Validator.CheckHlsAgainstDash(cmaf.Capture, mpd.Capture));
        }

        if (progressiveStream is not null)
        {
            findings.AddRange(Validator.CheckProgressive($"{stream}/progressive-fmp4", mp4));
        }

        string summary = $"{stream}: {cmaf.Capture.Playlists.Count} fMP4 playlists, {cmaf.Segments} segments, {cmaf.Parts} parts" +
            (ts is null ? "" : $"; {ts.Capture.Playlists.Count} TS playlists, {ts.Segments} segments") +
            (mpd is null ? "" : $"; {mpd.Capture.Manifests.Count} MPDs, {mpd.Segments} DASH segments") +
            (progressiveStream is null ? "" : $"; {mp4.Length} bytes of progressive fMP4");
        return new LiveCapture(findings, summary, problem, cmaf.Segments, ts?.Segments ?? 0, mpd?.Segments ?? 0, mp4.Length);
    }
}
