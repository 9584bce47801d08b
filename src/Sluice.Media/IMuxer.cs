using Sluice.Media.Buffers;

namespace Sluice.Media;

/// <summary>
/// A piece of container output, produced once per stream and written unchanged to every viewer:
/// <see cref="Prefix"/> (framing the muxer wrote) followed by <see cref="Payload"/> (a packet payload,
/// shared with the feed, never copied). A chunk from <see cref="IMuxer.Write"/> holds one reference to each
/// pooled block it points into (<see cref="PrefixOwner"/>, <see cref="PayloadOwner"/>): its receiver releases
/// them with <see cref="Release"/> once the bytes are copied (or hands them over, as <c>ChunkRing.Append</c> takes
/// them); one it never releases leaks the blocks until the garbage collector takes them.
/// The rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
public readonly record struct MuxedChunk(ReadOnlyMemory<byte> Prefix, ReadOnlyMemory<byte> Payload, bool IsJoinPoint)
{
    public int Length => Prefix.Length + Payload.Length;

    public PooledBlock? PrefixOwner { get; init; }

    public PooledBlock? PayloadOwner { get; init; }

    /// <summary>Gives up the chunk's references to its blocks.</summary>
    public void Release()
    {
        PrefixOwner?.Release();
        PayloadOwner?.Release();
    }
}

/// <summary>
/// Turns packets back into a container. One instance serves every viewer of a stream: the header comes
/// first for each viewer, then the chunks from a join point on (a point where a decoder can start:
/// for video, a keyframe at the start of a container unit such as a Matroska Cluster).
/// </summary>
public interface IMuxer : IDisposable
{
    string ContentType { get; }

    /// <summary>The container header for the tracks given at construction.</summary>
    ReadOnlyMemory<byte> Header { get; }

    /// <summary>Frames one packet. Packets must come in decode order with non-decreasing DTS.</summary>
    MuxedChunk Write(MediaPacket packet);
}
