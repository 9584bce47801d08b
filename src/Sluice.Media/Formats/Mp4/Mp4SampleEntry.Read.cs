using System.Buffers.Binary;
using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// Reading a sample entry back into a <see cref="TrackInfo"/>, the reverse of writing one: the codec private data in
/// the form the other demuxers give for the codec (avcC, hvcC, av1C, the AudioSpecificConfig, an OpusHead made from
/// the dOps, "fLaC" and the dfLa's metadata blocks, the MPEG-4 Part 2 video object layer; nothing for VP9, MP3, AC-3
/// and MPEG-1/2 video, whose streams describe themselves).
/// </summary>
internal static partial class Mp4SampleEntry
{
    /// <summary>Bytes of a VisualSampleEntry (ISO 14496-12 12.1.3) before its child boxes.</summary>
    private const int VisualEntryLength = 78;

    /// <summary>Bytes of an AudioSampleEntry (12.2.3) before its child boxes; QuickTime's sound description versions 1 and 2 add 16 and 36.</summary>
    private const int AudioEntryLength = 28;

    /// <summary>
    /// The track a sample entry describes (its Index still to be set), or null with the reason Sluice cannot carry it.
    /// Damage inside the entry (a child past its end, a descriptor cut short) throws <see cref="MediaFormatException"/>.
    /// </summary>
    public static TrackInfo? Read(ReadOnlySpan<byte> data, long fileBase, in Mp4Box entry, MediaKind kind, out string? refusal)
    {
        refusal = null;
        var body = data.Slice(entry.BodyStart, entry.BodyLength);
        string name = entry.Name;
        if (kind == MediaKind.Video)
        {
            if (body.Length < VisualEntryLength)
            {
                Mp4.Throw(entry.FileOffset, $"{entry.Path}: visual sample entry of {body.Length} bytes is shorter than its {VisualEntryLength} fixed bytes");
            }

            int width = BinaryPrimitives.ReadUInt16BigEndian(body[24..]);
            int height = BinaryPrimitives.ReadUInt16BigEndian(body[26..]);
            return ReadVisual(data, fileBase, entry, name, width, height, out refusal);
        }

        if (body.Length < AudioEntryLength)
        {
            Mp4.Throw(entry.FileOffset, $"{entry.Path}: audio sample entry of {body.Length} bytes is shorter than its {AudioEntryLength} fixed bytes");
        }

        int version = BinaryPrimitives.ReadUInt16BigEndian(body[8..]);
        int channels = BinaryPrimitives.ReadUInt16BigEndian(body[16..]);
        int rate = (int)(BinaryPrimitives.ReadUInt32BigEndian(body[24..]) >> 16);
        int childrenAt = AudioEntryLength;
        if (version == 1)
        {
            childrenAt += 16;
        }
        else if (version == 2)
        {
            childrenAt += 36;
            if (body.Length >= 48)
            {
                double v2Rate = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64BigEndian(body[32..]));
                rate = double.IsFinite(v2Rate) && v2Rate is > 0 and < int.MaxValue ? (int)v2Rate : 0;
                channels = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body[40..]), int.MaxValue);
            }
        }

        if (childrenAt > body.Length)
        {
            Mp4.Throw(entry.FileOffset, $"{entry.Path}: sound sample description version {version} needs {childrenAt} bytes, the entry has {body.Length}");
        }

        return ReadAudio(data, fileBase, entry, name, childrenAt, rate, channels, out refusal);
    }

    private static TrackInfo? ReadVisual(ReadOnlySpan<byte> data, long fileBase, in Mp4Box entry, string name, int width, int height, out string? refusal)
    {
        refusal = null;
        switch (entry.Type)
        {
            case Mp4.Avc1:
            case Mp4.Avc3:
                return WithConfiguration(data, fileBase, entry, CodecId.H264, Mp4.AvcC, "AVCDecoderConfigurationRecord", width, height, out refusal, static c =>
                    AvcDecoderConfiguration.Parse(c) is not { } avcc ? null : avcc.Sps.Count > 0 && H264Sps.Parse(avcc.Sps[0]) is { } sps ? (sps.Width, sps.Height) : (0, 0));
            case Mp4.Hvc1:
            case Mp4.Hev1:
                return WithConfiguration(data, fileBase, entry, CodecId.H265, Mp4.HvcC, "HEVCDecoderConfigurationRecord", width, height, out refusal, static c =>
                    HevcDecoderConfiguration.Parse(c) is not { } hvcc ? null : hvcc.Sps.Count > 0 && H265Sps.Parse(hvcc.Sps[0]) is { } sps ? (sps.Width, sps.Height) : (0, 0));
            case Mp4.Av01:
                return WithConfiguration(data, fileBase, entry, CodecId.AV1, Mp4.Av1C, "AV1CodecConfigurationRecord", width, height, out refusal, static c =>
                    c.Length >= 4 && c[0] == 0x81 ? (0, 0) : null);

            case Mp4.Vp09:
                // As the other readers give VP9: the vpcC is not the codec private data Matroska and WebM carry.
                return Video(CodecId.VP9, name, [], width, height);

            case Mp4.Mp4v:
            {
                var (objectType, specific) = ReadEsds(data, fileBase, entry, VisualEntryLength, out refusal);
                CodecId codec = objectType switch
                {
                    Mp4.ObjectTypeMpeg4Visual => CodecId.MPEG4,
                    >= Mp4.ObjectTypeMpeg2SimpleVideo and <= Mp4.ObjectTypeMpeg2Video422 => CodecId.MPEG2Video,
                    Mp4.ObjectTypeMpeg1Video => CodecId.MPEG1Video,
                    _ => CodecId.Unknown,
                };
                if (codec == CodecId.Unknown)
                {
                    refusal ??= $"mp4v with object type 0x{objectType:X2}, which Sluice does not carry (it reads MPEG-4 Part 2, MPEG-1 and MPEG-2 video)";
                    return null;
                }

                return Video(codec, name, codec == CodecId.MPEG4 ? specific : [], width, height);
            }

            default:
                refusal = Unknown(entry.Type, "video");
                return null;
        }
    }

    /// <summary>
    /// A video track whose configuration box (avcC, hvcC, av1C) is its codec private data: <paramref name="describe"/>
    /// checks it and gives the picture size it states ((0, 0): the sample entry's), or null when it is not valid.
    /// </summary>
    private static TrackInfo? WithConfiguration(
        ReadOnlySpan<byte> data, long fileBase, in Mp4Box entry, CodecId codec, uint configType, string configName, int width, int height,
        out string? refusal, Func<byte[], (int Width, int Height)?> describe)
    {
        refusal = null;
        byte[]? config = Child(data, fileBase, entry, VisualEntryLength, configType, out var box) ? Body(data, box).ToArray() : null;
        if (config is null || describe(config) is not { } size)
        {
            refusal = $"{entry.Name} without a valid {Mp4.TypeName(configType)} ({configName})";
            return null;
        }

        if (size.Width > 0 && size.Height > 0)
        {
            (width, height) = size;
        }

        return Video(codec, entry.Name, config, width, height);
    }

    private static TrackInfo? ReadAudio(ReadOnlySpan<byte> data, long fileBase, in Mp4Box entry, string name, int childrenAt, int rate, int channels, out string? refusal)
    {
        refusal = null;
        switch (entry.Type)
        {
            case Mp4.Mp4a:
            {
                var (objectType, specific) = ReadEsds(data, fileBase, entry, childrenAt, out refusal);
                switch (objectType)
                {
                    case Mp4.ObjectTypeAac:
                    case Mp4.ObjectTypeMpeg2AacMain:
                    case Mp4.ObjectTypeMpeg2AacLc:
                    case Mp4.ObjectTypeMpeg2AacSsr:
                    {
                        if (AudioSpecificConfig.Parse(specific) is not { } asc)
                        {
                            refusal = "AAC (mp4a) without a valid AudioSpecificConfig in its esds";
                            return null;
                        }

                        return Audio(CodecId.AAC, name, specific, asc.OutputSampleRate, asc.Channels > 0 ? asc.Channels : channels);
                    }

                    case Mp4.ObjectTypeMpeg1Audio:
                    case Mp4.ObjectTypeMpeg2Audio:
                        // MPEG audio; the reader tells Layer II from Layer III by the first frame.
                        return Audio(CodecId.MP3, name, [], rate, channels);

                    default:
                        refusal ??= $"mp4a with object type 0x{objectType:X2}, which Sluice does not carry (it reads AAC and MPEG audio)";
                        return null;
                }
            }

            case Mp4.DotMp3:
                return Audio(CodecId.MP3, name, [], rate, channels);

            case Mp4.Opus:
            {
                if (!Child(data, fileBase, entry, childrenAt, Mp4.DOps, out var box) || OpusHeadOf(Body(data, box)) is not { } head)
                {
                    refusal = "Opus without a valid dOps (OpusSpecificBox)";
                    return null;
                }

                int preSkip = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(10));
                return Audio(CodecId.Opus, name, head, 48000, head[9]) with
                {
                    CodecDelayNs = preSkip * 1_000_000_000L / 48000,
                    SeekPreRollNs = 80_000_000,
                };
            }

            case Mp4.Ac3:
            {
                // dac3 (ETSI TS 102 366 F.4): fscod, bsid, bsmod, acmod, lfeon; the frames carry the rest.
                if (Child(data, fileBase, entry, childrenAt, Mp4.Dac3, out var box) && box.BodyLength >= 3)
                {
                    var dac3 = Body(data, box);
                    int fscod = dac3[0] >> 6;
                    int acmod = (dac3[1] >> 3) & 7;
                    int lfe = (dac3[1] >> 2) & 1;
                    rate = fscod switch { 0 => 48000, 1 => 44100, 2 => 32000, _ => rate };
                    channels = (acmod switch { 0 => 2, 1 => 1, 2 => 2, 3 => 3, 4 => 3, 5 => 4, 6 => 4, _ => 5 }) + lfe;
                }

                return Audio(CodecId.AC3, name, [], rate, channels);
            }

            case Mp4.FLaC:
            {
                // dfLa (FLAC in ISOBMFF 3.3.2): a FullBox holding the metadata blocks; Matroska's CodecPrivate is "fLaC" and the same blocks.
                if (!Child(data, fileBase, entry, childrenAt, Mp4.DfLa, out var box) || box.BodyLength < 4 + 4 + 34)
                {
                    refusal = "fLaC without a valid dfLa (FLACSpecificBox)";
                    return null;
                }

                byte[] flac = [.. "fLaC"u8, .. Body(data, box)[4..]];
                return Audio(CodecId.FLAC, name, flac, rate, channels);
            }

            default:
                refusal = Unknown(entry.Type, "audio");
                return null;
        }
    }

    private static string Unknown(uint type, string kind) => type switch
    {
        Mp4.Encv or Mp4.Enca => $"the {kind} track is encrypted (sample entry '{Mp4.TypeName(type)}')",
        _ => $"{kind} sample entry '{Mp4.TypeName(type)}' is not a codec Sluice carries",
    };

    private static TrackInfo Video(CodecId codec, string name, byte[] codecPrivate, int width, int height) =>
        Track(MediaKind.Video, codec, name, codecPrivate) with { Width = width, Height = height };

    private static TrackInfo Audio(CodecId codec, string name, byte[] codecPrivate, int rate, int channels) =>
        Track(MediaKind.Audio, codec, name, codecPrivate) with { SampleRate = rate, Channels = channels };

    private static TrackInfo Track(MediaKind kind, CodecId codec, string name, byte[] codecPrivate) =>
        new() { Index = 0, Kind = kind, Codec = codec, ContainerCodecName = name, CodecPrivate = codecPrivate };

    private static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> data, in Mp4Box box) => data.Slice(box.BodyStart, box.BodyLength);

    /// <summary>The first child box of <paramref name="type"/> after the entry's fixed fields, also inside QuickTime's 'wave'.</summary>
    private static bool Child(ReadOnlySpan<byte> data, long fileBase, in Mp4Box entry, int skip, uint type, out Mp4Box box)
    {
        var children = new Mp4Children(data, fileBase, entry, skip);
        while (children.Next(out box))
        {
            if (box.Type == type)
            {
                return true;
            }

            if (box.Type == Mp4.Wave && Child(data, fileBase, box, 0, type, out box))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The object type and DecoderSpecificInfo of the entry's esds (ISO 14496-14 5.6; descriptors of ISO 14496-1 7.2.6):
    /// object type 0 with a refusal when there is no esds.
    /// </summary>
    private static (byte ObjectType, byte[] Specific) ReadEsds(ReadOnlySpan<byte> data, long fileBase, in Mp4Box entry, int skip, out string? refusal)
    {
        refusal = null;
        if (!Child(data, fileBase, entry, skip, Mp4.Esds, out var esds))
        {
            refusal = $"{entry.Name} without an esds";
            return (0, []);
        }

        var body = Body(data, esds);
        var reader = new DescriptorReader(body, esds, 4);
        if (!reader.Find(0x03, out int esStart, out int esEnd))
        {
            refusal = $"{entry.Name} whose esds has no ES_Descriptor";
            return (0, []);
        }

        int at = esStart + 3; // ES_ID, flags
        if (at > esEnd)
        {
            reader.Damaged(esStart, "ES_Descriptor is too short");
        }

        byte flags = body[esStart + 2];
        at += ((flags & 0x80) != 0 ? 2 : 0) + ((flags & 0x20) != 0 ? 2 : 0);
        if ((flags & 0x40) != 0 && at < esEnd)
        {
            at += 1 + body[at];
        }

        if (at > esEnd)
        {
            reader.Damaged(esStart, "ES_Descriptor is too short for its optional fields");
        }

        var inner = new DescriptorReader(body[..esEnd], esds, at);
        if (!inner.Find(0x04, out int configStart, out int configEnd) || configEnd - configStart < 13)
        {
            refusal = $"{entry.Name} whose esds has no DecoderConfigDescriptor";
            return (0, []);
        }

        byte objectType = body[configStart];
        var specificReader = new DescriptorReader(body[..configEnd], esds, configStart + 13);
        byte[] specific = specificReader.Find(0x05, out int specificStart, out int specificEnd) ? body[specificStart..specificEnd].ToArray() : [];
        return (objectType, specific);
    }

    /// <summary>An OpusHead (RFC 7845 5.1) from a dOps body (Encapsulation of Opus in ISOBMFF 4.3.2), null when it is cut short.</summary>
    private static byte[]? OpusHeadOf(ReadOnlySpan<byte> dOps)
    {
        if (dOps.Length < 11 || dOps[0] != 0)
        {
            return null;
        }

        int channels = dOps[1];
        int family = dOps[10];
        int tableLength = family != 0 ? 2 + channels : 0;
        if (dOps.Length < 11 + tableLength)
        {
            return null;
        }

        // The same fields, big-endian in dOps and little-endian in OpusHead (whose version is 1).
        byte[] head = new byte[19 + tableLength];
        "OpusHead"u8.CopyTo(head);
        head[8] = 1;
        head[9] = (byte)channels;
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(10), BinaryPrimitives.ReadUInt16BigEndian(dOps[2..]));
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), BinaryPrimitives.ReadUInt32BigEndian(dOps[4..]));
        BinaryPrimitives.WriteInt16LittleEndian(head.AsSpan(16), BinaryPrimitives.ReadInt16BigEndian(dOps[8..]));
        head[18] = (byte)family;
        dOps.Slice(11, tableLength).CopyTo(head.AsSpan(19));
        return head;
    }

    /// <summary>MPEG-4 descriptors in an esds body: a tag, a size of up to four 7-bit bytes (ISO 14496-1 8.3.3), the contents.</summary>
    private readonly ref struct DescriptorReader(ReadOnlySpan<byte> body, Mp4Box esds, int start)
    {
        private readonly ReadOnlySpan<byte> _body = body;

        /// <summary>The first descriptor of <paramref name="tag"/> from the start on (others are passed over): where its contents begin and end.</summary>
        public bool Find(byte tag, out int contentStart, out int contentEnd)
        {
            int at = start;
            while (at + 2 <= _body.Length)
            {
                byte found = _body[at];
                int size = 0;
                int i = at + 1;
                for (int n = 0; ; n++)
                {
                    if (i >= _body.Length || n == 4)
                    {
                        Damaged(at, "descriptor size is cut short");
                    }

                    byte b = _body[i++];
                    size = (size << 7) | (b & 0x7F);
                    if ((b & 0x80) == 0)
                    {
                        break;
                    }
                }

                if (size > _body.Length - i)
                {
                    Damaged(at, $"descriptor 0x{found:X2} of {size} bytes runs past the end of the esds");
                }

                if (found == tag)
                {
                    contentStart = i;
                    contentEnd = i + size;
                    return true;
                }

                at = i + size;
            }

            contentStart = contentEnd = 0;
            return false;
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Damaged(int at, string message) => Mp4.Throw(esds.BodyOffset + at, $"{esds.Path}: {message}");
    }
}
