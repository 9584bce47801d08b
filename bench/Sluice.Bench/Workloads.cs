using System.Buffers;
using System.Collections.Concurrent;
using Sluice.Media;
using Sluice.Media.Formats;

namespace Sluice.Bench;

/// <summary>What one benchmark operation handles: the bytes its MB/s is counted on, and its packets.</summary>
public readonly record struct Workload(long Bytes, long Packets, string BytesAre);

/// <summary>
/// The inputs of every benchmark, prepared once per process and cached, so the benchmarks' setup and the summary's
/// columns see the same byte and packet counts.
/// </summary>
public static class Workloads
{
    /// <summary>The segment size of the "64KiB" feed: what a socket read or a pipe segment typically holds.</summary>
    public const int SegmentSize = 64 * 1024;

    private static readonly ConcurrentDictionary<string, DemuxInput> DemuxInputs = new();
    private static readonly ConcurrentDictionary<string, MuxInput> MuxInputs = new();
    private static readonly ConcurrentDictionary<string, long> RemuxOutputs = new();
    private static readonly ConcurrentDictionary<string, (double Allocated, double Payload)> SteadyAllocations = new();
    private static readonly Lazy<DemuxInput> RemuxSource = new(() => LoadDemux("remux.ts", () => new Sluice.Media.Formats.MpegTs.MpegTsDemuxer()));

    public static DemuxInput Demux(string format) =>
        DemuxInputs.GetOrAdd(format, name => LoadDemux(FormatTable.Demuxer(name).File, FormatTable.Demuxer(name).Create));

    public static MuxInput Mux(string format) => MuxInputs.GetOrAdd(format, LoadMux);

    public static DemuxInput Remux => RemuxSource.Value;

    /// <summary>Bytes the remux to <paramref name="target"/> writes (header and every chunk).</summary>
    public static long RemuxOutput(string target) => RemuxOutputs.GetOrAdd(target, name =>
    {
        var sink = new MuxingSink(FormatTable.RemuxTarget(name).Create, FormatTable.RemuxTarget(name).RebuildTimes);
        Feed(new Sluice.Media.Formats.MpegTs.MpegTsDemuxer(), Remux.Segmented, SegmentSize, sink);
        return sink.Bytes;
    });

    /// <summary>
    /// Hands <paramref name="input"/> to <paramref name="demuxer"/> and completes it. With <paramref name="step"/> 0
    /// in one call; else <paramref name="step"/> bytes at a time, each call given what it left over plus the new
    /// bytes, as a pipe reader would.
    /// </summary>
    public static void Feed(IDemuxer demuxer, ReadOnlySequence<byte> input, int step, IPacketSink sink)
    {
        if (step <= 0)
        {
            var end = demuxer.Read(input, sink);
            demuxer.Complete(input.Slice(end));
            return;
        }

        var consumed = input.Start;
        var available = input.Start;
        long remaining = input.Length;
        while (remaining > 0)
        {
            long take = Math.Min(step, remaining);
            available = input.GetPosition(take, available);
            remaining -= take;
            consumed = demuxer.Read(input.Slice(consumed, available), sink);
        }

        demuxer.Complete(input.Slice(consumed));
    }

    /// <summary>
    /// Bytes allocated per packet on the steady path: the allocations of a run over the whole input less those of a
    /// run over its first half (mux: the packets <see cref="MuxPasses"/> times over less once), divided by the
    /// packets in between, so that what a fresh demuxer or muxer allocates once (its buffers, the track list, a
    /// first slab block) does not count.
    /// </summary>
    public static double SteadyAllocationPerPacket(string benchmark, string format) => Steady(benchmark, format).Allocated;

    /// <summary>Payload bytes per packet over the same margin as <see cref="SteadyAllocationPerPacket"/>.</summary>
    public static double SteadyPayloadPerPacket(string benchmark, string format) => Steady(benchmark, format).Payload;

