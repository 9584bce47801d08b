using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Sluice.Media.Buffers;

namespace Sluice.Media.Formats.Flv;

/// <summary>
/// Incremental FLV reader for live ingest (ffmpeg <c>-f flv</c>, OBS and other RTMP-style encoders): the FLV header,
/// then tags (audio, video, script data) each followed by its PreviousTagSize. H.264 (AVC) and, with Enhanced RTMP's
/// ExVideoTagHeader, H.265 ('hvc1'), AV1 ('av01') and VP9 ('vp09'); AAC and MP3.
/// </summary>
/// <remarks>
/// <para>Tracks: the FLV header's audio and video flags (refined by onMetaData, when it names no codec of a kind)
/// say which tracks to expect; a track is described by its sequence header (avcC / hvcC / av1C, AudioSpecificConfig)
/// or, for MP3, by its first frame. Packets are held until every expected track is described, so
/// <see cref="IPacketSink.OnTracks"/> comes once, before the first packet; the wait is bounded by
/// <see cref="MaxPendingPackets"/>, <see cref="MaxPendingBytes"/> and <see cref="MaxPendingTicks"/> of held media,
/// after which the described tracks are announced alone. Video is track 0 when present, audio follows. Packets
/// still held when the input ends (a stream shorter than that wait whose expected track never came) are dropped,
/// as <see cref="Complete"/> has no sink to give them to.
/// Width and height come from the SPS (H.264, H.265), else from onMetaData, as does the frame rate.</para>
/// <para>Times: the tag timestamp (milliseconds, 32 bits with the extension byte, read as signed like ffmpeg and
/// unwrapped) is the DTS; PTS adds the composition time. Packets keep the stream's own times.</para>
/// <para>Damage: a tag header that is not audio, video or script data, reserved bits, a DataSize over
/// <see cref="MaxTagDataSize"/> or a header that is not FLV are structural: <see cref="MediaFormatException"/>.
/// A tag whose body is too short or undecodable, a codec Sluice does not carry, an encrypted tag, a packet before its
/// sequence header or a wrong PreviousTagSize is skipped (or tolerated) and counted. After a
/// <see cref="MediaFormatException"/> the instance is unusable.</para>
/// </remarks>
public sealed partial class FlvDemuxer : IDemuxer
{
    /// <summary>Largest tag body accepted.</summary>
    public const int MaxTagDataSize = 8 << 20;

    /// <summary>Packets held at most while waiting for the sequence header of an expected track.</summary>
    public const int MaxPendingPackets = 1000;

    /// <summary>Payload bytes held at most while waiting for the sequence header of an expected track.</summary>
    public const long MaxPendingBytes = 16L << 20;

    /// <summary>Media time held at most (first to last held DTS) while waiting for an expected track: 3 s.</summary>
    public const long MaxPendingTicks = 3 * MediaTime.TicksPerSecond;

    private const int MaxDataOffset = 1 << 16;

    private readonly ChunkSlab _payloads;
    private readonly List<MediaPacket> _pending = [];
    private long _pendingBytes;

    private Mode _mode = Mode.Header;
    private long _position;
    private long _skipRemaining;
    private long _expectedPreviousTagSize;
    private long _lastTagOffset = -1;

    private bool _expectVideo;
    private bool _expectAudio;
    private VideoState _video;
    private AudioState _audio;
    private int _videoIndex = -1;
    private int _audioIndex = -1;
    private bool _readyToAnnounce;

    private bool _timeKnown;
    private long _lastMs;
    private long _wrapMs;

    private enum Mode
    {
        Header,
        HeaderPadding,
        PreviousTagSize,
        Tag,
    }

    /// <param name="pool">Where the payloads' blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public FlvDemuxer(BlockPool? pool = null) => _payloads = new ChunkSlab(pool: pool);

    public string FormatName => Flv.FormatName;

    public long Position => _position;

    /// <summary>The tracks, once announced; else null.</summary>
    public IReadOnlyList<TrackInfo>? Tracks { get; private set; }

    /// <summary>The FLV header's flags, once read.</summary>
    public bool HeaderHasAudio { get; private set; }

    public bool HeaderHasVideo { get; private set; }

    /// <summary>The last onMetaData read, or null.</summary>
    public FlvMetadata? Metadata { get; private set; }

