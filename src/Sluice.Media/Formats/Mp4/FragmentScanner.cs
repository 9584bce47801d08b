using System.Buffers.Binary;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// Cuts a fragmented MP4 that another muxer writes (ffmpeg's <c>ismv</c>: Smooth Streaming's fragmented MP4) into its
/// header, every box before the first <c>moof</c> (<c>ftyp</c>, the <c>moov</c> with its <c>mvex</c>), and one unit a
/// top-level box after it. A <c>moof</c> is a join point when the first sample of its video track (of its first
/// track when there is no video) is a sync sample (ISO/IEC 14496-12 8.8.3.1 sample_is_non_sync_sample clear), read
/// from the <c>trun</c>'s first-sample or per-sample flags, the <c>tfhd</c>'s default, or the <c>trex</c>'s. A
/// <c>moof</c>'s time is that of the same track fragment: its <c>tfdt</c> (8.8.12 baseMediaDecodeTime), or, where
/// there is none, as in what ffmpeg's ismv muxer writes, Smooth Streaming's <c>tfxd</c> (the uuid box
/// 6D1D9B05-42D5-44E6-80E2-141DAFF757B2: version, flags, then the fragment's absolute time and duration, 64-bit in
/// version 1), over the track's timescale (its <c>mdhd</c>'s).
/// </summary>
public sealed class FragmentScanner : JoinPointScanner
{
    private static readonly Guid Tfxd = new("6D1D9B05-42D5-44E6-80E2-141DAFF757B2");

    private readonly Dictionary<uint, uint> _trexFlags = [];
    private readonly Dictionary<uint, uint> _timescales = [];
    private uint? _videoTrack;

    protected override string Name => "fragmented MP4";

    protected override int ReadHeader(ReadOnlySpan<byte> data)
    {
        int at = 0;
        while (BoxAt(data, at) is var (type, size) && size > 0)
        {
            if (type == Mp4.Moof)
            {
                SetHeader(data[..at]);
                return at;
            }

            if (type == Mp4.Moov)
            {
                ReadMovie(data.Slice(at + 8, size - 8));
            }

            at += size;
        }

        return 0;
    }

    protected override int ReadUnit(ReadOnlySpan<byte> data, List<ScannedUnit> units)
    {
        if (BoxAt(data, 0) is not var (type, size) || size == 0)
        {
            return 0;
        }

        var box = data[..size];
        long? time = null;
        bool sync = type == Mp4.Moof && StartsWithSync(box[8..], out time);
        units.Add(new ScannedUnit(box.ToArray(), sync, time));
        return size;
    }

    /// <summary>The type and size of the whole box at <paramref name="at"/>; size 0 while it is not all there, null when there is no header yet.</summary>
    private (uint Type, int Size)? BoxAt(ReadOnlySpan<byte> data, int at)
    {
        if (data.Length - at < 8)
        {
            return null;
        }

        long size = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
        int header = 8;
        if (size == 1)
        {
            if (data.Length - at < 16)
            {
                return null;
            }

            size = (long)BinaryPrimitives.ReadUInt64BigEndian(data[(at + 8)..]);
            header = 16;
        }

        if (size < header || size > MaxUnitBytes)
        {
            throw Damaged(at, size == 0 ? "a box that runs to the end of the file cannot be streamed" : $"box size {size} is not usable");
        }

        uint type = BinaryPrimitives.ReadUInt32BigEndian(data[(at + 4)..]);
        return (type, data.Length - at >= size ? (int)size : 0);
    }

    /// <summary>Every child box of a container box's body, as (type, body).</summary>
    private static List<(uint Type, int Start, int Length)> Children(ReadOnlySpan<byte> body)
    {
        var children = new List<(uint, int, int)>();
        int at = 0;
        while (body.Length - at >= 8)
        {
            int size = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body[at..]), (uint)(body.Length - at));
            if (size < 8)
            {
                break;
            }

