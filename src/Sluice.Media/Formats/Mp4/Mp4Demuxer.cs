using System.Buffers;
using System.Buffers.Binary;
using Sluice.Media.Buffers;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// Incremental MP4 reader, for an MP4 that arrives as a byte stream (a pipe, an upload, a file read front to back):
/// fragmented files, and progressive ones whose moov comes before the mdat (<c>-movflags +faststart</c>). A file whose
/// moov follows its mdat cannot be read this way (its samples go by before anything says what they are): it is
/// refused, and <see cref="Mp4FileReader"/> reads it from a seekable stream.
/// </summary>
/// <remarks>
/// <para>The ftyp, the moov and each moof are taken whole (the moov up to <see cref="Mp4FileReader.MaxMoovLength"/>, a
/// moof up to 16 MiB), everything else streams by: an mdat's samples are copied out as their bytes arrive and the rest
/// is skipped, so memory is the moov, the current moof and a packet. The tracks, their times and flags are the same as
/// <see cref="Mp4FileReader"/>'s (the same tables and cursors), except where the file reader looks at a first sample
/// that comes after the announcement here: an MPEG audio track is described by its sample entry, not by its first
/// frame, and a fragmented video track has no <see cref="TrackInfo.DefaultDuration"/>.</para>
/// <para>Order: as the bytes come, each track in its decode order, the tracks interleaved by file offset as the
/// writer laid them out (ffmpeg interleaves them by time). A sample that lies behind what has been read (a moov after
/// its samples, a track whose samples go back in the file), or across the end of its mdat, is damage. After a
/// <see cref="MediaFormatException"/> the instance is unusable.</para>
/// </remarks>
public sealed class Mp4Demuxer : IDemuxer
{
    private readonly ChunkSlab _payloads;
    private readonly Mp4Source _source = Mp4Source.Streamed();
    private Mp4Track[] _tracks = [];
    private bool _haveMoov;
    private string? _brand;
    private int _fragments;

    private Mode _mode = Mode.BoxHeader;
    private long _position;
    private long _boxStart;
    private long _boxEnd;
    private uint _boxType;
    private int _boxHeader;

    private enum Mode
    {
        BoxHeader,
        WholeBox,
        Skip,
        Mdat,
    }

    /// <param name="pool">Where the payloads' blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public Mp4Demuxer(BlockPool? pool = null) => _payloads = new ChunkSlab(pool: pool);

    public string FormatName => Mp4.FormatName;

    public long Position => _position;

    /// <summary>The tracks, once the moov has been read; else null.</summary>
    public IReadOnlyList<TrackInfo>? Tracks { get; private set; }

    /// <summary>The moov's tracks that are left out, each with why (empty until the moov is read).</summary>
    public IReadOnlyList<Mp4SkippedTrack> SkippedTracks { get; private set; } = [];

    /// <summary>The ftyp's major brand, or null.</summary>
    public string? MajorBrand => _brand;

    /// <summary>True when the moov has an mvex: the samples come in movie fragments.</summary>
    public bool IsFragmented { get; private set; }

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
        bool openEndedMdat = _mode == Mode.Mdat && _boxEnd == long.MaxValue;
        if ((_mode != Mode.BoxHeader && !openEndedMdat) || !remaining.IsEmpty)
        {
            string what = _mode == Mode.BoxHeader ? "a box header" : $"{Mp4.TypeName(_boxType)} (box of {_boxEnd - _boxStart} bytes at byte {_boxStart})";
            Mp4.Throw(_position, $"input ended inside {what}, {remaining.Length} bytes after byte {_position}");
        }

        if (!_haveMoov)
        {
            Mp4.Throw(_position, "input ended before a moov box");
        }

