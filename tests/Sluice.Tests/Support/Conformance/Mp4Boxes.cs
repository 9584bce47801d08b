using System.Buffers.Binary;
using System.Text;

namespace Sluice.Tests.Support.Conformance;

/// <summary>One track of an init segment (moov/trak), with its trex defaults (mvex).</summary>
public sealed record Mp4Track(uint TrackId, string Handler, uint Timescale, string SampleEntry, string Codecs, int SampleRate, AudioFrameRule? AudioFrames)
{
    public uint DefaultDuration { get; init; }

    public uint DefaultSize { get; init; }

    public uint DefaultFlags { get; init; }

    public bool IsVideo => Handler == "vide";

    public bool IsAudio => Handler == "soun";

    public string Describe() => $"track {TrackId} ({SampleEntry}{(IsAudio ? $", {SampleRate} Hz" : "")}, timescale {Timescale})";
}

/// <summary>What an audio sample's duration must be: a fixed frame (AAC, MP3) or the frame its own bytes say (Opus's TOC).</summary>
public sealed record AudioFrameRule(string Codec, int FixedSamples, bool ByOpusToc)
{
    /// <summary>The duration of one sample in the track's timescale, or null when the sample's bytes are needed and absent.</summary>
    public double? Expected(ReadOnlySpan<byte> sample, uint timescale, int sampleRate)
    {
        if (ByOpusToc)
        {
            return OpusToc.Samples48k(sample) is int samples ? samples * (double)timescale / 48000 : null;
        }

        return FixedSamples * (double)timescale / sampleRate;
    }
}

/// <summary>The sample count of an Opus packet from its TOC byte (RFC 6716 section 3.1).</summary>
public static class OpusToc
{
    public static int? Samples48k(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 1)
        {
            return null;
        }

        int config = packet[0] >> 3;
        // Tenths of a millisecond a frame: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
        int tenths = config < 12 ? new[] { 100, 200, 400, 600 }[config & 3] : config < 16 ? new[] { 100, 200 }[config & 1] : new[] { 25, 50, 100, 200 }[config & 3];
        int frames = (packet[0] & 3) switch
        {
            0 => 1,
            1 or 2 => 2,
            _ => packet.Length > 1 ? packet[1] & 0x3F : -1,
        };
        return frames < 0 ? null : frames * tenths * 48 / 10;
    }
}

/// <summary>One sample of a fragment: its duration, size, flags and where its bytes are in the buffer read.</summary>
public readonly record struct Mp4Sample(uint Duration, uint Size, uint Flags, long Offset)
{
    /// <summary>sample_is_non_sync_sample clear (ISO 14496-12 section 8.8.3.1).</summary>
    public bool IsSync => (Flags & 0x0001_0000) == 0;

    /// <summary>The presentation time less the decode time (trun's sample_composition_time_offset; version 1, signed).</summary>
    public int CompositionOffset { get; init; }
}

/// <summary>One track run of a moof (its traf): the base media decode time (tfdt) and the samples.</summary>
public sealed record Mp4Fragment(uint TrackId, ulong Tfdt, IReadOnlyList<Mp4Sample> Samples, long MoofOffset)
{
    public ulong Duration => Samples.Aggregate(0UL, (sum, s) => sum + s.Duration);

    public ulong End => Tfdt + Duration;
}

