using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.LoadGen.Hls;

/// <summary>Renders HLS result lines (one JSON object a line, labelled by server) as a markdown table plus ratios.</summary>
internal static class HlsTable
{
    public static string Render(IEnumerable<string> lines)
    {
        var results = lines.Where(l => l.TrimStart().StartsWith('{'))
            .Select(l => JsonSerializer.Deserialize(l, HlsResultJson.Default.HlsResult)!)
            .ToList();
        var sb = new StringBuilder();
        sb.AppendLine("| server | mode | players | playing | failed | errors | Mbit/s | kbit/s a player | segments | segment p50 ms | segment p99 ms | parts | part p99 ms | playlist p50 ms | playlist p99 ms | stalls (players) | media pace | server CPU % | CPU % per Gbit/s | RSS peak MiB (summed) | PSS peak MiB | load gen CPU % |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results)
        {
            sb.AppendLine(Inv($"| {r.Label} | {r.Mode} | {r.Players} | {r.Connected} | {r.Failed} | {r.Errors.Values.Sum()} | {r.Mbps:F1} | {r.PerPlayerKbps:F0} | {r.Segment.Count} | {r.Segment.P50Ms:F1} | {r.Segment.P99Ms:F1} | {r.Part.Count} | {(r.Part.Count > 0 ? r.Part.P99Ms.ToString("F1", CultureInfo.InvariantCulture) : "–")} | {r.Playlist.P50Ms:F1} | {r.Playlist.P99Ms:F1} | {r.Stalls} ({r.PlayersWithStalls}) | {r.MediaPace:F3} | {r.ServerCpuPct:F1} | {r.CpuPctPerGbps:F1} | {r.ServerRssPeakMiB:F1} | {r.ServerPssPeakMiB:F1} | {r.LoadGenCpuPct:F1} |"));
        }

        sb.AppendLine();
        foreach (var s in results.Where(r => r.Label == "sluice"))
        {
            var n = results.LastOrDefault(r => r.Label == "nginx" && r.Players == s.Players);
            if (n is null)
            {
                continue;
            }

            sb.AppendLine(Inv($"- {s.Players} players, Sluice ({s.Mode}) ÷ nginx ({n.Mode}): segment fetch p50 {Ratio(s.Segment.P50Ms, n.Segment.P50Ms)}, p99 {Ratio(s.Segment.P99Ms, n.Segment.P99Ms)}; playlist fetch p99 {Ratio(s.Playlist.P99Ms, n.Playlist.P99Ms)}; CPU per delivered Gbit/s {Ratio(s.CpuPctPerGbps, n.CpuPctPerGbps)}; RSS peak {Ratio(s.ServerRssPeakMiB, n.ServerRssPeakMiB)}, PSS peak {Ratio(s.ServerPssPeakMiB, n.ServerPssPeakMiB)}; delivered Mbit/s {Ratio(s.Mbps, n.Mbps)}."));
            if (s.Mode == "hls")
            {
                var met = s.Segment.Count > 0 && s.Segment.P99Ms <= n.Segment.P99Ms && s.Failed == 0;
                sb.AppendLine(Inv($"- Target, segment fetch p99 no worse than nginx's at {s.Players} players: {(met ? "met" : "NOT met")} ({s.Segment.P99Ms:F1} ms against {n.Segment.P99Ms:F1} ms{(s.Failed > 0 ? $", {s.Failed} players failed" : "")})."));
            }
        }

        return sb.ToString();
    }

    private static string Ratio(double? a, double? b) =>
        a is null || b is null || b.Value == 0 ? "n/a" : (a.Value / b.Value).ToString("F2", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
