using System.Diagnostics;

namespace Sluice.Tests.Support.Conformance;

/// <summary>What <see cref="LiveConformance.CaptureAsync"/> fetched of a live stream, and what the validator found in it.</summary>
internal sealed record LiveCapture(List<Finding> Findings, string Summary, string? Problem, int CmafSegments, int TsSegments, int DashSegments, int ProgressiveBytes);

/// <summary>
/// Fetches a live stream's HLS (fMP4, with parts) and DASH as a player keeps reloading them, every 400 ms for a
/// while, with its MPEG-TS HLS and its progressive fMP4 when named, and runs every rule of the validator over them:
/// what an end-to-end test of HLS or DASH calls beside its player.
/// </summary>
internal static class LiveConformance
{
    public static async Task<LiveCapture> CaptureAsync(HttpClient http, TestServer server, string stream, TimeSpan duration,
        string? tsStream = null, string? progressiveStream = null, TimeSpan? progressiveFor = null)
    {
        var cmaf = new HlsFetcher(http, server.Url($"{stream}/"), new HlsCapture($"{stream}/hls-fmp4", cmaf: true));
        var ts = tsStream is null ? null : new HlsFetcher(http, server.Url($"{tsStream}/"), new HlsCapture($"{stream}/hls-ts", cmaf: false));
        var dash = new DashFetcher(http, server.Url($"{stream}/"), new DashCapture($"{stream}/dash"));
        Task<byte[]>? progressive = null;
        var clock = Stopwatch.StartNew();
        string? problem = null;
        while (clock.Elapsed < duration)
        {
            try
            {
                await Task.WhenAll(cmaf.PollAsync(), ts?.PollAsync() ?? Task.CompletedTask, dash.PollAsync());
            }
            catch (HttpRequestException ex)
            {
                problem ??= $"{stream}: {ex.Message} after {clock.Elapsed.TotalSeconds:0.0} s";
            }

            // The progressive stream is read once the feed has segments (a keyframe came), for a few seconds.
            if (progressiveStream is not null && progressive is null && cmaf.Segments > 0)
            {
                progressive = ProgressiveFetcher.ReadAsync(http, server.Url(progressiveStream), progressiveFor ?? TimeSpan.FromSeconds(8));
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

        findings.AddRange(Validator.CheckDash(dash.Capture));
        findings.AddRange(Validator.CheckHlsAgainstDash(cmaf.Capture, dash.Capture));
        if (progressiveStream is not null)
        {
            findings.AddRange(Validator.CheckProgressive($"{stream}/progressive-fmp4", mp4));
        }

        string summary = $"{stream}: {cmaf.Capture.Playlists.Count} fMP4 playlists, {cmaf.Segments} segments, {cmaf.Parts} parts; " +
            (ts is null ? "" : $"{ts.Capture.Playlists.Count} TS playlists, {ts.Segments} segments; ") +
            $"{dash.Capture.Manifests.Count} MPDs, {dash.Segments} DASH segments" +
            (progressiveStream is null ? "" : $"; {mp4.Length} bytes of progressive fMP4");
        return new LiveCapture(findings, summary, problem, cmaf.Segments, ts?.Segments ?? 0, dash.Segments, mp4.Length);
    }
}
