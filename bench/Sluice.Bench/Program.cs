using System.Diagnostics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Sluice.Bench;

const string Usage = """
    sluice-bench: demux, mux and end-to-end remux throughput of Sluice.Media, with allocations per packet.

      dotnet run -c Release --project bench/Sluice.Bench -- [--short] [--only demux,mux,remux] [--out FILE]
                                                            [--media DIR] [--ffmpeg-runs N]

      --short          1 warm-up and 3 measured iterations (default 3 and 8), ffmpeg timed once (default 3 times)
      --only LIST      the groups to run (default all three)
      --out FILE       the markdown summary (default bench/results/media-<UTC date>.md, or -short.md with --short)
      --media DIR      where ffmpeg's inputs are made and kept (default $SLUICE_BENCH_MEDIA, else <tmp>/sluice-bench-media)
    """;

bool quick = false;
string? outPath = null;
int ffmpegRuns = 3;
var groups = new HashSet<string> { "demux", "mux", "remux" };
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--short": quick = true; ffmpegRuns = 1; break;
        case "--only": groups = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]; break;
        case "--out": outPath = Next(); break;
        case "--media": TestMedia.Folder = Next(); break;
        case "--ffmpeg-runs": ffmpegRuns = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "-h" or "--help": Console.WriteLine(Usage); return 0;
        default: Console.Error.WriteLine($"sluice-bench: unknown argument {args[i]}\n{Usage}"); return 2;
    }
}

if (groups.Except(["demux", "mux", "remux"]).FirstOrDefault() is { } unknownGroup)
{
    Console.Error.WriteLine($"sluice-bench: unknown group {unknownGroup} (demux, mux, remux)");
    return 2;
}

string repo = FindRepo();
outPath ??= Path.Combine(repo, "bench", "results", $"media-{DateTime.UtcNow:yyyy-MM-dd}{(quick ? "-short" : "")}.md");
string loadBefore = LoadAverage();
var started = DateTime.UtcNow;

// Inputs first, so ffmpeg's encoding is not inside any measurement and a missing ffmpeg fails early.
Console.Error.WriteLine($"[bench] inputs in {TestMedia.Folder}");
if (groups.Contains("demux"))
{
    foreach (var c in FormatTable.Demuxers)
    {
        Workloads.Demux(c.Name);
        Workloads.SteadyAllocationPerPacket(nameof(DemuxBenchmarks.Demux), c.Name);
    }
}

if (groups.Contains("mux"))
{
    foreach (var c in FormatTable.Muxers)
    {
        Workloads.Mux(c.Name);
        Workloads.SteadyAllocationPerPacket(nameof(MuxBenchmarks.Mux), c.Name);
    }
}

if (groups.Contains("remux"))
{
    foreach (var c in FormatTable.RemuxTargets)
    {
        Workloads.RemuxOutput(c.Name);
        Workloads.SteadyAllocationPerPacket(nameof(RemuxBenchmarks.Remux), c.Name);
    }
}

var job = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithLaunchCount(1)
    .WithWarmupCount(quick ? 1 : 3)
    .WithIterationCount(quick ? 3 : 8)
    .WithId(quick ? "Short" : "Bench");
string artifacts = Path.Combine(TestMedia.Folder, "artifacts");
var config = ManualConfig.CreateEmpty()
    .AddJob(job)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumnProvider(DefaultColumnProviders.Instance)
    .AddColumn(FigureColumn.Packets, FigureColumn.Throughput, FigureColumn.AllocatedPerPacket, FigureColumn.SteadyAllocatedPerPacket)
    .AddLogger(ConsoleLogger.Default)
    .AddExporter(MarkdownExporter.GitHub)
    .WithArtifactsPath(artifacts)
    .WithOptions(ConfigOptions.DisableLogFile);