    /// <summary>Tags whose body was too short or could not be decoded (including script data), skipped.</summary>
    public long DamagedTags { get; private set; }

    /// <summary>Tags of codecs or features Sluice does not read (other codecs, encrypted tags, multitrack), skipped.</summary>
    public long UnsupportedTags { get; private set; }

    /// <summary>Media packets dropped because their track was not (yet) described: before its sequence header, or after the tracks were announced without it.</summary>
    public long UntrackedPackets { get; private set; }

    /// <summary>PreviousTagSize values that did not match the tag before them (tolerated).</summary>
    public long PreviousTagSizeMismatches { get; private set; }

    /// <summary>Sequence headers that changed a track's configuration after the tracks were announced (ignored).</summary>
    public long ConfigurationChanges { get; private set; }

    public SequencePosition Read(ReadOnlySequence<byte> input, IPacketSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var reader = new SequenceReader<byte>(input);
        while (Step(ref reader, sink))
        {
        }

        return reader.Position;
    }

    public void Complete(ReadOnlySequence<byte> remaining)
    {
        switch (_mode)
        {
            case Mode.Header:
                Throw(_position, $"input ended before the end of the FLV header ({remaining.Length} of {Flv.HeaderLength} bytes present)");
                break;
            case Mode.HeaderPadding:
                Throw(_position, $"input ended inside the FLV header's padding ({_skipRemaining} bytes missing)");
                break;
            case Mode.PreviousTagSize:
                Throw(_position, _lastTagOffset < 0
                    ? "input ended before PreviousTagSize0 after the FLV header"
                    : $"input ended before the PreviousTagSize of the tag at byte {_lastTagOffset}");
                break;
            case Mode.Tag when remaining.IsEmpty:
                return;
            default:
            {
                Span<byte> head = stackalloc byte[Flv.TagHeaderLength];
                if (remaining.Length < Flv.TagHeaderLength)
                {
                    Throw(_position, $"input ended inside a tag header ({remaining.Length} of {Flv.TagHeaderLength} bytes present)");
                }

                remaining.Slice(0, Flv.TagHeaderLength).CopyTo(head);
                int size = ReadUInt24(head[1..]);
                Throw(_position, $"input ended inside {TagName(head[0])} of {size} bytes ({remaining.Length - Flv.TagHeaderLength} present)");
                break;
            }
        }
    }

    private bool Step(ref SequenceReader<byte> reader, IPacketSink sink)
    {
        switch (_mode)
        {
            case Mode.Header:
                return ReadHeader(ref reader);

            case Mode.HeaderPadding:
            {
                long n = Math.Min(_skipRemaining, reader.Remaining);
                reader.Advance(n);
                _position += n;
                _skipRemaining -= n;
                if (_skipRemaining == 0)
                {
                    _mode = Mode.PreviousTagSize;
                    return true;
                }

                return false;
            }

            case Mode.PreviousTagSize:
            {
                if (!reader.TryReadBigEndian(out int value))
                {
                    return false;
                }

                if ((uint)value != _expectedPreviousTagSize)
                {
                    PreviousTagSizeMismatches++;
                }

                _position += 4;
                _mode = Mode.Tag;
                return true;
            }

            default:
                return ReadTag(ref reader, sink);
        }
    }

    private bool ReadHeader(ref SequenceReader<byte> reader)
    {
        Span<byte> header = stackalloc byte[Flv.HeaderLength];
        int have = (int)Math.Min(header.Length, reader.Remaining);
        reader.UnreadSequence.Slice(0, have).CopyTo(header);
        int magic = Math.Min(have, 3);
        if (!header[..magic].SequenceEqual("FLV"u8[..magic]))
        {
            Throw(_position, $"not an FLV stream: it starts with {Convert.ToHexString(header[..magic])}, not 464C56 (\"FLV\")");
        }

        if (have > 3 && header[3] != 1)
        {
            Throw(_position + 3, $"FLV header version {header[3]} is not supported (only version 1 exists)");
        }

        if (have < Flv.HeaderLength)
        {
            return false;
        }

        uint dataOffset = BinaryPrimitives.ReadUInt32BigEndian(header[5..]);
        if (dataOffset < Flv.HeaderLength || dataOffset > MaxDataOffset)
        {
            Throw(_position + 5, $"FLV header DataOffset {dataOffset} is not between {Flv.HeaderLength} and {MaxDataOffset}");
        }

        HeaderHasAudio = (header[4] & Flv.HeaderFlagAudio) != 0;
        HeaderHasVideo = (header[4] & Flv.HeaderFlagVideo) != 0;

        // Some writers leave both flags clear: then either kind may come, and the wait for it is bounded.
        _expectAudio = HeaderHasAudio || !HeaderHasVideo;
        _expectVideo = HeaderHasVideo || !HeaderHasAudio;

        reader.Advance(Flv.HeaderLength);
        _position += Flv.HeaderLength;
        _skipRemaining = dataOffset - Flv.HeaderLength;
        _mode = _skipRemaining > 0 ? Mode.HeaderPadding : Mode.PreviousTagSize;
        _expectedPreviousTagSize = 0;
        return true;
    }

