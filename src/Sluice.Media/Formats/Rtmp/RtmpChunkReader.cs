using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Sluice.Media.Formats.Rtmp;

/// <summary>
/// What an <see cref="RtmpChunkReader"/> accepts: the longest message, how many messages may be in progress at once
/// (on different chunk streams), and the bytes all its buffers may hold.
/// </summary>
public sealed record RtmpChunkLimits(int MaxMessageSize, int MaxMessagesInProgress, long MaxBufferedBytes)
{
    /// <summary>
    /// Before a client has published or played: enough for connect, createStream and publish/play (a few hundred
    /// bytes each), not for holding memory. 150 clients declaring two 8 MiB messages each after the handshake took
    /// 3.2 GiB when the reader reserved what they declared.
    /// </summary>
    public static RtmpChunkLimits Untrusted { get; } = new(64 * 1024, 1, 128 * 1024);

    /// <summary>A publisher or player the server accepted: video messages (keyframes) of megabytes, interleaved streams.</summary>
    public static RtmpChunkLimits Trusted { get; } = new(RtmpChunkReader.MaxMessageSize, RtmpChunkReader.MaxChunkStreams, RtmpChunkReader.MaxBufferedBytes);
}

/// <summary>One whole RTMP message. <see cref="Payload"/> is valid until the reader's next call.</summary>
public readonly record struct RtmpMessage(int ChunkStream, byte Type, uint StreamId, uint Timestamp, ReadOnlyMemory<byte> Payload);

/// <summary>
/// Reassembles RTMP messages from the chunk stream, incrementally: every chunk header format (0 to 3), the
/// 1-, 2- and 3-byte basic headers, extended timestamps (also on format 3 chunks of a stream whose header had one),
/// chunk size changes (<see cref="ChunkSize"/>, set by the caller when it reads a Set Chunk Size message) and
/// interleaved chunk streams. "Need more bytes" is a normal result; a chunk header is only consumed whole, chunk data
/// as it comes.
/// </summary>
/// <remarks>
/// Structural damage throws <see cref="MediaFormatException"/>: a format 1 to 3 header on a chunk stream with no
/// previous header, a message longer than <see cref="MaxMessageSize"/>, a length that changes inside a message,
/// more than <see cref="MaxChunkStreams"/> chunk streams or more than <see cref="MaxBufferedBytes"/> of messages in
/// progress. After an exception the instance is unusable. <see cref="Limits"/> bound what a peer may declare and hold
/// (a server gives untrusted peers small ones); a message's buffer grows with the bytes that arrive, never with the
/// length its header declares, so memory follows what a peer actually sent.
/// </remarks>
public sealed class RtmpChunkReader
{
    public const int MaxMessageSize = 8 << 20;
    public const int MaxChunkStreams = 32;
    public const long MaxBufferedBytes = 16L << 20;

    /// <summary>Chunk sizes are 31-bit (the specification's maximum is 0x7FFFFFFF; a message never needs more than its length).</summary>
    public const int MaxChunkSize = 0x7FFFFFFF;

    private readonly Dictionary<int, ChunkStream> _streams = [];
    private long _buffered;
    private ChunkStream? _current; // the chunk stream whose chunk data is being read
    private int _chunkRemaining;
    private int _chunkSize = Rtmp.DefaultChunkSize;

    /// <summary>What this reader accepts from now on (<see cref="RtmpChunkLimits.Trusted"/> unless set).</summary>
    public RtmpChunkLimits Limits { get; set; } = RtmpChunkLimits.Trusted;

    /// <summary>Bytes held in message buffers now.</summary>
    public long BufferedBytes => _buffered;

    /// <summary>Bytes consumed so far (for acknowledgements and error offsets).</summary>
    public long Position { get; private set; }

    /// <summary>Whether a message has begun and not ended (input that stops here stopped mid-message).</summary>
    public bool InMessage => _current is not null || _streams.Values.Any(s => s.Filled > 0);

    /// <summary>The peer's chunk size.</summary>
    public int ChunkSize
    {
        get => _chunkSize;
        set
        {
            if (value < 1)
            {
                Throw(Position, $"Set Chunk Size {value} is not between 1 and {MaxChunkSize}");
            }

            _chunkSize = value;
        }
    }

    /// <summary>Reads one message if the input holds the rest of one; false when more bytes are needed.</summary>
    public bool TryRead(ref SequenceReader<byte> reader, out RtmpMessage message)
    {
        while (true)
        {
            if (_current is null && !TryReadHeader(ref reader))
            {
                message = default;
                return false;
            }

            var stream = _current!;
            int n = (int)Math.Min(_chunkRemaining, reader.Remaining);
            if (n > 0)
            {
                Grow(stream, stream.Filled + n);
                reader.TryCopyTo(stream.Buffer.AsSpan(stream.Filled, n));
                reader.Advance(n);
                stream.Filled += n;
                _chunkRemaining -= n;
                Position += n;
            }

            if (_chunkRemaining > 0)
            {
                message = default;
                return false;
            }

            _current = null;
            if (stream.Filled == stream.Length)
            {
                stream.Filled = 0;
                message = new RtmpMessage(stream.Id, stream.Type, stream.StreamId, stream.Timestamp, stream.Buffer.AsMemory(0, stream.Length));
                return true;
            }
        }
    }

    /// <summary>An Abort Message: drops the partial message of a chunk stream.</summary>
    public void Abort(int chunkStream)
    {
        if (_streams.TryGetValue(chunkStream, out var stream))
        {
            stream.Filled = 0;
        }
    }

