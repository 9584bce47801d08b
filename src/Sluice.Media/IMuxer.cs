namespace Sluice.Media;

/// <summary>
/// A piece of container output, produced once per stream and written unchanged to every viewer:
/// <see cref="Prefix"/> (framing the muxer wrote) followed by <see cref="Payload"/> (a packet payload,
/// shared with the feed, never copied).
/// </summary>
public readonly record struct MuxedChunk(ReadOnlyMemory<byte> Prefix, ReadOnlyMemory<byte> Payload, bool IsJoinPoint)
{
    public int Length => Prefix.Length + Payload.Length;
}

/// <summary>
/// Turns packets back into a container. One instance serves every viewer of a stream: the header comes
/// first for each viewer, then the chunks from a join point on (a point where a decoder can start:
/// for video, a keyframe at the start of a container unit such as a Matroska Cluster).
/// </summary>
public interface IMuxer
{
    string ContentType { get; }

    /// <summary>The container header for the tracks given at construction.</summary>
    ReadOnlyMemory<byte> Header { get; }

    /// <summary>Frames one packet. Packets must come in decode order with non-decreasing DTS.</summary>
    MuxedChunk Write(MediaPacket packet);
}