    private bool ReadTag(ref SequenceReader<byte> reader, IPacketSink sink)
    {
        if (reader.Remaining < Flv.TagHeaderLength)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[Flv.TagHeaderLength];
        reader.UnreadSequence.Slice(0, Flv.TagHeaderLength).CopyTo(head);
        byte typeByte = head[0];
        int type = typeByte & 0x1F;
        if ((typeByte & 0xC0) != 0 || (type != Flv.TagAudio && type != Flv.TagVideo && type != Flv.TagScript))
        {
            Throw(_position, $"tag type byte 0x{typeByte:X2} is not an audio (8), video (9) or script data (18) tag");
        }

        int size = ReadUInt24(head[1..]);
        if (size > MaxTagDataSize)
        {
            Throw(_position, $"{TagName(typeByte)} of {size} bytes exceeds the limit of {MaxTagDataSize} bytes");
        }

        if (reader.Remaining < Flv.TagHeaderLength + size)
        {
            return false;
        }

        long tagOffset = _position;
        var body = reader.UnreadSequence.Slice(Flv.TagHeaderLength, size);
        long ms = UnwrapTime((int)((uint)ReadUInt24(head[4..]) | ((uint)head[7] << 24)));
        reader.Advance(Flv.TagHeaderLength + size);
        _position += Flv.TagHeaderLength + size;
        _lastTagOffset = tagOffset;
        _expectedPreviousTagSize = Flv.TagHeaderLength + size;
        _mode = Mode.PreviousTagSize;

        if ((typeByte & Flv.TagFilter) != 0)
        {
            UnsupportedTags++;
            return true;
        }

        switch (type)
        {
            case Flv.TagScript:
                ReadScript(body);
                break;
            case Flv.TagVideo:
                ReadVideo(body, ms, sink);
                break;
            default:
                ReadAudio(body, ms, sink);
                break;
        }

        return true;
    }

    /// <summary>Milliseconds from a tag timestamp: signed 32 bits as ffmpeg reads them, unwrapped past 2^31.</summary>
    private long UnwrapTime(int raw)
    {
        long ms = raw + _wrapMs;
        if (_timeKnown && ms < _lastMs - (1L << 31))
        {
            _wrapMs += 1L << 32;
            ms += 1L << 32;
        }

        _timeKnown = true;
        _lastMs = ms;
        return ms;
    }

    private static int ReadUInt24(ReadOnlySpan<byte> bytes) => (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];

    private static int ReadInt24(ReadOnlySpan<byte> bytes) => ((sbyte)bytes[0] << 16) | (bytes[1] << 8) | bytes[2];

    private static string TagName(byte typeByte) => (typeByte & 0x1F) switch
    {
        Flv.TagAudio => "an audio tag",
        Flv.TagVideo => "a video tag",
        Flv.TagScript => "a script data tag",
        _ => $"a tag of type {typeByte & 0x1F}",
    };

    [DoesNotReturn]
    private static void Throw(long offset, string message) => throw new MediaFormatException(Flv.FormatName, offset, message);

    /// <summary>Lets go of the payload slab and of the packets still held for a track that was never described.</summary>
    public void Dispose()
    {
        foreach (var packet in _pending)
        {
            packet.Release();
        }

        _pending.Clear();
        _pendingBytes = 0;
        _payloads.Dispose();
    }
}
