using System.Buffers.Binary;

namespace Sluice.Media.Formats.Mp4;

/// <summary>Opening: the top-level boxes, the moov and its traks.</summary>
public sealed partial class Mp4FileReader
{
    internal sealed record Movie(List<Mp4Track> Tracks, List<Mp4SkippedTrack> Skipped, string? MajorBrand, int FragmentCount, bool HasMovieExtends);

    private static Movie ReadMovie(Mp4Source source)
    {
        byte[]? moov = null;
        long moovOffset = 0;
        int moovHeader = 0;
        string? brand = null;
        var fragments = new List<Mp4Fragment>();
        Span<byte> head = stackalloc byte[16];
        long at = 0;
        while (at < source.Length)
        {
            if (source.Length - at < 8)
            {
                Mp4.Throw(at, $"{source.Length - at} bytes after the last box are too few for a box header");
            }

            int have = (int)Math.Min(16, source.Length - at);
            source.ReadAt(at, head[..have]);
            if (!Mp4BoxHeader.TryRead(head[..have], at, "", out uint type, out long size, out int header))
            {
                Mp4.Throw(at, $"{Mp4.TypeName(BinaryPrimitives.ReadUInt32BigEndian(head[4..]))}: box header with a 64-bit size is cut short by the end of the file");
            }

            if (at == 0 && !Mp4.MayBeginFile(type))
            {
                Mp4.Throw(0, $"not an MP4 file: it starts with a box of type {Mp4.TypeName(type)}, not ftyp, moov, mdat or another top-level box");
            }

            if (size == 0)
            {
                size = source.Length - at; // to the end of the file
            }

            if (size > source.Length - at)
            {
                Mp4.Throw(at, $"{Mp4.TypeName(type)}: box of {size} bytes runs past the end of the file ({source.Length - at} bytes left)");
            }

            switch (type)
            {
                case Mp4.Ftyp when size >= header + 4:
                    source.ReadAt(at + header, head[..4]);
                    brand ??= Mp4.TypeName(BinaryPrimitives.ReadUInt32BigEndian(head));
                    break;
                case Mp4.Moov when moov is null:
                    if (size > MaxMoovLength)
                    {
                        Mp4.Throw(at, $"moov of {size} bytes exceeds the limit of {MaxMoovLength} bytes");
                    }

                    moov = new byte[size];
                    source.ReadAt(at, moov);
                    moovOffset = at;
                    moovHeader = header;
                    break;
                case Mp4.Moof:
                    if (size > Mp4FragmentCursor.MaxMoofLength)
                    {
                        Mp4.Throw(at, $"moof[{fragments.Count}] of {size} bytes exceeds the limit of {Mp4FragmentCursor.MaxMoofLength} bytes");
                    }

                    fragments.Add(new Mp4Fragment(at, (int)size, header));
                    break;
            }

            at += size;
        }

        if (moov is null)
        {
            Mp4.Throw(at, "no moov box: the file has no track descriptions");
        }

        var box = new Mp4Box(Mp4.Moov, moovHeader, moov.Length - moovHeader, moovOffset, moovHeader, "moov");
        return ReadMoov(source, moov, box, fragments, brand);
    }

    /// <summary>The tracks of a moov (<paramref name="fragments"/>: the file's moofs, or null when they are handed over as they come).</summary>
    internal static Movie ReadMoov(Mp4Source source, byte[] moov, in Mp4Box box, List<Mp4Fragment>? fragments, string? brand)
    {
        long fileBase = box.FileOffset;
        uint movieTimescale = 0;
        var traks = new List<Mp4Box>();
        var defaults = new Dictionary<uint, Mp4TrackDefaults>();
        var children = new Mp4Children(moov, fileBase, box);
        int trakIndex = 0;
        bool fragmented = fragments is { Count: > 0 };
        while (children.Next(out var child))
        {
            switch (child.Type)
            {
                case Mp4.Mvhd:
                    movieTimescale = VersionedField(moov, child, 12, 20);
                    break;

                case Mp4.Trak:
                    traks.Add(child with { Path = $"moov/trak[{trakIndex++}]" });
                    break;

                case Mp4.Mvex:
                {
                    fragmented = true;
                    var mvex = new Mp4Children(moov, fileBase, child);
                    while (mvex.Find(Mp4.Trex, out var trex))
                    {
                        if (trex.BodyLength < 24)
                        {
                            Mp4.Throw(trex.FileOffset, $"{trex.Path}: box of {trex.BodyLength} bytes is shorter than 24");
                        }

                        var t = moov.AsSpan(trex.BodyStart, trex.BodyLength);
                        defaults[BinaryPrimitives.ReadUInt32BigEndian(t[4..])] = new Mp4TrackDefaults(
                            BinaryPrimitives.ReadUInt32BigEndian(t[12..]), BinaryPrimitives.ReadUInt32BigEndian(t[16..]), BinaryPrimitives.ReadUInt32BigEndian(t[20..]));
                    }

                    break;
                }
            }
        }

        var tracks = new List<Mp4Track>();
        var skipped = new List<Mp4SkippedTrack>();
        foreach (var trak in traks)
        {
            ReadTrak(source, moov, fileBase, trak, movieTimescale, fragmented, fragments, defaults, tracks, skipped);
        }

        return new Movie(tracks, skipped, brand, fragments?.Count ?? 0, fragmented);
    }

