using System.Buffers;
using System.Buffers.Binary;
using Sluice.Media.Formats.Rtmp;

namespace Sluice.Media.Tests.Formats.Rtmp;

/// <summary>One message as the chunk reader must return it.</summary>
public sealed record ExpectedMessage(int ChunkStream, byte Type, uint StreamId, uint Timestamp, byte[] Payload);

/// <summary>A case of the chunk stream: input bytes (after the handshake) and the messages, or the error, they give.</summary>
public sealed record RtmpCase(string Name, byte[] Input, ExpectedMessage[] Messages, string? Error = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// The one table of chunk stream cases: every header format, basic header length, extended timestamps, chunk size
/// changes, interleaving, and the structural errors. The read tests feed each whole, byte by byte and at odd sizes;
/// the mutation test starts from them.
/// </summary>
public static class RtmpCases
{
    public static byte[] Payload(int length, int seed) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7 + seed))];

    /// <summary>Hand-built chunk: basic header, message header fields by format, optional extended timestamp, data.</summary>
    public static byte[] Chunk(int format, int chunkStream, uint time = 0, int length = 0, byte type = 0, uint streamId = 0, uint? extended = null, byte[]? data = null)
    {
        var bytes = new List<byte>();
        if (chunkStream < 64)
        {
            bytes.Add((byte)((format << 6) | chunkStream));
        }
        else if (chunkStream < 320)
        {
            bytes.Add((byte)(format << 6));
            bytes.Add((byte)(chunkStream - 64));
        }
        else
        {
            bytes.Add((byte)((format << 6) | 1));
            bytes.Add((byte)((chunkStream - 64) & 0xFF));
            bytes.Add((byte)((chunkStream - 64) >> 8));
        }

        if (format <= 2)
        {
            bytes.AddRange([(byte)(time >> 16), (byte)(time >> 8), (byte)time]);
        }

        if (format <= 1)
        {
            bytes.AddRange([(byte)(length >> 16), (byte)(length >> 8), (byte)length, type]);
        }

        if (format == 0)
        {
            bytes.AddRange([(byte)streamId, (byte)(streamId >> 8), (byte)(streamId >> 16), (byte)(streamId >> 24)]);
        }

        if (extended is uint e)
        {
            bytes.AddRange([(byte)(e >> 24), (byte)(e >> 16), (byte)(e >> 8), (byte)e]);
        }

        bytes.AddRange(data ?? []);
        return [.. bytes];
    }

    public static byte[] SetChunkSize(int size)
    {
        byte[] value = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(value, size);
        return Chunk(0, 2, 0, 4, global::Sluice.Media.Formats.Rtmp.Rtmp.SetChunkSize, 0, data: value);
    }

    public static readonly byte[] Big = Payload(300, 1);
    public static readonly byte[] Small = Payload(10, 2);

    public static IReadOnlyList<RtmpCase> All { get; } =
    [
        new("format 0, one chunk",
            Chunk(0, 3, 1000, 10, 20, 0, data: Small),
            [new(3, 20, 0, 1000, Small)]),
        new("format 0 then format 3 continuations at the default chunk size",
            [.. Chunk(0, 4, 40, 300, 8, 1, data: Big[..128]), .. Chunk(3, 4, data: Big[128..256]), .. Chunk(3, 4, data: Big[256..])],
            [new(4, 8, 1, 40, Big)]),
        new("formats 1, 2 and 3 add their deltas",
            [.. Chunk(0, 6, 100, 10, 9, 1, data: Small), .. Chunk(1, 6, 33, 10, 9, data: Small), .. Chunk(2, 6, 34, data: Small), .. Chunk(3, 6, data: Small)],
            [new(6, 9, 1, 100, Small), new(6, 9, 1, 133, Small), new(6, 9, 1, 167, Small), new(6, 9, 1, 201, Small)]),
        new("extended timestamp, repeated on format 3 chunks",
            [.. Chunk(0, 4, 0xFFFFFF, 300, 8, 1, 0x01020304, Big[..128]), .. Chunk(3, 4, extended: 0x01020304, data: Big[128..256]), .. Chunk(3, 4, extended: 0x01020304, data: Big[256..])],
            [new(4, 8, 1, 0x01020304, Big)]),
        new("two- and three-byte basic headers",
            [.. Chunk(0, 64, 5, 10, 9, 1, data: Small), .. Chunk(0, 319, 6, 10, 8, 1, data: Small), .. Chunk(0, 320, 7, 10, 18, 1, data: Small), .. Chunk(0, 65599, 8, 10, 20, 1, data: Small)],
            [new(64, 9, 1, 5, Small), new(319, 8, 1, 6, Small), new(320, 18, 1, 7, Small), new(65599, 20, 1, 8, Small)]),
        new("chunk streams interleaved",
            [.. Chunk(0, 4, 10, 300, 8, 1, data: Big[..128]), .. Chunk(0, 6, 11, 10, 9, 1, data: Small), .. Chunk(3, 4, data: Big[128..256]), .. Chunk(3, 4, data: Big[256..])],
            [new(6, 9, 1, 11, Small), new(4, 8, 1, 10, Big)]),
        new("Set Chunk Size applies to the next chunk",
            [.. SetChunkSize(4096), .. Chunk(0, 4, 50, 300, 8, 1, data: Big), .. SetChunkSize(100), .. Chunk(0, 4, 60, 300, 8, 1, data: Big[..100]), .. Chunk(3, 4, data: Big[100..200]), .. Chunk(3, 4, data: Big[200..])],
            [new(2, 1, 0, 0, [0, 0, 16, 0]), new(4, 8, 1, 50, Big), new(2, 1, 0, 0, [0, 0, 0, 100]), new(4, 8, 1, 60, Big)]),
        new("an empty message",
            [.. Chunk(0, 3, 0, 0, 20, 0), .. Chunk(0, 3, 1, 10, 20, 0, data: Small)],
            [new(3, 20, 0, 0, []), new(3, 20, 0, 1, Small)]),
        new("a chunk stream that begins with format 1",
            Chunk(1, 5, 10, 10, 9, data: Small),
            [], "chunk stream 5 begins with a format 1 chunk header"),
        new("a message over the size limit",
            Chunk(0, 3, 0, 0xFFFFFF, 9, 1),
            [], "a message of 16777215 bytes on chunk stream 3 exceeds the limit"),
        new("a new header inside a message",
            [.. Chunk(0, 4, 10, 300, 8, 1, data: Big[..128]), .. Chunk(1, 4, 10, 300, 8, data: Big[128..256])],
            [], "a format 1 chunk header inside a message"),
        new("a message that stops in the middle",
            Chunk(0, 4, 10, 300, 8, 1, data: Big[..128]),
            [], "ended inside a message"),
    ];

    /// <summary>A plain C0 + C1 + C2 (C1's version field zero).</summary>
    public static byte[] PlainHandshake() => [3, .. new byte[1536], .. new byte[1536]];

    /// <summary>Feeds a handshake and chunk stream through <see cref="RtmpChunkReader"/>, as a server would, recording messages.</summary>
    public sealed class Parser : IDemuxer
    {
        private readonly RtmpHandshake _handshake = new();
        private bool _handshakeDone;

        public RtmpChunkReader Chunks { get; } = new();

        public List<ExpectedMessage> Messages { get; } = [];

        public byte[]? Reply { get; private set; }

        public string FormatName => "RTMP";

        public long Position { get; private set; }

        public void Dispose()
        {
        }

        public SequencePosition Read(ReadOnlySequence<byte> input, IPacketSink sink)
        {
            var reader = new SequenceReader<byte>(input);
            while (!_handshakeDone)
            {
                var status = _handshake.Read(ref reader);
                if (status == RtmpHandshake.Status.Reply)
                {
                    Reply = _handshake.Reply;
                    continue;
                }

                _handshakeDone = status == RtmpHandshake.Status.Done;
                if (!_handshakeDone)
                {
                    Position += reader.Consumed;
                    return reader.Position;
                }
            }

            while (Chunks.TryRead(ref reader, out var message))
            {
                Messages.Add(new ExpectedMessage(message.ChunkStream, message.Type, message.StreamId, message.Timestamp, message.Payload.ToArray()));
                if (message.Type == global::Sluice.Media.Formats.Rtmp.Rtmp.SetChunkSize && message.Payload.Length >= 4)
                {
                    Chunks.ChunkSize = BinaryPrimitives.ReadInt32BigEndian(message.Payload.Span);
                }
            }

            Position += reader.Consumed;
            return reader.Position;
        }

        public void Complete(ReadOnlySequence<byte> remaining)
        {
            if (!_handshakeDone || Chunks.InMessage || !remaining.IsEmpty)
            {
                throw new MediaFormatException("RTMP", Chunks.Position, "the input ended inside a message or the handshake");
            }
        }
    }
}