    private static (double Allocated, double Payload) Steady(string benchmark, string format) => SteadyAllocations.GetOrAdd($"{benchmark}/{format}", _ =>
    {
        Func<double, (long Allocated, long Packets, long Payload)> run = benchmark switch
        {
            nameof(DemuxBenchmarks.Demux) => fraction => DemuxPart(Demux(format), FormatTable.Demuxer(format).Create(), new CountingSink(), fraction),
            nameof(RemuxBenchmarks.Remux) => fraction =>
            {
                var sink = new MuxingSink(FormatTable.RemuxTarget(format).Create, FormatTable.RemuxTarget(format).RebuildTimes);
                var (allocated, _, _) = DemuxPart(Remux, new Sluice.Media.Formats.MpegTs.MpegTsDemuxer(), sink, fraction);
                return (allocated, sink.Packets, 0);
            },
            nameof(MuxBenchmarks.Mux) => fraction =>
            {
                // The packets, MuxPasses times over (times shifted), so that slab blocks of 64 KiB are many and the
                // margin is not a matter of whether one more block happened to be needed.
                var input = Mux(format);
                var packets = Repeated(input.Packets, MuxPasses);
                var muxer = FormatTable.Muxer(format).Create(input.Tracks);
                int count = fraction < 1 ? input.Packets.Length : packets.Length;
                long payload = 0;
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < count; i++)
                {
                    var chunk = muxer.Write(packets[i]);
                    payload += chunk.Payload.Length;
                    chunk.Release();
                }

                return (GC.GetAllocatedBytesForCurrentThread() - before, count, payload);
            },
            _ => throw new ArgumentException($"unknown benchmark {benchmark}", nameof(benchmark)),
        };
        run(1); // warm: first calls may allocate for the runtime (type loading, tiered compilation)
        var half = run(0.5);
        var whole = run(1);
        double packets = whole.Packets - half.Packets;
        return ((whole.Allocated - half.Allocated) / packets, (whole.Payload - half.Payload) / packets);
    });

    /// <summary>How many times over the mux margin is measured: one pass against this many.</summary>
    public const int MuxPasses = 10;

    private static readonly ConcurrentDictionary<MediaPacket[], MediaPacket[]> RepeatedPackets = new();

    /// <summary><paramref name="packets"/> <paramref name="times"/> times over, each pass a second after the one before.</summary>
    private static MediaPacket[] Repeated(MediaPacket[] packets, int times) => RepeatedPackets.GetOrAdd(packets, _ =>
    {
        long span = packets.Max(p => p.Dts) - packets.Min(p => p.Dts) + MediaTime.TicksPerSecond;
        var all = new MediaPacket[packets.Length * times];
        for (int pass = 0; pass < times; pass++)
        {
            for (int i = 0; i < packets.Length; i++)
            {
                all[(pass * packets.Length) + i] = packets[i].Shifted(pass * span);
            }
        }

        return all;
    });

    /// <summary>Feeds the first <paramref name="fraction"/> of the input in 64 KiB segments; the allocations, packets and payload bytes of that.</summary>
    private static (long Allocated, long Packets, long Payload) DemuxPart(DemuxInput input, IDemuxer demuxer, IPacketSink sink, double fraction)
    {
        var counter = sink as CountingSink;
        var part = input.Segmented.Slice(0, (long)(input.Data.Length * fraction));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var consumed = part.Start;
        var available = part.Start;
        long remaining = part.Length;
        while (remaining > 0)
        {
            long take = Math.Min(SegmentSize, remaining);
            available = part.GetPosition(take, available);
            remaining -= take;
            consumed = demuxer.Read(part.Slice(consumed, available), sink);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before, counter?.Packets ?? 0, counter?.PayloadBytes ?? 0);
    }

    /// <summary>Which workload a benchmark case measures, for the summary's columns.</summary>
    public static Workload For(string benchmark, string format, string feed) => benchmark switch
    {
        nameof(DemuxBenchmarks.Demux) => new(Demux(format).Data.Length, Demux(format).Packets, "input"),
        nameof(MuxBenchmarks.Mux) => new(Mux(format).OutputBytes, Mux(format).Packets.Length, "output"),
        nameof(RemuxBenchmarks.Remux) => new(Remux.Data.Length, Remux.Packets, "input"),
        _ => throw new ArgumentException($"unknown benchmark {benchmark}", nameof(benchmark)),
    };

    private static DemuxInput LoadDemux(string file, Func<IDemuxer> create)
    {
        byte[] data = TestMedia.Read(file);
        var whole = new ReadOnlySequence<byte>(data);
        var segmented = Segments.Split(data, SegmentSize);
        var sink = new CountingSink();
        Feed(create(), whole, 0, sink);
        var check = new CountingSink();
        Feed(create(), segmented, SegmentSize, check);
        if (check.Packets != sink.Packets || check.PayloadBytes != sink.PayloadBytes)
        {
            throw new InvalidOperationException($"{file}: {sink.Packets} packets whole but {check.Packets} fed {SegmentSize} bytes at a time");
        }

        return new DemuxInput(file, data, whole, segmented, sink.Packets, sink.PayloadBytes);
    }

    private static MuxInput LoadMux(string format)
    {
        var mux = FormatTable.Muxer(format);
        var source = Collect(mux.Source);
        var muxer = mux.Create(source.Tracks);
        long bytes = muxer.Header.Length;
        foreach (var packet in source.Packets)
        {
            bytes += muxer.Write(packet).Length;
        }

        return source with { OutputBytes = bytes };
    }

    private static MuxInput Collect(string file)
    {
        var sink = new CollectingSink();
        Feed(new Sluice.Media.Formats.Matroska.MatroskaDemuxer(), new ReadOnlySequence<byte>(TestMedia.Read(file)), 0, sink);
        return new MuxInput(file, sink.Tracks, [.. sink.Packets], 0);
    }
}