/// <summary>
/// Reads the boxes a live fMP4 carries, independently of the muxer that wrote them: moov (trak: tkhd, mdia/mdhd,
/// hdlr, stsd with avcC, hvcC, esds, dOps; mvex/trex) and moof (traf: tfhd, tfdt, trun with the defaults of tfhd and
/// trex). Errors are returned as text, never thrown, so that a broken segment is one finding and not a failed run.
/// </summary>
public static class Mp4Boxes
{
    public static (IReadOnlyList<Mp4Track> Tracks, string? Error) ReadInit(ReadOnlySpan<byte> data)
    {
        var tracks = new List<Mp4Track>();
        var trex = new Dictionary<uint, (uint Duration, uint Size, uint Flags)>();
        if (Find(data, "moov") is not (int moovAt, int moovLength))
        {
            return (tracks, "no moov box");
        }

        var moov = data.Slice(moovAt, moovLength);
        foreach (var (type, bodyAt, bodyLength) in Children(moov))
        {
            var body = moov.Slice(bodyAt, bodyLength);
            if (type == "trak")
            {
                if (ReadTrak(body) is { } track)
                {
                    tracks.Add(track);
                }
                else
                {
                    return (tracks, "a trak without tkhd, mdhd, hdlr or stsd");
                }
            }
            else if (type == "mvex")
            {
                foreach (var (childType, childAt, childLength) in Children(body))
                {
                    var child = body.Slice(childAt, childLength);
                    if (childType == "trex" && child.Length >= 24)
                    {
                        trex[U32(child, 4)] = (U32(child, 12), U32(child, 16), U32(child, 20));
                    }
                }
            }
        }

        for (int i = 0; i < tracks.Count; i++)
        {
            if (trex.TryGetValue(tracks[i].TrackId, out var d))
            {
                tracks[i] = tracks[i] with { DefaultDuration = d.Duration, DefaultSize = d.Size, DefaultFlags = d.Flags };
            }
        }

        return (tracks, null);
    }

    /// <summary>Every traf of every top-level moof of <paramref name="data"/>, in order; boxes other than moof are skipped.</summary>
    public static (IReadOnlyList<Mp4Fragment> Fragments, string? Error) ReadFragments(ReadOnlySpan<byte> data, IReadOnlyList<Mp4Track> tracks)
    {
        var fragments = new List<Mp4Fragment>();
        int at = 0;
        while (at + 8 <= data.Length)
        {
            long size = U32(data, at);
            string type = Encoding.ASCII.GetString(data.Slice(at + 4, 4));
            int header = 8;
            if (size == 1 && at + 16 <= data.Length)
            {
                size = (long)BinaryPrimitives.ReadUInt64BigEndian(data[(at + 8)..]);
                header = 16;
            }
            else if (size == 0)
            {
                size = data.Length - at;
            }

            if (size < header || at + size > data.Length)
            {
                // A progressive response cut off while reading: its last box is incomplete, which is not a fault.
                return (fragments, type == "moof" || type == "mdat" ? null : $"box {type} at byte {at} of {size} bytes overruns the {data.Length} bytes read");
            }

            if (type == "moof")
            {
                string? error = ReadMoof(data.Slice(at + header, (int)size - header), at, tracks, fragments);
                if (error is not null)
                {
                    return (fragments, $"moof at byte {at}: {error}");
                }
            }

            at += (int)size;
        }

        return (fragments, null);
    }

    private static string? ReadMoof(ReadOnlySpan<byte> moof, long moofOffset, IReadOnlyList<Mp4Track> tracks, List<Mp4Fragment> into)
    {
        foreach (var (type, trafAt, trafLength) in Children(moof))
        {
            var traf = moof.Slice(trafAt, trafLength);
            if (type != "traf")
            {
                continue;
            }

            uint trackId = 0, tfhdFlags = 0;
            uint? duration = null, size = null, flags = null;
            long baseOffset = moofOffset;
            ulong? tfdt = null;
            var samples = new List<Mp4Sample>();
            foreach (var (childType, childAt, childLength) in Children(traf))
            {
                var child = traf.Slice(childAt, childLength);
                if (childType == "tfhd")
                {
                    tfhdFlags = U32(child, 0) & 0xFFFFFF;
                    trackId = U32(child, 4);
                    int p = 8;
                    if ((tfhdFlags & 0x1) != 0) { baseOffset = (long)BinaryPrimitives.ReadUInt64BigEndian(child[p..]); p += 8; }
                    if ((tfhdFlags & 0x2) != 0) { p += 4; }
                    if ((tfhdFlags & 0x8) != 0) { duration = U32(child, p); p += 4; }
                    if ((tfhdFlags & 0x10) != 0) { size = U32(child, p); p += 4; }
                    if ((tfhdFlags & 0x20) != 0) { flags = U32(child, p); }
                }
                else if (childType == "tfdt")
                {
                    tfdt = child[0] == 1 ? BinaryPrimitives.ReadUInt64BigEndian(child[4..]) : U32(child, 4);
                }
                else if (childType == "trun")
                {
                    var track = tracks.FirstOrDefault(t => t.TrackId == trackId);
                    if (track is null)
                    {
                        return $"traf of track {trackId}, which the init segment does not have";
                    }

                    uint trunFlags = U32(child, 0) & 0xFFFFFF;
                    uint count = U32(child, 4);
                    int p = 8;
                    long dataAt = baseOffset;
                    if ((trunFlags & 0x1) != 0) { dataAt += BinaryPrimitives.ReadInt32BigEndian(child[p..]); p += 4; }
                    uint? firstFlags = null;
                    if ((trunFlags & 0x4) != 0) { firstFlags = U32(child, p); p += 4; }
                    for (uint i = 0; i < count; i++)
                    {
                        uint d = duration ?? track.DefaultDuration, s = size ?? track.DefaultSize, f = flags ?? track.DefaultFlags;
                        if ((trunFlags & 0x100) != 0) { d = U32(child, p); p += 4; }
                        if ((trunFlags & 0x200) != 0) { s = U32(child, p); p += 4; }
                        if ((trunFlags & 0x400) != 0) { f = U32(child, p); p += 4; }
                        else if (i == 0 && firstFlags is uint first) { f = first; }
                        int composition = 0;
                        if ((trunFlags & 0x800) != 0) { composition = BinaryPrimitives.ReadInt32BigEndian(child[p..]); p += 4; }
                        samples.Add(new Mp4Sample(d, s, f, dataAt) { CompositionOffset = composition });
                        dataAt += s;
                    }
                }
            }

            if (tfdt is null)
            {
                return $"traf of track {trackId} without tfdt";
            }

            into.Add(new Mp4Fragment(trackId, tfdt.Value, samples, moofOffset));
        }

        return null;
    }