var summaries = new List<(string Group, Summary Summary)>();
foreach (var (group, type) in new[] { ("demux", typeof(DemuxBenchmarks)), ("mux", typeof(MuxBenchmarks)), ("remux", typeof(RemuxBenchmarks)) })
{
    if (groups.Contains(group))
    {
        summaries.Add((group, BenchmarkRunner.Run(type, config)));
    }
}

// ffmpeg doing the same remux, timed in the same run: wall time of the whole process, best of N.
var ffmpegBest = new Dictionary<string, TimeSpan>();
if (groups.Contains("remux"))
{
    string input = TestMedia.PathOf("remux.ts");
    foreach (var target in FormatTable.RemuxTargets)
    {
        var best = TimeSpan.MaxValue;
        for (int run = 0; run < ffmpegRuns; run++)
        {
            var took = Ffmpeg.Run($"-v error -i {input} -c copy {target.FfmpegFormat} -y /dev/null");
            Console.Error.WriteLine($"[bench] ffmpeg -c copy {target.FfmpegFormat}: {took.TotalSeconds:F3} s");
            best = took < best ? took : best;
        }

        ffmpegBest[target.Name] = best;
    }
}

string report = Report.Write(summaries, ffmpegBest, new RunInfo(quick, started, loadBefore, LoadAverage(), repo, ffmpegRuns, artifacts));
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
File.WriteAllText(outPath, report);
Console.WriteLine(report);
Console.Error.WriteLine($"[bench] summary written to {outPath}");
return summaries.Any(s => s.Summary.HasCriticalValidationErrors || s.Summary.Reports.Any(r => !r.Success)) ? 1 : 0;

static string FindRepo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Sluice.slnx")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

/// <summary>What the summary says about the run itself.</summary>
internal sealed record RunInfo(bool Quick, DateTime Started, string LoadBefore, string LoadAfter, string Repo, int FfmpegRuns, string Artifacts);