        foreach (var track in _tracks)
        {
            if (track.HasSample)
            {
                Mp4.Throw(_position, $"input ended before the sample of track {track.TrackId} at byte {track.Offset}");
            }
        }
    }

    private bool Step(ref SequenceReader<byte> reader, IPacketSink sink)
    {
        switch (_mode)
        {
            case Mode.BoxHeader:
                return ReadBoxHeader(ref reader);
            case Mode.WholeBox:
                return TakeWholeBox(ref reader, sink);
            case Mode.Skip:
                return SkipTo(ref reader, _boxEnd);

            default:
                return StepInMdat(ref reader, sink);
        }
    }

    private bool ReadBoxHeader(ref SequenceReader<byte> reader)
    {
        Span<byte> head = stackalloc byte[16];
        int have = (int)Math.Min(16, reader.Remaining);
        reader.UnreadSequence.Slice(0, have).CopyTo(head);
        if (!Mp4BoxHeader.TryRead(head[..have], _position, "", out uint type, out long size, out int header))
        {
            return false;
        }

        if (_position == 0 && !Mp4.MayBeginFile(type))
        {
            Mp4.Throw(0, $"not an MP4 stream: it starts with a box of type {Mp4.TypeName(type)}, not ftyp, moov or another top-level box");
        }

        if (size == 0 && type != Mp4.Mdat)
        {
            Mp4.Throw(_position, $"{Mp4.TypeName(type)}: a box that runs to the end of the stream (size 0) can only be an mdat");
        }

        _boxStart = _position;
        _boxEnd = size == 0 ? long.MaxValue : _position + size;
        _boxType = type;
        _boxHeader = header;
        switch (type)
        {
            case Mp4.Ftyp:
            case Mp4.Moov when !_haveMoov:
            case Mp4.Moof:
                long limit = type == Mp4.Moov ? Mp4FileReader.MaxMoovLength : Mp4FragmentCursor.MaxMoofLength;
                if (size > limit)
                {
                    Mp4.Throw(_position, $"{Mp4.TypeName(type)} of {size} bytes exceeds the limit of {limit} bytes");
                }

                if (type == Mp4.Moof && !_haveMoov)
                {
                    Mp4.Throw(_position, "moof before the moov: the fragments' tracks are not described yet");
                }

                _mode = Mode.WholeBox;
                return true;

            case Mp4.Mdat:
                if (!_haveMoov)
                {
                    Mp4.Throw(_position, "mdat before the moov: this file's samples come before their description, so it cannot be read as a stream (its moov is at the end; read it from the file, or write it with -movflags +faststart)");
                }

                reader.Advance(header);
                _position += header;
                _mode = Mode.Mdat;
                return true;

            default:
                reader.Advance(header);
                _position += header;
                _mode = Mode.Skip;
                return true;
        }
    }

    private bool TakeWholeBox(ref SequenceReader<byte> reader, IPacketSink sink)
    {
        long size = _boxEnd - _boxStart;
        if (reader.Remaining < size)
        {
            return false;
        }

        byte[] box = new byte[size];
        reader.TryCopyTo(box);
        reader.Advance(size);
        _position = _boxEnd;
        _mode = Mode.BoxHeader;
        switch (_boxType)
        {
            case Mp4.Ftyp:
                if (size >= _boxHeader + 4)
                {
                    _brand ??= Mp4.TypeName(BinaryPrimitives.ReadUInt32BigEndian(box.AsSpan(_boxHeader)));
                }

                break;

            case Mp4.Moov:
            {
                var moov = new Mp4Box(Mp4.Moov, _boxHeader, box.Length - _boxHeader, _boxStart, _boxHeader, "moov");
                var movie = Mp4FileReader.ReadMoov(_source, box, moov, null, _brand);
                _tracks = [.. movie.Tracks];
                IsFragmented = movie.HasMovieExtends;
                SkippedTracks = movie.Skipped;
                _haveMoov = true;
                Tracks = [.. _tracks.Select(t => t.Info)];
                sink.OnTracks(Tracks);
                break;
            }

            default:
            {
                foreach (var track in _tracks)
                {
                    if (track.HasSample)
                    {
                        Mp4.Throw(_boxStart, $"moof[{_fragments}] comes before the sample of track {track.TrackId} at byte {track.Offset} was read");
                    }
                }

                var fragment = new Mp4Fragment(_boxStart, box.Length, _boxHeader);
                foreach (var track in _tracks)
                {
                    track.Take(box, fragment, _fragments);
                }

                _fragments++;
                break;
            }
        }

        return true;
    }

    /// <summary>Inside an mdat: the next sample of any track in file order, once its bytes are here; the bytes between are skipped.</summary>
    private bool StepInMdat(ref SequenceReader<byte> reader, IPacketSink sink)
    {
        Mp4Track? next = null;
        int index = -1;
        for (int i = 0; i < _tracks.Length; i++)
        {
            var track = _tracks[i];
            if (track.HasSample && (next is null || track.Offset < next.Offset))
            {
                next = track;
                index = i;
            }
        }

        long target = next is null || next.Offset >= _boxEnd ? _boxEnd : next.Offset;
        if (target < _position)
        {
            Mp4.Throw(_position, $"the sample of track {next!.TrackId} at byte {next.Offset} lies behind what has been read (byte {_position}): its bytes went by before it was known");
        }

        if (target > _position)
        {
            return SkipTo(ref reader, target);
        }

        if (target == _boxEnd)
        {
            _mode = Mode.BoxHeader;
            return true;
        }

        if (next!.Offset + next.Size > _boxEnd)
        {
            Mp4.Throw(next.Offset, $"the sample of track {next.TrackId} at byte {next.Offset} ({next.Size} bytes) runs past the end of its mdat (byte {_boxEnd})");
        }

        if (reader.Remaining < next.Size)
        {
            return false;
        }

        ReadOnlyMemory<byte> payload = ReadOnlyMemory<byte>.Empty;
        PooledBlock? owner = null;
        if (next.Size > 0)
        {
            reader.UnreadSequence.Slice(0, next.Size).CopyTo(_payloads.Reserve(next.Size));
            payload = _payloads.Commit(next.Size, out var block);
            owner = block;
            reader.Advance(next.Size);
            _position += next.Size;
        }

        var packet = new MediaPacket(index, next.Dts, next.Pts, next.IsSync, payload, next.Duration, owner);
        next.Advance();
        sink.Accept(packet);
        return true;
    }

    /// <summary>Passes over the input up to <paramref name="target"/> (or its end); at the box's end, back to box headers. True when that got anywhere.</summary>
    private bool SkipTo(ref SequenceReader<byte> reader, long target)
    {
        long n = Math.Min(target - _position, reader.Remaining);
        reader.Advance(n);
        _position += n;
        if (_position == _boxEnd)
        {
            _mode = Mode.BoxHeader;
            return true;
        }

        return n > 0;
    }

    /// <summary>Lets go of the payload slab; the packets handed over keep their blocks.</summary>
    public void Dispose() => _payloads.Dispose();
}