    private static Mp4Track? ReadTrak(ReadOnlySpan<byte> trak)
    {
        uint trackId = 0, timescale = 0;
        string? handler = null, entry = null, codecs = null;
        int sampleRate = 0;
        AudioFrameRule? frames = null;
        foreach (var (type, bodyAt, bodyLength) in Children(trak))
        {
            var body = trak.Slice(bodyAt, bodyLength);
            if (type == "tkhd")
            {
                trackId = U32(body, body[0] == 1 ? 20 : 12);
            }
            else if (type == "mdia")
            {
                foreach (var (mdiaType, mdiaAt, mdiaLength) in Children(body))
                {
                    var mdia = body.Slice(mdiaAt, mdiaLength);
                    if (mdiaType == "mdhd")
                    {
                        timescale = U32(mdia, mdia[0] == 1 ? 20 : 12);
                    }
                    else if (mdiaType == "hdlr")
                    {
                        handler = Encoding.ASCII.GetString(mdia.Slice(8, 4));
                    }
                    else if (mdiaType == "minf" && Find(mdia, "stbl") is (int stblAt, int stblLength) && Find(mdia.Slice(stblAt, stblLength), "stsd") is (int stsdAt, int stsdLength))
                    {
                        var stsd = mdia.Slice(stblAt, stblLength).Slice(stsdAt, stsdLength);
                        (entry, codecs, sampleRate, frames) = ReadSampleEntry(stsd[8..]);
                    }
                }
            }
        }

        return handler is null || entry is null || timescale == 0 ? null : new Mp4Track(trackId, handler, timescale, entry, codecs ?? entry, sampleRate, frames);
    }

    /// <summary>The first sample entry of an stsd: its fourcc, RFC 6381 codecs string, sample rate and audio frame rule.</summary>
    private static (string, string, int, AudioFrameRule?) ReadSampleEntry(ReadOnlySpan<byte> entries)
    {
        int size = (int)U32(entries, 0);
        string type = Encoding.ASCII.GetString(entries.Slice(4, 4));
        var entry = entries[8..Math.Min(size, entries.Length)];
        switch (type)
        {
            case "avc1" or "avc3":
                // VisualSampleEntry: 78 bytes, then avcC (version, profile, compatibility, level).
                return Find(entry[78..], "avcC") is (int avcC, _) ? (type, $"{type}.{entry[78 + avcC + 1]:x2}{entry[78 + avcC + 2]:x2}{entry[78 + avcC + 3]:x2}", 0, null) : (type, type, 0, null);
            case "hvc1" or "hev1":
                return (type, type, 0, null);
            case "mp4a":
            {
                int rate = BinaryPrimitives.ReadUInt16BigEndian(entry[24..]);
                if (Find(entry[28..], "esds") is not (int at, int length))
                {
                    return (type, type, rate, null);
                }

                var (oti, aot, frameLength) = ReadEsds(entry.Slice(28 + at + 4, length - 4));
                if (oti == 0x40)
                {
                    return (type, $"mp4a.40.{aot}", rate, new AudioFrameRule("AAC", aot is 5 or 29 ? 2048 : frameLength, false));
                }

                return (type, $"mp4a.{oti:x2}", rate, oti is 0x6B or 0x69 ? new AudioFrameRule("MP3", oti == 0x6B ? 1152 : 576, false) : null);
            }
            case "Opus":
                return (type, "opus", BinaryPrimitives.ReadUInt16BigEndian(entry[24..]), new AudioFrameRule("Opus", 0, true));
            default:
                return (type, type, 0, null);
        }
    }

