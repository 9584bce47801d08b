using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.LoadGen;

/// <summary>Renders result lines (one JSON object a line, labelled by server) as a markdown table plus ratios.</summary>
internal static class Table
{
    public static string Render(IEnumerable<string> lines)
    {
        var results = lines.Where(l => l.TrimStart().StartsWith('{'))
            .Select(l => JsonSerializer.Deserialize(l, ResultJson.Default.Result)!)
            .ToList();
        var sb = new StringBuilder();
        sb.AppendLine("| server | viewers | connected | failed | ended early | Mbit/s | kbit/s a viewer | stalls (viewers) | longest gap ms | TTFB p50 ms | TTFB p99 ms | server CPU % | CPU % per Gbit/s | RSS peak MiB | load gen CPU % |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in results.OrderBy(r => r.Viewers).ThenByDescending(r => r.Label))
        {
            sb.AppendLine(Inv($"| {r.Label} | {r.Viewers} | {r.Connected} | {r.Failed} | {r.EndedEarly} | {r.Mbps:F1} | {r.PerViewerKbps:F0} | {r.Stalls} ({r.ViewersWithStalls}) | {r.LongestGapMs:F0} | {r.TtfbP50Ms:F1} | {r.TtfbP99Ms:F1} | {r.ServerCpuPct:F1} | {r.CpuPctPerGbps:F1} | {r.ServerRssPeakMiB:F1} | {r.LoadGenCpuPct:F1} |"));
        }

        sb.AppendLine();
        foreach (var n in results.Select(r => r.Viewers).Distinct().Order())
        {
            var s = results.LastOrDefault(r => r.Viewers == n && r.Label == "sluice");
            var i = results.LastOrDefault(r => r.Viewers == n && r.Label == "icecast");
            if (s is null || i is null)
            {
                continue;
            }

            sb.AppendLine(Inv($"- {n} viewers, Sluice ÷ Icecast: CPU per delivered Gbit/s {Ratio(s.CpuPctPerGbps, i.CpuPctPerGbps)}, delivered Mbit/s {Ratio(s.Mbps, i.Mbps)}, TTFB p99 {Ratio(s.TtfbP99Ms, i.TtfbP99Ms)}, RSS peak {Ratio(s.ServerRssPeakMiB, i.ServerRssPeakMiB)}"));
        }

        sb.AppendLine();
        foreach (var label in new[] { "sluice", "icecast" })
        {
            var at2000 = results.LastOrDefault(r => r.Viewers == 2000 && r.Label == label);
            var at1000 = results.LastOrDefault(r => r.Viewers == 1000 && r.Label == label);
            var parts = new List<string>();
            if (at2000 is not null)
            {
                parts.Add(Inv($"2000 viewers with 0 failures and 0 stalls: {(at2000.Failed == 0 && at2000.Stalls == 0 && at2000.EndedEarly == 0 ? "met" : $"NOT met ({at2000.Failed} failed, {at2000.Stalls} stalls, {at2000.EndedEarly} ended early)")}"));
            }

            if (at1000 is not null)
            {
                parts.Add(Inv($"TTFB p99 under 100 ms at 1000 viewers: {(at1000.TtfbP99Ms < 100 && at1000.Failed == 0 ? "met" : "NOT met")} ({at1000.TtfbP99Ms:F1} ms)"));
            }

            if (label == "sluice")
            {
                var pairs = results.Where(r => r.Label == "sluice")
                    .Select(r => (s: r, i: results.LastOrDefault(x => x.Label == "icecast" && x.Viewers == r.Viewers)))
                    .Where(p => p.i is not null && p.s.CpuPctPerGbps is not null && p.i!.CpuPctPerGbps is not null)
                    .ToList();
                if (pairs.Count > 0)
                {
                    var worse = pairs.Where(p => p.s.CpuPctPerGbps > p.i!.CpuPctPerGbps).Select(p => p.s.Viewers.ToString(CultureInfo.InvariantCulture)).ToList();
                    parts.Add(worse.Count == 0 ? "CPU per delivered Gbit/s no more than Icecast's: met at every N" : $"CPU per delivered Gbit/s no more than Icecast's: NOT met at {string.Join(", ", worse)} viewers");
                }
            }

            if (parts.Count > 0)
            {
                sb.AppendLine($"- Targets, {label}: {string.Join("; ", parts)}.");
            }
        }

        return sb.ToString();
    }

    private static string Ratio(double? a, double? b) =>
        a is null || b is null || b.Value == 0 ? "n/a" : (a.Value / b.Value).ToString("F2", CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
