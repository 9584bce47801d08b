using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Sluice.Bench;

/// <summary>Per-case figures derived from BenchmarkDotNet's report and the case's <see cref="Workload"/>.</summary>
public static class Figures
{
    public static Workload WorkloadOf(BenchmarkCase benchmarkCase) => Workloads.For(
        benchmarkCase.Descriptor.WorkloadMethod.Name,
        ParameterOf(benchmarkCase, "Format") ?? "",
        ParameterOf(benchmarkCase, "Feed") ?? "");

    public static string? ParameterOf(BenchmarkCase benchmarkCase, string name) =>
        benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value?.ToString();

    /// <summary>Mean time of one operation in nanoseconds, or null when the case failed.</summary>
    public static double? MeanNs(Summary summary, BenchmarkCase benchmarkCase) => summary[benchmarkCase]?.ResultStatistics?.Mean;

    /// <summary>Best (minimum) time of one operation in nanoseconds.</summary>
    public static double? MinNs(Summary summary, BenchmarkCase benchmarkCase) => summary[benchmarkCase]?.ResultStatistics?.Min;

    /// <summary>Millions of bytes a second over the mean time.</summary>
    public static double? MegabytesPerSecond(Summary summary, BenchmarkCase benchmarkCase) =>
        MeanNs(summary, benchmarkCase) is { } ns ? WorkloadOf(benchmarkCase).Bytes / (ns / 1e9) / 1e6 : null;

    public static long? AllocatedPerOperation(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);

    public static double? AllocatedPerPacket(Summary summary, BenchmarkCase benchmarkCase) =>
        AllocatedPerOperation(summary, benchmarkCase) is { } bytes ? (double)bytes / WorkloadOf(benchmarkCase).Packets : null;

    public static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}

/// <summary>A column of the summary table computed by <see cref="Figures"/>.</summary>
public sealed class FigureColumn(string name, string legend, Func<Summary, BenchmarkCase, string> value) : IColumn
{
    public static readonly FigureColumn Packets = new("Packets", "Packets one operation handles",
        (_, c) => Figures.WorkloadOf(c).Packets.ToString(CultureInfo.InvariantCulture));

    public static readonly FigureColumn Throughput = new("MB/s", "Millions of bytes a second at the mean time (demux and remux: input bytes; mux: output bytes)",
        (s, c) => Figures.Format(Figures.MegabytesPerSecond(s, c), "F1"));

    public static readonly FigureColumn AllocatedPerPacket = new("Alloc/packet", "Bytes allocated per operation divided by its packets",
        (s, c) => Figures.Format(Figures.AllocatedPerPacket(s, c), "F1"));

    public static readonly FigureColumn SteadyAllocatedPerPacket = new("Steady alloc/packet", "Bytes allocated per packet at the margin: whole input less its first half, per packet in between",
        (_, c) => Workloads.SteadyAllocationPerPacket(c.Descriptor.WorkloadMethod.Name, Figures.ParameterOf(c, "Format") ?? "").ToString("F1", CultureInfo.InvariantCulture));

    public string Id => nameof(FigureColumn) + "." + ColumnName;

    public string ColumnName => name;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => legend;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => value(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => value(summary, benchmarkCase);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