    private bool TryReadHeader(ref SequenceReader<byte> reader)
    {
        // The longest header: 3-byte basic header, 11-byte message header, 4-byte extended timestamp.
        Span<byte> head = stackalloc byte[18];
        int have = (int)Math.Min(head.Length, reader.Remaining);
        if (have == 0)
        {
            return false;
        }

        reader.UnreadSequence.Slice(0, have).CopyTo(head);
        int format = head[0] >> 6;
        int id = head[0] & 0x3F;
        int at = 1;
        if (id < 2)
        {
            int extra = id + 1;
            if (have < 1 + extra)
            {
                return false;
            }

            id = 64 + head[1] + (id == 1 ? head[2] << 8 : 0);
            at += extra;
        }

        int fieldLength = format switch { 0 => 11, 1 => 7, 2 => 3, _ => 0 };
        if (have < at + fieldLength)
        {
            return false;
        }

        if (!_streams.TryGetValue(id, out var stream))
        {
            if (format != 0)
            {
                Throw(Position, $"chunk stream {id} begins with a format {format} chunk header, which needs a previous header on that stream");
            }

            if (_streams.Count == MaxChunkStreams)
            {
                Throw(Position, $"more than {MaxChunkStreams} chunk streams");
            }

            stream = new ChunkStream(id);
            _streams[id] = stream;
        }

        var field = head[at..];
        bool starting = stream.Filled == 0;
        uint time = format == 3 ? stream.TimeField : ReadUInt24(field);
        int length = stream.Length;
        if (format <= 1)
        {
            length = (int)ReadUInt24(field[3..]);
        }

        bool extended = format == 3 ? stream.Extended : time == 0xFFFFFF;
        int headerLength = at + fieldLength + (extended ? 4 : 0);
        if (have < headerLength)
        {
            return false;
        }

        if (extended)
        {
            time = BinaryPrimitives.ReadUInt32BigEndian(head[(at + fieldLength)..]);
        }

        if (length > Limits.MaxMessageSize)
        {
            Throw(Position, $"a message of {length} bytes on chunk stream {id} exceeds the limit of {Limits.MaxMessageSize} bytes");
        }

        if (!starting && format <= 1 && length != stream.Length)
        {
            Throw(Position, $"chunk stream {id}: the message length changes from {stream.Length} to {length} inside a message ({stream.Filled} bytes read)");
        }

        if (!starting && format != 3)
        {
            Throw(Position, $"chunk stream {id}: a format {format} chunk header inside a message ({stream.Filled} of {stream.Length} bytes read); only format 3 continues a message");
        }

        if (format <= 1)
        {
            stream.Type = field[6];
        }

        if (format == 0)
        {
            stream.StreamId = BinaryPrimitives.ReadUInt32LittleEndian(field[7..]);
        }

        if (format != 3)
        {
            stream.TimeField = time;
            stream.Extended = extended;
        }

        if (starting)
        {
            // Format 0 carries the absolute time; 1 and 2 a delta; a new message with format 3 adds the last time
            // field again (ffmpeg's reading, which its writer relies on).
            stream.Timestamp = format == 0 ? time : stream.Timestamp + time;

            stream.Length = length;
            int inProgress = 1;
            foreach (var other in _streams.Values)
            {
                inProgress += other != stream && other.Filled > 0 ? 1 : 0;
            }

            if (inProgress > Limits.MaxMessagesInProgress)
            {
                Throw(Position, $"chunk stream {id} begins a message while {inProgress - 1} other(s) are in progress; the limit is {Limits.MaxMessagesInProgress} at once");
            }
        }

        reader.Advance(headerLength);
        Position += headerLength;
        _current = stream;
        _chunkRemaining = Math.Min(_chunkSize, stream.Length - stream.Filled);
        return true;
    }

    /// <summary>Makes room for <paramref name="needed"/> bytes of the message in progress: doubling, up to its declared length.</summary>
    private void Grow(ChunkStream stream, int needed)
    {
        if (stream.Buffer.Length >= needed)
        {
            return;
        }

        int size = Math.Min(stream.Length, Math.Max(needed, Math.Max(4096, 2 * stream.Buffer.Length)));
        long grown = _buffered - stream.Buffer.Length + size;
        if (grown > Limits.MaxBufferedBytes)
        {
            // Give back the buffers of chunk streams with no message in progress before refusing.
            foreach (var other in _streams.Values)
            {
                if (other != stream && other.Filled == 0)
                {
                    grown -= other.Buffer.Length;
                    _buffered -= other.Buffer.Length;
                    other.Buffer = [];
                }
            }

            if (grown > Limits.MaxBufferedBytes)
            {
                Throw(Position, $"messages in progress would hold more than {Limits.MaxBufferedBytes} bytes");
            }
        }

        var buffer = new byte[size];
        stream.Buffer.AsSpan(0, stream.Filled).CopyTo(buffer);
        stream.Buffer = buffer;
        _buffered = grown;
    }

    private static uint ReadUInt24(ReadOnlySpan<byte> bytes) => (uint)((bytes[0] << 16) | (bytes[1] << 8) | bytes[2]);

    [DoesNotReturn]
    private static void Throw(long offset, string message) => throw new MediaFormatException(Rtmp.FormatName, offset, message);

    private sealed class ChunkStream(int id)
    {
        public int Id { get; } = id;
        public byte[] Buffer { get; set; } = [];
        public int Filled { get; set; }
        public int Length { get; set; }
        public byte Type { get; set; }
        public uint StreamId { get; set; }
        public uint Timestamp { get; set; }
        public uint TimeField { get; set; }
        public bool Extended { get; set; }
    }
}
