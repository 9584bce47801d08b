using System.Buffers;
using Sluice.Media.Buffers;
using Sluice.Media.Codecs;

namespace Sluice.Media.Formats.Matroska;

/// <summary>
/// Incremental Matroska/WebM reader for live ingest. It is handed whatever bytes have arrived and parses every
/// complete element; blocks and header elements (EBML header, Info, Tracks) are parsed once they are complete,
/// everything else it does not need (SeekHead, Cues, Tags, Chapters, Attachments, Void, unknown elements) is
/// skipped as it streams by, so memory stays bounded by the largest block. Segment and Cluster may have an
/// unknown size; an unknown-size Cluster ends at the next top-level element.
/// </summary>
/// <remarks>
/// Matroska stores presentation times only. Packets get DTS = PTS, except H.264/H.265 with B-frames (a reordering
/// depth in the SPS), whose decode times <see cref="DecodeTimeline"/> derives, with every track's times delayed by that
/// many frames. After a <see cref="MediaFormatException"/> the instance is unusable.
/// </remarks>
public sealed partial class MatroskaDemuxer : IDemuxer
{
    /// <summary>Largest SimpleBlock or BlockGroup accepted.</summary>
    public const long MaxBlockSize = 64L << 20;

    /// <summary>Largest EBML header, Info or Tracks element accepted.</summary>
    public const long MaxHeaderElementSize = 16L << 20;

    private const long DefaultTimestampScale = 1_000_000;
    private static readonly byte[] EbmlMagic = [0x1A, 0x45, 0xDF, 0xA3];

    private readonly ChunkSlab _payloads;
    private readonly List<OpenElement> _open = new(4);
    private readonly Dictionary<ulong, int> _trackByNumber = [];
    private TrackState[] _trackStates = [];
    private DecodeTimeline?[] _timelines = [];
    private long _lead; // added to every time when a video track has B-frames: see ParseTracks

    private long _position;
    private bool _ebmlHeaderDone;
    private bool _segmentSeen;

    private long _skipRemaining;
    private uint _skipId;

    private long _clusterTimestamp = -1;

    /// <param name="pool">Where the payloads' blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public MatroskaDemuxer(BlockPool? pool = null) => _payloads = new ChunkSlab(pool: pool);

    public string FormatName => "Matroska";

    public long Position => _position;

    /// <summary>The tracks, once the Tracks element has been read; else null.</summary>
    public IReadOnlyList<TrackInfo>? Tracks { get; private set; }

    /// <summary>The Segment's TimestampScale in nanoseconds (1,000,000 unless Info says otherwise).</summary>
    public long TimestampScale { get; private set; } = DefaultTimestampScale;

    /// <summary>The DocType the EBML header named ("webm" or "matroska"), once read.</summary>
    public string? DocType { get; private set; }

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
        if (!remaining.IsEmpty)
        {
            Span<byte> head = stackalloc byte[Ebml.MaxHeaderLength];
            int have = (int)Math.Min(head.Length, remaining.Length);
            remaining.Slice(0, have).CopyTo(head);
            string where = _open.Count == 0 ? "the stream" : Ebml.NameOf(_open[^1].Id);
            bool complete;
            uint id;
            long size;
            int headerLength;
            try
            {
                complete = Ebml.TryReadHeader(head[..have], _position, out id, out size, out headerLength);
            }
            catch (MediaFormatException)
            {
                complete = false;
                id = 0;
                size = 0;
                headerLength = 0;
            }

            if (complete)
            {
                string total = size == Ebml.UnknownSize ? "unknown size" : $"{headerLength + size} bytes";
                Ebml.ThrowFormat(_position, $"input ended inside {Ebml.NameOf(id)} in {where} (element of {total}, {remaining.Length} bytes present)");
            }

            Ebml.ThrowFormat(_position, $"input ended inside an element header in {where} ({remaining.Length} bytes present)");
        }

        if (_skipRemaining > 0)
        {
            Ebml.ThrowFormat(_position, $"input ended inside {Ebml.NameOf(_skipId)} ({_skipRemaining} bytes missing)");
        }

        if (!_ebmlHeaderDone)
        {
            Ebml.ThrowFormat(_position, "input ended before the EBML header");
        }

        if (!_segmentSeen)
        {
            Ebml.ThrowFormat(_position, "input ended before the Segment");
        }

