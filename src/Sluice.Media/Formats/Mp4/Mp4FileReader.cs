using Sluice.Media.Buffers;
using Sluice.Media.Codecs.MpegAudio;

namespace Sluice.Media.Formats.Mp4;

/// <summary>A track of the file that Sluice does not carry, and why (for the caller's log).</summary>
public sealed record Mp4SkippedTrack(uint TrackId, string Handler, string Reason)
{
    public override string ToString() => $"track {TrackId} ({Handler}): {Reason}";
}

/// <summary>
/// Reads an MP4, MOV, M4A or 3GP file (ISO/IEC 14496-12 and QuickTime) from a seekable stream: progressive files
/// (the samples in the moov's sample tables, the moov before or after the mdat) and fragmented ones (moof and mdat
/// pairs after a moov with mvex), as packets in decode-time order across tracks, and seeks to the keyframe at or before
/// a time.
/// </summary>
/// <remarks>
/// <para>Opening walks the top-level boxes (reading only their headers, so it crosses an mdat of any size without
/// reading it), keeps the moov's bytes (at most <see cref="MaxMoovLength"/>) and the offsets of the moofs. The sample
/// tables stay in the moov's bytes as they are, walked by one cursor a track; a fragment's moof is read when a track's
/// cursor gets to it. Memory is the moov, one moof per track, and the payload being returned: never a list of every
/// sample, never an mdat.</para>
/// <para>Order: each track's samples come in its decode order, and the tracks are merged by decode time (ties by file
/// offset), so that a consumer can pace them against a clock; ffmpeg reads by file offset when tracks are within a
/// second of each other, so its order differs, the packets of each track do not.</para>
/// <para>Times: DTS from stts (or the trun durations and tfdt), PTS adding the composition offset (ctts or trun, read
/// as signed), both moved by the edit list as ffmpeg moves them: an initial empty edit delays the track by its
/// duration, and the first edit with media moves the track's times earlier by its media_time (AAC priming, a B-frame
/// delay). Later edits (a file cut and spliced by an editor) are not applied: every sample is read, in the track's own
/// time line. Decode times are moved earlier by the most negative ctts offset, as ffmpeg does, so that no DTS comes
/// after its PTS.</para>
/// <para>Keyframes: stss (every sample when it is missing), or the fragment's sample flags (neither non-sync nor
/// depending on others, ffmpeg's reading); every audio sample of a fragment is a keyframe.</para>
/// <para>Damage: a box that runs past its parent or the file, tables that disagree or overrun their boxes, a sample
/// outside the file: <see cref="MediaFormatException"/> naming the byte offset and the box path. A track of a codec
/// Sluice does not carry (or not audio or video) is left out and listed in <see cref="SkippedTracks"/>.</para>
/// <para>Payloads are copied into pooled blocks: each packet returned by <see cref="TryReadPacket"/> carries one
/// reference, which the caller releases. Not thread-safe.</para>
/// </remarks>
public sealed partial class Mp4FileReader : IDisposable
{
    /// <summary>Largest moov read.</summary>
    public const int MaxMoovLength = 128 << 20;

    /// <summary>Largest sample read.</summary>
    public const int MaxSampleSize = 64 << 20;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly Mp4Source _source;
    private readonly ChunkSlab _payloads;
    private readonly Mp4Track[] _tracks;

    private Mp4FileReader(Stream stream, bool leaveOpen, BlockPool? pool)
    {
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException("an MP4 file is read from a readable, seekable stream", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        _source = Mp4Source.Of(stream);
        _payloads = new ChunkSlab(pool: pool);
        var movie = ReadMovie(_source);
        _tracks = [.. movie.Tracks];
        Tracks = [.. _tracks.Select(t => t.Info)];
        SkippedTracks = movie.Skipped;
        MajorBrand = movie.MajorBrand;
        IsFragmented = movie.FragmentCount > 0;
        FragmentCount = movie.FragmentCount;
    }

    /// <summary>Opens <paramref name="stream"/>; <see cref="MediaFormatException"/> when it is not an MP4 file Sluice can read.</summary>
    /// <param name="pool">Where the payloads' blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public static Mp4FileReader Open(Stream stream, BlockPool? pool = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new Mp4FileReader(stream, leaveOpen, pool);
    }

    public string FormatName => Mp4.FormatName;

    /// <summary>The carried tracks, in the moov's order; <see cref="MediaPacket.Track"/> is an index in this list.</summary>
    public IReadOnlyList<TrackInfo> Tracks { get; }

    /// <summary>The moov's tracks that are left out, each with why.</summary>
    public IReadOnlyList<Mp4SkippedTrack> SkippedTracks { get; }