    private static void ReadTrak(
        Mp4Source source, byte[] moov, long fileBase, in Mp4Box trak, uint movieTimescale, bool fragmented, List<Mp4Fragment>? fragments,
        Dictionary<uint, Mp4TrackDefaults> defaults, List<Mp4Track> tracks, List<Mp4SkippedTrack> skipped)
    {
        uint trackId = 0;
        bool haveTkhd = false;
        Mp4Box mdia = default, elst = default;
        bool haveMdia = false, haveElst = false;
        var children = new Mp4Children(moov, fileBase, trak);
        while (children.Next(out var child))
        {
            switch (child.Type)
            {
                case Mp4.Tkhd:
                    trackId = VersionedField(moov, child, 12, 20);
                    haveTkhd = true;
                    break;

                case Mp4.Edts:
                    haveElst = new Mp4Children(moov, fileBase, child).Find(Mp4.Elst, out elst);
                    break;
                case Mp4.Mdia:
                    mdia = child;
                    haveMdia = true;
                    break;
            }
        }

        if (!haveTkhd || !haveMdia)
        {
            Mp4.Throw(trak.FileOffset, $"{trak.Path}: no {(haveTkhd ? "mdia" : "tkhd")}");
        }

        uint timescale = 0;
        uint handler = 0;
        string? language = null;
        Mp4Box stbl = default;
        bool haveStbl = false;
        var media = new Mp4Children(moov, fileBase, mdia);
        while (media.Next(out var child))
        {
            var body = moov.AsSpan(child.BodyStart, child.BodyLength);
            switch (child.Type)
            {
                case Mp4.Mdhd:
                    timescale = VersionedField(moov, child, 12, 20);
                    language = Language((int)(VersionedField(moov, child, 20, 32) >> 16));
                    break;

                case Mp4.Hdlr when body.Length >= 12:
                    handler = BinaryPrimitives.ReadUInt32BigEndian(body[8..]);
                    break;
                case Mp4.Minf:
                    haveStbl = new Mp4Children(moov, fileBase, child).Find(Mp4.Stbl, out stbl);
                    break;
            }
        }

        string handlerName = Mp4.TypeName(handler);
        var kind = handler switch
        {
            Mp4.Vide => MediaKind.Video,
            Mp4.Soun => MediaKind.Audio,
            _ => MediaKind.Data,
        };
        if (kind == MediaKind.Data)
        {
            skipped.Add(new Mp4SkippedTrack(trackId, handlerName, $"handler '{handlerName}' is neither video nor audio"));
            return;
        }

        if (timescale == 0)
        {
            Mp4.Throw(mdia.FileOffset, $"{mdia.Path}/mdhd: timescale 0 (or no mdhd)");
        }

        if (!haveStbl)
        {
            Mp4.Throw(mdia.FileOffset, $"{mdia.Path}/minf: no stbl");
        }

        if (!new Mp4Children(moov, fileBase, stbl).Find(Mp4.Stsd, out var stsd) || stsd.BodyLength < 8)
        {
            Mp4.Throw(stbl.FileOffset, $"{stbl.Path}: no stsd with a sample entry");
        }

        if (!new Mp4Children(moov, fileBase, stsd, 8).Next(out var entry))
        {
            Mp4.Throw(stsd.FileOffset, $"{stsd.Path}: no sample entry");
        }

        var info = Mp4SampleEntry.Read(moov, fileBase, entry, kind, out string? refusal);
        if (info is null)
        {
            skipped.Add(new Mp4SkippedTrack(trackId, handlerName, refusal ?? "no description"));
            return;
        }

        var table = new Mp4SampleTable(moov, fileBase, stbl);
        long shift = haveElst ? EditShift(moov, elst, movieTimescale, timescale) : 0;
        var fragmentCursor = fragmented
            ? new Mp4FragmentCursor(source, fragments, defaults, trackId, syncByFlags: kind == MediaKind.Video)
            : null;
        long precision = MediaTime.TicksPerSecond / timescale;
        info = info with
        {
            Index = tracks.Count,
            Language = language,
            TimePrecision = precision > 1 ? precision : 0,
        };
        var track = new Mp4Track(info, trackId, timescale, shift, table, fragmentCursor, source);
        if (kind == MediaKind.Video && track.HasSample)
        {
            track.Info = track.Info with { DefaultDuration = track.Duration };
        }
        else if (info.Codec == CodecId.MP3)
        {
            track.Info = MpegAudio(source, track);
        }

        tracks.Add(track);
    }