public sealed record DemuxInput(string File, byte[] Data, ReadOnlySequence<byte> Whole, ReadOnlySequence<byte> Segmented, long Packets, long PayloadBytes);

public sealed record MuxInput(string Source, IReadOnlyList<TrackInfo> Tracks, MediaPacket[] Packets, long OutputBytes);

/// <summary>A sequence over an array cut into segments, without copying.</summary>
public sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] data, int size)
    {
        var first = new Segments(data.AsMemory(0, Math.Min(size, data.Length)), 0);
        var last = first;
        for (int at = last.Memory.Length; at < data.Length; at += size)
        {
            var next = new Segments(data.AsMemory(at, Math.Min(size, data.Length - at)), at);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}

/// <summary>Counts packets and payload bytes; keeps nothing (each packet's payload goes back to the pool).</summary>
public sealed class CountingSink : IPacketSink
{
    public long Packets { get; private set; }

    public long PayloadBytes { get; private set; }

    public void OnTracks(IReadOnlyList<TrackInfo> tracks)
    {
    }

    public void Accept(MediaPacket packet)
    {
        Packets++;
        PayloadBytes += packet.Payload.Length;
        packet.Release();
    }
}

/// <summary>Keeps the tracks and every packet.</summary>
public sealed class CollectingSink : IPacketSink
{
    public IReadOnlyList<TrackInfo> Tracks { get; private set; } = [];

    public List<MediaPacket> Packets { get; } = [];

    public void OnTracks(IReadOnlyList<TrackInfo> tracks) => Tracks = tracks;

    public void Accept(MediaPacket packet) => Packets.Add(packet);
}

/// <summary>
/// Writes every packet through a muxer made when the tracks are known, and counts the bytes it produces; the chunk
/// and the packet are released once counted, as a consumer that is done with them does. With
/// <paramref name="rebuildTimes"/> the tracks are taken as a millisecond container's and every packet's time is rebuilt
/// first (<see cref="ExactTimes"/>, as a feed does at ingest).
/// </summary>
public sealed class MuxingSink(Func<IReadOnlyList<TrackInfo>, IMuxer> create, bool rebuildTimes = false) : IPacketSink
{
    private readonly ExactTimes? _exact = rebuildTimes ? new ExactTimes() : null;
    private IMuxer? _muxer;

    public long Bytes { get; private set; }

    public long Packets { get; private set; }

    public void OnTracks(IReadOnlyList<TrackInfo> tracks)
    {
        _muxer = create(tracks);
        _exact?.OnTracks([.. tracks.Select(t => t with { TimePrecision = MediaTime.TicksPerMillisecond })]);
        Bytes += _muxer.Header.Length;
    }

    public void Accept(MediaPacket packet)
    {
        if (_exact is not null)
        {
            packet = _exact.Apply(packet);
        }

        var chunk = _muxer!.Write(packet);
        Bytes += chunk.Length;
        chunk.Release();
        packet.Release();
        Packets++;
    }
}