        for (int i = _open.Count - 1; i >= 0; i--)
        {
            if (_open[i].End != Ebml.UnknownSize && _open[i].End > _position)
            {
                Ebml.ThrowFormat(_position, $"input ended inside {Ebml.NameOf(_open[i].Id)} ({_open[i].End - _position} bytes missing)");
            }
        }
    }

    /// <summary>One element (or one piece of a skipped element). False when more bytes are needed.</summary>
    private bool Step(ref SequenceReader<byte> reader, IPacketSink sink)
    {
        CloseFinished();

        if (_skipRemaining > 0)
        {
            long n = Math.Min(_skipRemaining, reader.Remaining);
            if (n == 0)
            {
                return false;
            }

            reader.Advance(n);
            _position += n;
            _skipRemaining -= n;
            return true;
        }

        if (reader.End)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[Ebml.MaxHeaderLength];
        int have = (int)Math.Min(head.Length, reader.Remaining);
        reader.UnreadSequence.Slice(0, have).CopyTo(head);
        if (!_ebmlHeaderDone)
        {
            CheckMagic(head[..have]);
        }

        if (!Ebml.TryReadHeader(head[..have], _position, out uint id, out long size, out int headerLength))
        {
            return false;
        }

        var parent = _open.Count == 0 ? default : _open[^1];
        if ((ElementId)parent.Id == ElementId.Cluster && parent.End == Ebml.UnknownSize && Ebml.IsTopLevel(id))
        {
            // An unknown-size Cluster ends where the next top-level element begins.
            _open.RemoveAt(_open.Count - 1);
            _clusterTimestamp = -1;
            return true;
        }

        if (size != Ebml.UnknownSize)
        {
            CheckFitsParent(id, size, headerLength);
        }

        switch ((ElementId)parent.Id)
        {
            case 0:
                return StepTopLevel(ref reader, id, size, headerLength);
            case ElementId.Segment:
                return StepInSegment(ref reader, sink, id, size, headerLength);
            default:
                return StepInCluster(ref reader, sink, id, size, headerLength);
        }
    }

    private bool StepTopLevel(ref SequenceReader<byte> reader, uint id, long size, int headerLength)
    {
        if (!_ebmlHeaderDone)
        {
            // CheckMagic guarantees the ID is EBML.
            if (!TryTakeWhole(ref reader, id, size, headerLength, MaxHeaderElementSize, out var body, out long bodyOffset))
            {
                return false;
            }

            ParseEbmlHeader(body, bodyOffset);
            _ebmlHeaderDone = true;
            return true;
        }

        switch ((ElementId)id)
        {
            case ElementId.Segment when !_segmentSeen:
                _segmentSeen = true;
                Enter(ref reader, id, size, headerLength);
                return true;
            case ElementId.Segment:
            case ElementId.Ebml:
                Ebml.ThrowFormat(_position, $"a second {Ebml.NameOf(id)} follows the first Segment; chained streams are not supported");
                return false;
            case ElementId.Void:
            case ElementId.Crc32:
                return StartSkip(ref reader, id, size, headerLength);
            default:
                Ebml.ThrowFormat(_position, _segmentSeen
                    ? $"{Ebml.NameOf(id)} after the end of the Segment"
                    : $"expected a Segment after the EBML header, found {Ebml.NameOf(id)}");
                return false;
        }
    }

    private bool StepInSegment(ref SequenceReader<byte> reader, IPacketSink sink, uint id, long size, int headerLength)
    {
        switch ((ElementId)id)
        {
            case ElementId.Cluster:
                Enter(ref reader, id, size, headerLength);
                _clusterTimestamp = -1;
                return true;

            case ElementId.Info:
            {
                if (!TryTakeWhole(ref reader, id, size, headerLength, MaxHeaderElementSize, out var body, out long bodyOffset))
                {
                    return false;
                }

                ParseInfo(body, bodyOffset);
                return true;
            }

            case ElementId.Tracks:
            {
                if (!TryTakeWhole(ref reader, id, size, headerLength, MaxHeaderElementSize, out var body, out long bodyOffset))
                {
                    return false;
                }

                ParseTracks(body, bodyOffset, sink);
                return true;
            }

            case ElementId.Ebml:
                Ebml.ThrowFormat(_position, "a new EBML header inside the Segment; chained streams are not supported");
                return false;

            case ElementId.Segment:
                Ebml.ThrowFormat(_position, "Segment inside a Segment");
                return false;

            default:
                // SeekHead, Cues, Tags, Chapters, Attachments, Void, CRC-32 and anything unknown.
                return StartSkip(ref reader, id, size, headerLength);
        }
    }

    private bool StepInCluster(ref SequenceReader<byte> reader, IPacketSink sink, uint id, long size, int headerLength)
    {
        switch ((ElementId)id)
        {
            case ElementId.Timestamp:
            {
                if (!TryTakeWhole(ref reader, id, size, headerLength, 8, out var body, out long bodyOffset))
                {
                    return false;
                }

                ulong value = ReadUInt(body, bodyOffset, id);
                if (value > long.MaxValue / 2)
                {
                    Ebml.ThrowFormat(bodyOffset, $"Cluster Timestamp {value} is out of range");
                }

                _clusterTimestamp = (long)value;
                return true;
            }

            case ElementId.SimpleBlock:
            {
                if (!TryTakeWhole(ref reader, id, size, headerLength, MaxBlockSize, out var body, out long bodyOffset))
                {
                    return false;
                }

                ParseBlock(body, bodyOffset, simple: true, groupKeyframe: false, groupDuration: -1, sink);
                return true;
            }

            case ElementId.BlockGroup:
            {
                if (!TryTakeWhole(ref reader, id, size, headerLength, MaxBlockSize, out var body, out long bodyOffset))
                {
                    return false;
                }

                ParseBlockGroup(body, bodyOffset, sink);
                return true;
            }

            case ElementId.Segment:
            case ElementId.Ebml:
                Ebml.ThrowFormat(_position, $"{Ebml.NameOf(id)} inside a Cluster");
                return false;

            default:
                if (Ebml.IsTopLevel(id))
                {
                    // Only a known-size Cluster gets here: a top-level element inside it.
                    Ebml.ThrowFormat(_position, $"{Ebml.NameOf(id)} inside a Cluster");
                }

                return StartSkip(ref reader, id, size, headerLength);
        }
    }

    private void CheckMagic(ReadOnlySpan<byte> head)
    {
        int n = Math.Min(head.Length, EbmlMagic.Length);
        if (!head[..n].SequenceEqual(EbmlMagic.AsSpan(0, n)))
        {
            Ebml.ThrowFormat(_position, $"not an EBML stream: it starts with {Convert.ToHexString(head[..n])}, not 1A45DFA3");
        }
    }

    /// <summary>Closes every open known-size element that ends at the current position (and what is inside it).</summary>
    private void CloseFinished()
    {
        for (int i = 0; i < _open.Count; i++)
        {
            if (_open[i].End == _position)
            {
                // Everything from i on is closed; only the innermost can be a Cluster.
                _clusterTimestamp = -1;
                _open.RemoveRange(i, _open.Count - i);
                return;
            }
        }
    }

    private void CheckFitsParent(uint id, long size, int headerLength)
    {
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            long end = _open[i].End;
            if (end == Ebml.UnknownSize)
            {
                continue;
            }

            if (size > end - _position - headerLength)
            {
                Ebml.ThrowFormat(_position, $"{Ebml.NameOf(id)} of {size} bytes runs past the end of its parent {Ebml.NameOf(_open[i].Id)} (which ends at byte {end})");
            }

            return;
        }
    }

    private void Enter(ref SequenceReader<byte> reader, uint id, long size, int headerLength)
    {
        reader.Advance(headerLength);
        _position += headerLength;
        _open.Add(new OpenElement(id, size == Ebml.UnknownSize ? Ebml.UnknownSize : _position + size));
    }

    private bool StartSkip(ref SequenceReader<byte> reader, uint id, long size, int headerLength)
    {
        if (size == Ebml.UnknownSize)
        {
            Ebml.ThrowFormat(_position, $"{Ebml.NameOf(id)} has an unknown size; only Segment and Cluster may");
        }

        reader.Advance(headerLength);
        _position += headerLength;
        _skipRemaining = size;
        _skipId = id;
        return true;
    }

    /// <summary>
    /// Takes a whole element once all of it is present. False (nothing consumed) while it is not.
    /// Rejects an unknown size and sizes over <paramref name="limit"/> before waiting for the bytes.
    /// </summary>
    private bool TryTakeWhole(ref SequenceReader<byte> reader, uint id, long size, int headerLength, long limit, out ReadOnlySequence<byte> body, out long bodyOffset)
    {
        if (size == Ebml.UnknownSize)
        {
            Ebml.ThrowFormat(_position, $"{Ebml.NameOf(id)} has an unknown size; only Segment and Cluster may");
        }

        if (size > limit)
        {
            Ebml.ThrowFormat(_position, $"{Ebml.NameOf(id)} of {size} bytes exceeds the limit of {limit} bytes");
        }

        body = default;
        bodyOffset = _position + headerLength;
        if (reader.Remaining < headerLength + size)
        {
            return false;
        }

        body = reader.UnreadSequence.Slice(headerLength, size);
        reader.Advance(headerLength + size);
        _position += headerLength + size;
        return true;
    }

    private readonly record struct OpenElement(uint Id, long End);

    public void Dispose() => _payloads.Dispose();
}
