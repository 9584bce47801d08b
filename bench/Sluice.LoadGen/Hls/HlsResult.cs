using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace Sluice.LoadGen.Hls;

/// <summary>Latency figures of one fetch kind over the window, in ms from request start to last byte.</summary>
internal sealed class FetchStats
{
    public int Count { get; init; }
    public double P50Ms { get; init; }
    public double P99Ms { get; init; }
    public double MaxMs { get; init; }

    public static FetchStats Of(IEnumerable<float> values)
    {
        var sorted = values.Order().ToArray();
        return new FetchStats
        {
            Count = sorted.Length,
            P50Ms = Percentile(sorted, 0.50),
            P99Ms = Percentile(sorted, 0.99),
            MaxMs = sorted.Length == 0 ? 0 : Math.Round(sorted[^1], 1),
        };
    }

    private static double Percentile(float[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)], 1);

    public override string ToString() =>
        Count == 0 ? "none" : string.Create(CultureInfo.InvariantCulture, $"{Count} fetches, p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms, max {MaxMs:F0} ms");
}

/// <summary>Peaks over the window of the server's process tree, and what the tree was.</summary>
internal sealed record ServerMemory(double RssMiB, double PssMiB, int Processes, string Described);

/// <summary>One run of N players against one server: one JSON line of the results file.</summary>
internal sealed class HlsResult
{
    public string Label { get; init; } = "";
    public string Url { get; init; } = "";
    public string Mode { get; init; } = "hls";
    public int Players { get; init; }
    public int Connected { get; init; }
    public int Failed { get; init; }
    public Dictionary<string, int> FailReasons { get; init; } = [];
    public Dictionary<string, int> Errors { get; init; } = [];
    public double RampSeconds { get; init; }
    public double WindowSeconds { get; init; }
    public long WindowBytes { get; init; }
    public double Mbps { get; init; }
    public double PerPlayerKbps { get; init; }
    public FetchStats Segment { get; init; } = new();
    public FetchStats Part { get; init; } = new();
    public FetchStats Init { get; init; } = new();
    public FetchStats Playlist { get; init; } = new();
    public FetchStats BlockingPlaylist { get; init; } = new();
    public int PlayersOfferedBlockingReload { get; init; }
    /// <summary>Media playlists a player followed: 2 when the variant's audio is a rendition of its own.</summary>
    public int MediaPlaylistsPerPlayer { get; init; }
    public int Stalls { get; init; }
    public int PlayersWithStalls { get; init; }
    public double StalledSeconds { get; init; }
    public int SkippedSegments { get; init; }
    /// <summary>
    /// Median over the players of the media seconds that arrived in the window ÷ its length: 1.0 when the source and
    /// the server keep real time; below it when the publisher fell behind (a busy machine) or players could not keep up.
    /// </summary>
    public double MediaPace { get; init; }
    public double? ServerCpuPct { get; init; }
    public int? ServerProcesses { get; init; }
    public string? ServerProcessNames { get; init; }
    public double? CpuPctPerGbps { get; init; }
    public double? ServerRssPeakMiB { get; init; }
    public double? ServerPssPeakMiB { get; init; }
    public double? LoadGenCpuPct { get; init; }

