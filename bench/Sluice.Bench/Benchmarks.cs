using BenchmarkDotNet.Attributes;
using Sluice.Media;

namespace Sluice.Bench;

/// <summary>One demuxer reads a whole file; the sink counts packets.</summary>
public class DemuxBenchmarks
{
    private DemuxInput _input = null!;
    private DemuxCase _case = null!;

    public static IEnumerable<string> Formats => FormatTable.Demuxers.Select(c => c.Name);

    [ParamsSource(nameof(Formats))]
    public string Format { get; set; } = "";

    /// <summary>"whole": one call with the whole file in one segment; "64KiB": 64 KiB segments arriving one at a time.</summary>
    [Params("whole", "64KiB")]
    public string Feed { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _case = FormatTable.Demuxer(Format);
        _input = Workloads.Demux(Format);
    }

    [Benchmark]
    public long Demux()
    {
        var sink = new CountingSink();
        using var demuxer = _case.Create();
        if (Feed == "whole")
        {
            Workloads.Feed(demuxer, _input.Whole, 0, sink);
        }
        else
        {
            Workloads.Feed(demuxer, _input.Segmented, Workloads.SegmentSize, sink);
        }

        return sink.Packets;
    }
}

/// <summary>One muxer writes every packet of a file demuxed once at setup; the chunk lengths are summed.</summary>
public class MuxBenchmarks
{
    private MuxInput _input = null!;
    private MuxCase _case = null!;

    public static IEnumerable<string> Formats => FormatTable.Muxers.Select(c => c.Name);

    [ParamsSource(nameof(Formats))]
    public string Format { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _case = FormatTable.Muxer(Format);
        _input = Workloads.Mux(Format);
    }

    [Benchmark]
    public long Mux()
    {
        IMuxer muxer = _case.Create(_input.Tracks);
        long bytes = muxer.Header.Length;
        foreach (var packet in _input.Packets)
        {
            var chunk = muxer.Write(packet);
            bytes += chunk.Length;
            chunk.Release();
        }

        return bytes;
    }
}

/// <summary>The ~200 MB MPEG-TS file, in memory, demuxed and muxed to a target; the output is counted and dropped.</summary>
public class RemuxBenchmarks
{
    private DemuxInput _input = null!;
    private RemuxCase _case = null!;

    public static IEnumerable<string> Formats => FormatTable.RemuxTargets.Select(c => c.Name);

    [ParamsSource(nameof(Formats))]
    public string Format { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _case = FormatTable.RemuxTarget(Format);
        _input = Workloads.Remux;
    }

    [Benchmark]
    public long Remux()
    {
        var sink = new MuxingSink(_case.Create, _case.RebuildTimes);
        using var demuxer = new Sluice.Media.Formats.MpegTs.MpegTsDemuxer();
        Workloads.Feed(demuxer, _input.Segmented, Workloads.SegmentSize, sink);
        return sink.Bytes;
    }
}