            children.Add((BinaryPrimitives.ReadUInt32BigEndian(body[(at + 4)..]), at + 8, size - 8));
            at += size;
        }

        return children;
    }

    /// <summary>From the moov: which track is video (tkhd track_ID of the trak whose hdlr is 'vide') and each trex's default flags.</summary>
    private void ReadMovie(ReadOnlySpan<byte> moov)
    {
        foreach (var (type, start, length) in Children(moov))
        {
            var body = moov.Slice(start, length);
            if (type == Mp4.Trak)
            {
                uint? id = null;
                bool video = false;
                uint timescale = 0;
                foreach (var (childType, childStart, childLength) in Children(body))
                {
                    var child = body.Slice(childStart, childLength);
                    if (childType == Mp4.Tkhd && child.Length >= 24)
                    {
                        id = BinaryPrimitives.ReadUInt32BigEndian(child[(child[0] == 1 ? 20 : 12)..]);
                    }
                    else if (childType == Mp4.Mdia)
                    {
                        foreach (var (mediaType, mediaStart, mediaLength) in Children(child))
                        {
                            var media = child.Slice(mediaStart, mediaLength);
                            video |= mediaType == Mp4.Hdlr && mediaLength >= 12 && media.Slice(8, 4).SequenceEqual("vide"u8);
                            if (mediaType == Mp4.Mdhd && mediaLength >= 24)
                            {
                                timescale = BinaryPrimitives.ReadUInt32BigEndian(media[(media[0] == 1 ? 20 : 12)..]);
                            }
                        }
                    }
                }

                if (id is { } track)
                {
                    _videoTrack ??= video ? track : null;
                    _timescales[track] = timescale;
                }
            }
            else if (type == Mp4.Mvex)
            {
                foreach (var (childType, childStart, childLength) in Children(body))
                {
                    if (childType == Mp4.Trex && childLength >= 24)
                    {
                        var trex = body.Slice(childStart, childLength);
                        _trexFlags[BinaryPrimitives.ReadUInt32BigEndian(trex[4..])] = BinaryPrimitives.ReadUInt32BigEndian(trex[20..]);
                    }
                }
            }
        }
    }

    /// <summary>
    /// True when the first sample of the fragment's video traf (or first traf) is a sync sample; <paramref name="time"/>
    /// is the start of the first traf of a track the moov gave a timescale (the video's, when the fragment has it).
    /// </summary>
    private bool StartsWithSync(ReadOnlySpan<byte> moof, out long? time)
    {
        bool first = true;
        time = null;
        foreach (var (type, start, length) in Children(moof))
        {
            if (type != Mp4.Traf)
            {
                continue;
            }

            var traf = moof.Slice(start, length);
            var flags = FirstSampleFlags(traf, out uint track);
            bool chosen = track == _videoTrack || (_videoTrack is null && first);
            if ((time is null || chosen) && DecodeTime(traf) is { } decode && _timescales.GetValueOrDefault(track) is var scale and > 0)
            {
                time = (long)(decode * (Int128)MediaTime.TicksPerSecond / scale);
            }

            if (flags is { } sampleFlags && chosen)
            {
                return (sampleFlags & Mp4.SampleIsNonSync) == 0;
            }

            first = false;
        }

        return false;
    }

    /// <summary>The traf's start in its track's timescale: the tfdt's, else the tfxd's; null without either.</summary>
    private static long? DecodeTime(ReadOnlySpan<byte> traf)
    {
        long? tfxd = null;
        foreach (var (type, start, length) in Children(traf))
        {
            var box = traf.Slice(start, length);
            bool wide = box.Length > 0 && box[0] == 1;
            if (type == Mp4.Tfdt && box.Length >= (wide ? 12 : 8))
            {
                return wide ? (long)BinaryPrimitives.ReadUInt64BigEndian(box[4..]) : BinaryPrimitives.ReadUInt32BigEndian(box[4..]);
            }

            if (type == Mp4.Uuid && box.Length >= 16 + 12 && new Guid(box[..16], bigEndian: true) == Tfxd)
            {
                var body = box[16..];
                wide = body[0] == 1;
                tfxd = wide && body.Length >= 12 ? (long)BinaryPrimitives.ReadUInt64BigEndian(body[4..]) : BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
            }
        }

        return tfxd;
    }

    private uint? FirstSampleFlags(ReadOnlySpan<byte> traf, out uint track)
    {
        track = 0;
        uint? defaults = null;
        foreach (var (type, start, length) in Children(traf))
        {
            var box = traf.Slice(start, length);
            if (type == Mp4.Tfhd && box.Length >= 8)
            {
                uint tfhdFlags = BinaryPrimitives.ReadUInt32BigEndian(box) & 0xFFFFFF;
                track = BinaryPrimitives.ReadUInt32BigEndian(box[4..]);
                defaults = _trexFlags.TryGetValue(track, out uint trex) ? trex : null;
                int at = 8 + ((tfhdFlags & Mp4.TfhdBaseDataOffset) != 0 ? 8 : 0) + ((tfhdFlags & Mp4.TfhdSampleDescriptionIndex) != 0 ? 4 : 0) + ((tfhdFlags & Mp4.TfhdDefaultDuration) != 0 ? 4 : 0) + ((tfhdFlags & Mp4.TfhdDefaultSize) != 0 ? 4 : 0);
                if ((tfhdFlags & Mp4.TfhdDefaultFlags) != 0 && box.Length >= at + 4)
                {
                    defaults = BinaryPrimitives.ReadUInt32BigEndian(box[at..]);
                }
            }
            else if (type == Mp4.Trun && box.Length >= 8)
            {
                uint trunFlags = BinaryPrimitives.ReadUInt32BigEndian(box) & 0xFFFFFF;
                int at = 8 + ((trunFlags & Mp4.TrunDataOffset) != 0 ? 4 : 0);
                if ((trunFlags & Mp4.TrunFirstSampleFlags) != 0)
                {
                    return box.Length >= at + 4 ? BinaryPrimitives.ReadUInt32BigEndian(box[at..]) : null;
                }

                at += ((trunFlags & Mp4.TrunDuration) != 0 ? 4 : 0) + ((trunFlags & Mp4.TrunSize) != 0 ? 4 : 0);
                if ((trunFlags & Mp4.TrunFlags) != 0)
                {
                    return box.Length >= at + 4 ? BinaryPrimitives.ReadUInt32BigEndian(box[at..]) : null;
                }

                return defaults;
            }
        }

        return defaults;
    }
}