    public static HlsResult From(HlsOptions o, HlsPlayer[] players, double seconds, long bytes, double? cpu, double? selfCpu, ServerMemory? memory)
    {
        var connected = players.Where(p => p.FirstMediaTicks > 0 && p.FailReason is null).ToArray();
        var failed = players.Where(p => p.FailReason is not null || p.FirstMediaTicks == 0).ToArray();
        var errors = new Dictionary<string, int>();
        foreach (var (reason, count) in players.SelectMany(p => p.Errors))
        {
            errors[reason] = errors.GetValueOrDefault(reason) + count;
        }

        FetchStats Stats(FetchKind kind) => FetchStats.Of(players.SelectMany(p => p.Latencies[(int)kind]));
        var mbps = bytes * 8 / seconds / 1e6;
        return new HlsResult
        {
            Label = o.Label,
            Url = o.Url.ToString(),
            Mode = o.LowLatency ? "ll" : "hls",
            Players = players.Length,
            Connected = connected.Length,
            Failed = failed.Length,
            FailReasons = failed.GroupBy(p => p.FailReason ?? "no media before the run ended").ToDictionary(g => g.Key, g => g.Count()),
            Errors = errors,
            RampSeconds = o.Ramp,
            WindowSeconds = Math.Round(seconds, 3),
            WindowBytes = bytes,
            Mbps = Math.Round(mbps, 2),
            PerPlayerKbps = connected.Length == 0 ? 0 : Math.Round(mbps * 1000 / connected.Length, 1),
            Segment = Stats(FetchKind.Segment),
            Part = Stats(FetchKind.Part),
            Init = Stats(FetchKind.Init),
            Playlist = Stats(FetchKind.Playlist),
            BlockingPlaylist = Stats(FetchKind.BlockingPlaylist),
            PlayersOfferedBlockingReload = players.Count(p => p.BlockingOffered),
            MediaPlaylistsPerPlayer = players.Length == 0 ? 0 : players.Max(p => p.Tracks),
            Stalls = players.Sum(p => p.Stalls),
            PlayersWithStalls = players.Count(p => p.Stalls > 0),
            StalledSeconds = Math.Round(players.Sum(p => p.StalledSecondsInWindow), 1),
            SkippedSegments = players.Sum(p => p.SkippedSegments),
            MediaPace = connected.Length == 0 ? 0 : Math.Round(connected.Select(p => p.MediaSecondsInWindow).Order().ElementAt(connected.Length / 2) / seconds, 3),
            ServerCpuPct = cpu is null ? null : Math.Round(cpu.Value, 1),
            ServerProcesses = memory?.Processes,
            ServerProcessNames = memory?.Described,
            CpuPctPerGbps = cpu is null || mbps <= 0 ? null : Math.Round(cpu.Value / (mbps / 1000), 1),
            ServerRssPeakMiB = memory is null ? null : Math.Round(memory.RssMiB, 1),
            ServerPssPeakMiB = memory is null ? null : Math.Round(memory.PssMiB, 1),
            LoadGenCpuPct = selfCpu is null ? null : Math.Round(selfCpu.Value, 1),
        };
    }

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"{(Label.Length > 0 ? Label + ": " : "")}{Players} {(Mode == "ll" ? "LL-HLS" : "HLS")} players of {Url}: {Connected} playing, {Failed} failed; {MediaPlaylistsPerPlayer} media playlist(s) a player\n"));
        foreach (var (reason, count) in FailReasons)
        {
            sb.Append(Inv($"  failed: {count} x {reason}\n"));
        }

        foreach (var (reason, count) in Errors)
        {
            sb.Append(Inv($"  errors (retried): {count} x {reason}\n"));
        }

        sb.Append(Inv($"  delivered {Mbps:F1} Mbit/s over {WindowSeconds:F1} s ({PerPlayerKbps:F0} kbit/s a player)\n"));
        sb.Append(Inv($"  segments: {Segment}\n"));
        if (Part.Count > 0)
        {
            sb.Append(Inv($"  parts: {Part}\n"));
        }

        sb.Append(Inv($"  playlists: {Playlist}\n"));
        if (BlockingPlaylist.Count > 0)
        {
            sb.Append(Inv($"  blocking playlist reloads (include the wait for the next part): {BlockingPlaylist}\n"));
        }
        else if (Mode == "ll")
        {
            sb.Append(Inv($"  no blocking reload: {PlayersOfferedBlockingReload} of {Players} players were offered CAN-BLOCK-RELOAD=YES\n"));
        }

        sb.Append(Inv($"  stalls {Stalls} ({PlayersWithStalls} players, {StalledSeconds:F1} s in all); segments skipped {SkippedSegments}; media arrived at {MediaPace:F3} x real time (median player)\n"));
        if (ServerCpuPct is not null)
        {
            sb.Append(Inv($"  server CPU {ServerCpuPct:F1} % of a core ({CpuPctPerGbps:F1} % per Gbit/s), RSS peak {ServerRssPeakMiB:F1} MiB summed, PSS peak {ServerPssPeakMiB:F1} MiB, over {ServerProcesses} process(es): {ServerProcessNames}\n"));
        }

        sb.Append(Inv($"  load generator CPU {LoadGenCpuPct:F1} % of a core"));
        return sb.ToString();
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HlsResult))]
internal sealed partial class HlsResultJson : JsonSerializerContext
{
}