    /// <summary>The 32-bit field of a FullBox (mvhd, tkhd, mdhd) at <paramref name="v0At"/> in version 0, at <paramref name="v1At"/> in version 1 (64-bit times before it).</summary>
    private static uint VersionedField(byte[] moov, in Mp4Box box, int v0At, int v1At)
    {
        var body = moov.AsSpan(box.BodyStart, box.BodyLength);
        int at = body.Length > 0 && body[0] == 1 ? v1At : v0At;
        if (body.Length < at + 4)
        {
            Mp4.Throw(box.FileOffset, $"{box.Path}: box of {body.Length} bytes is too short for version {(body.Length > 0 ? body[0] : 0)}");
        }

        return BinaryPrimitives.ReadUInt32BigEndian(body[at..]);
    }

    /// <summary>
    /// The edit list's shift of the track's times, in its timescale: the initial empty edits' duration (in the movie's
    /// timescale) less the media_time of the first edit with media. Later edits are not applied.
    /// </summary>
    private static long EditShift(byte[] moov, in Mp4Box elst, uint movieTimescale, uint timescale)
    {
        var body = moov.AsSpan(elst.BodyStart, elst.BodyLength);
        if (body.Length < 8)
        {
            Mp4.Throw(elst.FileOffset, $"{elst.Path}: box of {body.Length} bytes is too short for its header");
        }

        bool v1 = body[0] == 1;
        uint count = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        int entrySize = v1 ? 20 : 12;
        if ((long)count * entrySize > body.Length - 8)
        {
            Mp4.Throw(elst.FileOffset, $"{elst.Path}: {count} entries need {(long)count * entrySize} bytes, the box holds {body.Length - 8}");
        }

        long empty = 0;
        for (int i = 0; i < count; i++)
        {
            var e = body.Slice(8 + (i * entrySize), entrySize);
            long duration = v1 ? (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(e), long.MaxValue / 4) : BinaryPrimitives.ReadUInt32BigEndian(e);
            long mediaTime = v1 ? BinaryPrimitives.ReadInt64BigEndian(e[8..]) : BinaryPrimitives.ReadInt32BigEndian(e[4..]);
            if (mediaTime == -1)
            {
                empty += duration;
                continue;
            }

            long emptyInTrack = movieTimescale > 0 ? (long)((Int128)empty * timescale / movieTimescale) : 0;
            return emptyInTrack - Math.Clamp(mediaTime, 0, long.MaxValue / 4);
        }

        return 0;
    }

    /// <summary>The mdhd's packed ISO 639-2/T code ("eng"), or null for "und" and values that are not letters.</summary>
    private static string? Language(int packed)
    {
        Span<char> code = stackalloc char[3];
        for (int i = 0; i < 3; i++)
        {
            int c = ((packed >> (10 - (5 * i))) & 0x1F) + 0x60;
            if (c is < 'a' or > 'z')
            {
                return null;
            }

            code[i] = (char)c;
        }

        string language = new(code);
        return language == "und" ? null : language;
    }
}