    /// <summary>ES_Descriptor → DecoderConfigDescriptor (objectTypeIndication) → DecoderSpecificInfo (AudioSpecificConfig).</summary>
    private static (int Oti, int Aot, int FrameLength) ReadEsds(ReadOnlySpan<byte> d)
    {
        int p = 0;
        int oti = 0, aot = 0, frameLength = 1024;
        while (p < d.Length)
        {
            int tag = d[p++];
            int length = 0;
            for (int i = 0; i < 4 && p < d.Length; i++)
            {
                byte b = d[p++];
                length = (length << 7) | (b & 0x7F);
                if ((b & 0x80) == 0)
                {
                    break;
                }
            }

            if (tag == 0x03)
            {
                int flags = d[p + 2];
                p += 3 + ((flags & 0x80) != 0 ? 2 : 0) + ((flags & 0x40) != 0 ? 1 + d[p + 3] : 0) + ((flags & 0x20) != 0 ? 2 : 0);
            }
            else if (tag == 0x04)
            {
                oti = d[p];
                p += 13;
            }
            else if (tag == 0x05)
            {
                aot = d[p] >> 3;
                int bit = 5; // after audioObjectType
                if (aot == 31)
                {
                    aot = 32 + Bits(d[p..], 5, 6);
                    bit += 6;
                }

                // samplingFrequencyIndex, with an explicit 24-bit frequency after the escape 15; channelConfiguration.
                bit += Bits(d[p..], bit, 4) == 15 ? 28 : 4;
                bit += 4;
                if (aot is 1 or 2 or 3 or 4 or 6 or 7 && Bits(d[p..], bit, 1) == 1)
                {
                    frameLength = 960; // GASpecificConfig's frameLengthFlag
                }

                return (oti, aot, frameLength);
            }
            else
            {
                p += length;
            }
        }

        return (oti, aot, frameLength);
    }

    private static int Bits(ReadOnlySpan<byte> d, int bit, int count)
    {
        int value = 0;
        for (int i = 0; i < count; i++, bit++)
        {
            value = (value << 1) | (bit / 8 < d.Length ? (d[bit / 8] >> (7 - (bit % 8))) & 1 : 0);
        }

        return value;
    }

    /// <summary>The body (after the header) of the first child box of a type, as (offset, length) in <paramref name="data"/>.</summary>
    private static (int At, int Length)? Find(ReadOnlySpan<byte> data, string wanted)
    {
        int at = 0;
        while (at + 8 <= data.Length)
        {
            int size = (int)U32(data, at);
            if (size < 8 || at + size > data.Length)
            {
                return null;
            }

            if (data[at + 4] == wanted[0] && data[at + 5] == wanted[1] && data[at + 6] == wanted[2] && data[at + 7] == wanted[3])
            {
                return (at + 8, size - 8);
            }

            at += size;
        }

        return null;
    }

    /// <summary>The child boxes of a box body: type, and the offset and length of each one's body.</summary>
    private static List<(string Type, int At, int Length)> Children(ReadOnlySpan<byte> data)
    {
        var list = new List<(string, int, int)>();
        int at = 0;
        while (at + 8 <= data.Length)
        {
            int size = (int)U32(data, at);
            if (size < 8 || at + size > data.Length)
            {
                break;
            }

            list.Add((Encoding.ASCII.GetString(data.Slice(at + 4, 4)), at + 8, size - 8));
            at += size;
        }

        return list;
    }

    private static uint U32(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
}