    /// <summary>The ftyp's major brand ("isom", "qt  ", "M4A ", ...), or null without an ftyp.</summary>
    public string? MajorBrand { get; }

    /// <summary>True when the file has movie fragments.</summary>
    public bool IsFragmented { get; }

    public int FragmentCount { get; }

    /// <summary>
    /// The next packet in decode-time order, its payload read from the file into a pooled block: the caller owns the
    /// packet's one reference and releases it. False at the end of every track.
    /// </summary>
    public bool TryReadPacket(out MediaPacket packet)
    {
        Mp4Track? next = null;
        int index = -1;
        for (int i = 0; i < _tracks.Length; i++)
        {
            var track = _tracks[i];
            if (track.HasSample && (next is null || track.Dts < next.Dts || (track.Dts == next.Dts && track.Offset < next.Offset)))
            {
                next = track;
                index = i;
            }
        }

        if (next is null)
        {
            packet = default;
            return false;
        }

        ReadOnlyMemory<byte> payload = ReadOnlyMemory<byte>.Empty;
        PooledBlock? owner = null;
        if (next.Size > 0)
        {
            _source.ReadAt(next.Offset, _payloads.Reserve(next.Size));
            payload = _payloads.Commit(next.Size, out var block);
            owner = block;
        }

        packet = new MediaPacket(index, next.Dts, next.Pts, next.IsSync, payload, next.Duration, owner);
        next.Advance();
        return true;
    }

    /// <summary>
    /// Moves every track so that reading goes on from the keyframe at or before <paramref name="time"/> (ticks, on the
    /// packets' time line) of the first video track (the first track when there is none), or from its first keyframe
    /// when <paramref name="time"/> comes before it; the other tracks go on from their first sample presented at or
    /// after that keyframe (video tracks: from their keyframe at or before it). Returns the keyframe's presentation
    /// time, or <paramref name="time"/> when the file has no packet.
    /// </summary>
    /// <remarks>The cursors walk each track from its start (compact tables, no per-sample memory): time in proportion to the samples before the point.</remarks>
    public long SeekToKeyframe(long time)
    {
        var reference = _tracks.FirstOrDefault(t => t.Info.Kind == MediaKind.Video) ?? _tracks.FirstOrDefault();
        if (reference is null)
        {
            return time;
        }

        long keyOrdinal = KeyframeAtOrBefore(reference, time, out long keyPts);
        if (keyOrdinal < 0)
        {
            return time;
        }

        foreach (var track in _tracks)
        {
            if (track == reference)
            {
                track.Start();
                while (track.HasSample && track.Ordinal < keyOrdinal)
                {
                    track.Advance();
                }
            }
            else if (track.Info.Kind == MediaKind.Video)
            {
                long ordinal = KeyframeAtOrBefore(track, keyPts, out _);
                track.Start();
                while (track.HasSample && track.Ordinal < ordinal)
                {
                    track.Advance();
                }
            }
            else
            {
                track.Start();
                while (track.HasSample && track.Pts < keyPts)
                {
                    track.Advance();
                }
            }
        }

        return keyPts;
    }

    /// <summary>The ordinal of the track's last keyframe presented at or before <paramref name="time"/> (else its first keyframe); -1 when it has none. Leaves the track anywhere.</summary>
    private static long KeyframeAtOrBefore(Mp4Track track, long time, out long keyPts)
    {
        long found = -1;
        keyPts = 0;
        for (track.Start(); track.HasSample; track.Advance())
        {
            // A later sample is decoded after this time, and presented no earlier than it is decoded.
            if (track.Dts > time && found >= 0)
            {
                break;
            }

            if (track.IsSync && (found < 0 || track.Pts <= time))
            {
                found = track.Ordinal;
                keyPts = track.Pts;
            }
        }

        return found;
    }

    /// <summary>Lets go of the payload slab (the packets returned keep their blocks) and of the stream unless it was to be left open.</summary>
    public void Dispose()
    {
        _payloads.Dispose();
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    /// <summary>
    /// An MPEG audio track (mp4a with an MPEG-1/2 audio object type, or .mp3) as its first frame describes it: Layer II
    /// or III, its rate and channels (ffmpeg writes the sample entry's channel count as 2 for mono).
    /// </summary>
    private static TrackInfo MpegAudio(Mp4Source source, Mp4Track track)
    {
        if (!track.HasSample || track.Size < 4 || !source.CanRead)
        {
            return track.Info;
        }

        Span<byte> header = stackalloc byte[4];
        source.ReadAt(track.Offset, header);
        if (!MpegAudioHeader.TryParse(header, out var frame))
        {
            return track.Info;
        }

        return track.Info with { Codec = frame.Layer == 2 ? CodecId.MP2 : CodecId.MP3, SampleRate = frame.SampleRate, Channels = frame.Channels };
    }
}
