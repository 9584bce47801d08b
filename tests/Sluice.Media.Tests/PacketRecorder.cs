using System.Buffers;

namespace Sluice.Media.Tests;

/// <summary>An <see cref="IPacketSink"/> that keeps what it gets.</summary>
internal sealed class PacketRecorder : IPacketSink
{
    public List<IReadOnlyList<TrackInfo>> TrackCalls { get; } = [];
    public List<MediaPacket> Packets { get; } = [];

    public IReadOnlyList<TrackInfo>? Tracks => TrackCalls.Count > 0 ? TrackCalls[0] : null;

    public void OnTracks(IReadOnlyList<TrackInfo> tracks) => TrackCalls.Add(tracks);

    public void Accept(MediaPacket packet) => Packets.Add(packet);

    /// <summary>A line per packet, payload included as a hash, for comparing two runs.</summary>
    public List<string> Describe() =>
        [.. Packets.Select(p => $"{p.Track} {p.Dts} {p.Pts} {p.IsKeyframe} {p.Duration} {p.Payload.Length} {Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(p.Payload.Span))}")];
}

/// <summary>
/// Feeds bytes to a demuxer the way an HTTP ingest does: chunks arrive, each becomes its own buffer segment, and
/// the unconsumed rest is given again with the next chunk appended.
/// </summary>
internal static class Feeder
{
    public static PacketRecorder Feed(IDemuxer demuxer, byte[] data, int chunkSize, bool complete = true)
    {
        var recorder = new PacketRecorder();
        Feed(demuxer, data, chunkSize, recorder, complete);
        return recorder;
    }

    public static void Feed(IDemuxer demuxer, byte[] data, int chunkSize, IPacketSink sink, bool complete = true)
    {
        BufferSegment? first = null;
        BufferSegment? last = null;
        int firstIndex = 0;
        var pending = ReadOnlySequence<byte>.Empty;
        for (int at = 0; at < data.Length; at += chunkSize)
        {
            var chunk = data.AsMemory(at, Math.Min(chunkSize, data.Length - at));
            if (last is null)
            {
                first = last = new BufferSegment(chunk, 0);
                firstIndex = 0;
            }
            else
            {
                last = last.Append(chunk);
            }

            pending = new ReadOnlySequence<byte>(first!, firstIndex, last, last.Memory.Length);
            var consumed = demuxer.Read(pending, sink);
            pending = pending.Slice(consumed);
            if (pending.IsEmpty)
            {
                first = last = null;
            }
            else
            {
                first = (BufferSegment)pending.Start.GetObject()!;
                firstIndex = pending.Start.GetInteger();
            }
        }

        if (complete)
        {
            demuxer.Complete(pending);
        }
    }

    private sealed class BufferSegment : ReadOnlySequenceSegment<byte>
    {
        public BufferSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public BufferSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new BufferSegment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