internal static class Report
{
    public static string Write(List<(string Group, Summary Summary)> summaries, Dictionary<string, TimeSpan> ffmpegBest, RunInfo run)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Media formats: {run.Started:yyyy-MM-dd HH:mm} UTC{(run.Quick ? " (short run)" : "")}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Sluice {Git(run.Repo, "rev-parse --short HEAD")} (src/Sluice.Media as of {Git(run.Repo, "log -1 --format=%h -- src/Sluice.Media")}), "
            + $".NET {Environment.Version}, {Ffmpeg.Version()}, {Environment.ProcessorCount} cores ({CpuModel()}), "
            + $"load average {run.LoadBefore} before and {run.LoadAfter} after. "
            + $"BenchmarkDotNet in-process, {(run.Quick ? "1 warm-up and 3" : "3 warm-ups and 8")} iterations; "
            + $"MB = 10^6 bytes; allocations from [MemoryDiagnoser], divided by the packets of one operation.");
        md.AppendLine();

        foreach (var (group, summary) in summaries)
        {
            switch (group)
            {
                case "demux":
                    md.AppendLine("## Demux");
                    md.AppendLine();
                    md.AppendLine("A fresh demuxer reads the whole file (25 s of 1280x720 H.264 + AAC) into a sink that counts packets. "
                        + "Feed `whole`: one call, one segment; `64KiB`: 64 KiB segments arriving one at a time, each call given the unconsumed rest plus the new segment. "
                        + "MB/s is input bytes. Alloc/packet: allocated per operation ÷ packets; steady: the same at the margin (a run over the whole file less one over its first half, "
                        + "÷ the packets in between), without what a fresh demuxer allocates once. Payload/packet is what the packets' payloads hold over the same margin: the demuxer copies them out of the input "
                        + "into pooled blocks, which the sink releases, so once the pool is warm they are no allocation.");
                    md.AppendLine();
                    md.AppendLine("| format | feed | input MB | packets | mean ms | MB/s | allocated/op | alloc/packet B | steady alloc/packet B | steady payload/packet B |");
                    md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
                    foreach (var c in summary.BenchmarksCases)
                    {
                        var w = Figures.WorkloadOf(c);
                        string format = Figures.ParameterOf(c, "Format")!;
                        double payload = Workloads.SteadyPayloadPerPacket(c.Descriptor.WorkloadMethod.Name, format);
                        double steady = Workloads.SteadyAllocationPerPacket(c.Descriptor.WorkloadMethod.Name, format);
                        md.AppendLine(Invariant($"| {format} | {Figures.ParameterOf(c, "Feed")} | {w.Bytes / 1e6:F1} | {w.Packets} | {Ms(summary, c)} | {Figures.Format(Figures.MegabytesPerSecond(summary, c), "F1")} | {Bytes(Figures.AllocatedPerOperation(summary, c))} | {Figures.Format(Figures.AllocatedPerPacket(summary, c), "F1")} | {steady:F1} | {payload:F1} |"));
                    }

                    break;
                case "mux":
                    md.AppendLine("## Mux");
                    md.AppendLine();
                    md.AppendLine("The packets of a source file, demuxed once at setup, written through a fresh muxer; the chunk lengths (and the header) are summed. "
                        + "MB/s is output bytes (for the formats whose chunks point at the packet's payload instead of copying it, that is mostly bytes not touched). "
                        + "Steady alloc/packet: at the margin, as for demux, but over the packets 10 times over (times shifted) against once, so that 64 KiB slab blocks are many; each chunk is released once counted, so its blocks go back to the pool. Framing/packet is output bytes minus payload bytes, per packet: what the muxer writes itself "
                        + "(MPEG-TS copies the payload into its 188-byte packets, so its chunks are all framing).");
                    md.AppendLine();
                    md.AppendLine("| format | source | packets | output MB | mean ms | ns/packet | MB/s | allocated/op | alloc/packet B | steady alloc/packet B | framing/packet B |");
                    md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
                    foreach (var c in summary.BenchmarksCases)
                    {
                        var w = Figures.WorkloadOf(c);
                        string format = Figures.ParameterOf(c, "Format")!;
                        var input = Workloads.Mux(format);
                        long payload = input.Packets.Sum(p => (long)p.Payload.Length);
                        md.AppendLine(Invariant($"| {format} | {input.Source} | {w.Packets} | {w.Bytes / 1e6:F2} | {Ms(summary, c)} | {Figures.Format(Figures.MeanNs(summary, c) / w.Packets, "F0")} | {Figures.Format(Figures.MegabytesPerSecond(summary, c), "F1")} | {Bytes(Figures.AllocatedPerOperation(summary, c))} | {Figures.Format(Figures.AllocatedPerPacket(summary, c), "F1")} | {Workloads.SteadyAllocationPerPacket(c.Descriptor.WorkloadMethod.Name, format):F1} | {(double)(w.Bytes - payload) / w.Packets:F1} |"));
                    }

                    break;
                case "remux":
                    var input2 = Workloads.Remux;
                    md.AppendLine("## End-to-end remux");
                    md.AppendLine();
                    md.AppendLine(Invariant($"MPEG-TS in ({input2.Data.Length / 1e6:F1} MB, {TestMedia.RemuxSeconds} s of 1280x720 H.264 + AAC, {input2.Packets} packets), held in memory and fed in 64 KiB segments, ")
                        + "demuxed and muxed, the output counted and dropped. ffmpeg: `ffmpeg -v error -i in.ts -c copy <format> -y /dev/null`, the file in the page cache, "
                        + Invariant($"wall time of the whole process (start-up included), best of {run.FfmpegRuns}, timed right after the Sluice runs. MB/s is input bytes."));
                    md.AppendLine();
                    md.AppendLine("| target | output MB | Sluice mean s | Sluice best s | Sluice MB/s | ffmpeg best s | ffmpeg MB/s | Sluice ÷ ffmpeg (speed) | allocated/op | alloc/packet B | steady alloc/packet B |");
                    md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
                    var verdicts = new List<string>();
                    foreach (var c in summary.BenchmarksCases)
                    {
                        string target = Figures.ParameterOf(c, "Format")!;
                        double? mean = Figures.MeanNs(summary, c) / 1e9;
                        double? best = Figures.MinNs(summary, c) / 1e9;
                        double? ffmpeg = ffmpegBest.TryGetValue(target, out var f) ? f.TotalSeconds : null;
                        double? ratio = ffmpeg / mean;
                        double? alloc = Figures.AllocatedPerPacket(summary, c);
                        string ffmpegFormat = FormatTable.RemuxTarget(target).FfmpegFormat;
                        double steady = Workloads.SteadyAllocationPerPacket(c.Descriptor.WorkloadMethod.Name, target);
                        md.AppendLine(Invariant($"| {target} (ffmpeg `{ffmpegFormat}`) | {Workloads.RemuxOutput(target) / 1e6:F1} | {Figures.Format(mean, "F3")} | {Figures.Format(best, "F3")} | {Figures.Format(Figures.MegabytesPerSecond(summary, c), "F0")} | {Figures.Format(ffmpeg, "F3")} | {Figures.Format(input2.Data.Length / ffmpeg / 1e6, "F0")} | {Figures.Format(ratio, "F2")} | {Bytes(Figures.AllocatedPerOperation(summary, c))} | {Figures.Format(alloc, "F1")} | {steady:F1} |"));
                        verdicts.Add(Invariant($"{target}: at least 5x ffmpeg's throughput: {(ratio >= 5 ? "met" : "NOT met")} ({Figures.Format(ratio, "F2")}x); ")
                            + Invariant($"zero allocations per packet on the steady path: {(steady == 0 ? "met" : "NOT met")} ({steady:F1} B a packet; the payloads, {(double)input2.PayloadBytes / input2.Packets:F0} B a packet, are copied into pooled blocks that go back to the pool when the sink releases the packet and its chunk)"));
                    }

                    // The time rebuild of a millisecond container's packets (mp4 exact) against the same remux without it.
                    var plain = summary.BenchmarksCases.FirstOrDefault(c => Figures.ParameterOf(c, "Format") == "mp4");
                    var rebuilt = summary.BenchmarksCases.FirstOrDefault(c => FormatTable.RemuxTarget(Figures.ParameterOf(c, "Format")!).RebuildTimes);
                    if (plain is not null && rebuilt is not null && Figures.MeanNs(summary, plain) is double plainNs && Figures.MeanNs(summary, rebuilt) is double rebuiltNs)
                    {
                        double cost = (rebuiltNs / plainNs) - 1;
                        verdicts.Add(Invariant($"the time rebuild (mp4 exact against mp4) costs at most 5 % of the remux: {(cost <= 0.05 ? "met" : "NOT met")} ({cost * 100:+0.0;-0.0} %)"));
                    }

                    md.AppendLine();
                    foreach (string verdict in verdicts)
                    {
                        md.AppendLine("- Target, " + verdict + ".");
                    }

                    break;
            }

            md.AppendLine();
        }

        md.AppendLine("## BenchmarkDotNet's tables");
        md.AppendLine();
        foreach (var (_, summary) in summaries)
        {
            md.AppendLine("```");
            var logger = new AccumulationLogger();
            MarkdownExporter.Console.ExportToLog(summary, logger);
            md.AppendLine(logger.GetLog().Trim());
            md.AppendLine("```");
            md.AppendLine();
        }

        return md.ToString();
    }

    private static string Ms(Summary summary, BenchmarkDotNet.Running.BenchmarkCase c) => Figures.Format(Figures.MeanNs(summary, c) / 1e6, "F2");

    private static string Bytes(long? bytes) => bytes is { } b
        ? b >= 1_000_000 ? Invariant($"{b / 1e6:F2} MB") : b >= 1000 ? Invariant($"{b / 1e3:F1} KB") : Invariant($"{b} B")
        : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Git(string repo, string arguments)
    {
        try
        {
            var info = new ProcessStartInfo("git", $"-C {repo} {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(info)!;
            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return output.Length > 0 ? output : "?";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
}
