using System.Buffers;
using System.Buffers.Binary;

namespace Sluice.Media.Formats.Rtmp;

/// <summary>
/// Writes RTMP messages as chunks: a format 0 header (absolute timestamp, so the bytes do not depend on what was
/// sent before on the chunk stream and can be shared by every peer), then format 3 headers for the rest.
/// Chunk stream ids 2 to 63 (one-byte basic headers).
/// </summary>
public static class RtmpChunkWriter
{
    /// <summary>The most bytes <see cref="Write(Span{byte}, int, byte, uint, uint, ReadOnlySpan{byte}, int)"/> produces for a payload.</summary>
    public static int MaxLength(int payloadLength, int chunkSize) =>
        16 + payloadLength + Math.Max(0, (payloadLength - 1) / chunkSize) * 5;

    /// <summary>Writes one message; returns the length written.</summary>
    public static int Write(Span<byte> destination, int chunkStream, byte type, uint streamId, uint timestamp, ReadOnlySpan<byte> payload, int chunkSize) =>
        Write(destination, chunkStream, type, streamId, timestamp, [], payload, chunkSize);

    /// <summary>Writes one message whose body is <paramref name="head"/> then <paramref name="payload"/>, without joining them first.</summary>
    public static int Write(Span<byte> destination, int chunkStream, byte type, uint streamId, uint timestamp, ReadOnlySpan<byte> head, ReadOnlySpan<byte> payload, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkStream, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkStream, 63);
        int bodyLength = head.Length + payload.Length;
        bool extended = timestamp >= 0xFFFFFF;
        destination[0] = (byte)chunkStream;
        WriteUInt24(destination[1..], extended ? 0xFFFFFF : timestamp);
        WriteUInt24(destination[4..], (uint)bodyLength);
        destination[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], streamId);
        int at = 12;
        if (extended)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[at..], timestamp);
            at += 4;
        }

        int done = 0;
        while (true)
        {
            // One chunk: up to chunkSize bytes of the body, taken from head then payload.
            int end = Math.Min(done + chunkSize, bodyLength);
            if (done < head.Length)
            {
                int n = Math.Min(end, head.Length) - done;
                head.Slice(done, n).CopyTo(destination[at..]);
                at += n;
                done += n;
            }

            if (done < end)
            {
                int n = end - done;
                payload.Slice(done - head.Length, n).CopyTo(destination[at..]);
                at += n;
                done += n;
            }

            if (done == bodyLength)
            {
                return at;
            }

            destination[at++] = (byte)(0xC0 | chunkStream);
            if (extended)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[at..], timestamp);
                at += 4;
            }
        }
    }

    /// <summary>Writes one message to a pipe or buffer.</summary>
    public static void Write(IBufferWriter<byte> output, int chunkStream, byte type, uint streamId, uint timestamp, ReadOnlySpan<byte> payload, int chunkSize)
    {
        var span = output.GetSpan(MaxLength(payload.Length, chunkSize));
        output.Advance(Write(span, chunkStream, type, streamId, timestamp, payload, chunkSize));
    }

    /// <summary>A protocol control message with a 32-bit value (Set Chunk Size, Acknowledgement, Window Acknowledgement Size).</summary>
    public static void WriteControl(IBufferWriter<byte> output, byte type, uint value, int chunkSize)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        Write(output, Rtmp.ControlChunkStream, type, 0, 0, payload, chunkSize);
    }

    /// <summary>Set Peer Bandwidth with limit type 2 (dynamic).</summary>
    public static void WritePeerBandwidth(IBufferWriter<byte> output, uint window, int chunkSize)
    {
        Span<byte> payload = stackalloc byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(payload, window);
        payload[4] = 2;
        Write(output, Rtmp.ControlChunkStream, Rtmp.SetPeerBandwidth, 0, 0, payload, chunkSize);
    }

    /// <summary>A User Control message with one 32-bit argument (Stream Begin, Stream EOF, Ping Response).</summary>
    public static void WriteUserControl(IBufferWriter<byte> output, ushort type, uint argument, int chunkSize)
    {
        Span<byte> payload = stackalloc byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(payload, type);
        BinaryPrimitives.WriteUInt32BigEndian(payload[2..], argument);
        Write(output, Rtmp.ControlChunkStream, Rtmp.UserControl, 0, 0, payload, chunkSize);
    }

    private static void WriteUInt24(Span<byte> destination, uint value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }
}
