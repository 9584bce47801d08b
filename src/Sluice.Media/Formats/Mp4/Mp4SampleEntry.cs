using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Codecs.Mpeg4Visual;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// The sample entries (stsd children) Sluice writes, one per codec, and the RFC 6381 codecs parameter that
/// names them for a browser (MediaSource.isTypeSupported, a &lt;source type&gt;).
/// </summary>
internal static partial class Mp4SampleEntry
{
    public static bool CanWrite(CodecId codec) =>
        codec is CodecId.H264 or CodecId.H265 or CodecId.VP9 or CodecId.AV1 or CodecId.MPEG4 or CodecId.MPEG1Video or CodecId.MPEG2Video
            or CodecId.AAC or CodecId.MP3 or CodecId.Opus;

    /// <summary>Why a track cannot be written, or null when it can.</summary>
    public static string? Refusal(TrackInfo track)
    {
        if (!CanWrite(track.Codec))
        {
            return $"codec {CodecIds.FfmpegName(track.Codec)} ({track.ContainerCodecName}) cannot be written to fragmented MP4 (it carries H.264, H.265, VP9, AV1, MPEG-4 Part 2, MPEG-1/2 video, AAC, MP3 and Opus)";
        }

        var codecPrivate = track.CodecPrivate.Span;
        return track.Codec switch
        {
            CodecId.H264 when codecPrivate.Length < 7 || codecPrivate[0] != 1 => "H.264 needs its avcC (AVCDecoderConfigurationRecord) as CodecPrivate",
            CodecId.H265 when codecPrivate.Length < HevcDecoderConfiguration.FixedSize || codecPrivate[0] != 1 => "H.265 needs its hvcC (HEVCDecoderConfigurationRecord) as CodecPrivate",
            CodecId.AV1 when codecPrivate.Length < 4 || codecPrivate[0] != 0x81 => "AV1 needs its av1C (AV1CodecConfigurationRecord) as CodecPrivate",
            CodecId.AAC when codecPrivate.Length < 2 => "AAC needs its AudioSpecificConfig as CodecPrivate",
            CodecId.MPEG4 when !Mpeg4VideoObjectLayer.TryParse(codecPrivate, out _) => "MPEG-4 Part 2 needs its video object layer header as CodecPrivate",
            _ => null,
        };
    }

    public static void Write(BoxWriter w, TrackInfo track)
    {
        switch (track.Codec)
        {
            case CodecId.H264:
                Visual(w, track, "avc1", "avcC", track.CodecPrivate.Span);
                break;
            case CodecId.H265:
                // hvc1: the parameter sets are in the hvcC (they may be repeated in band too).
                Visual(w, track, HasParameterSets(track) ? "hvc1" : "hev1", "hvcC", track.CodecPrivate.Span);
                break;
            case CodecId.AV1:
                Visual(w, track, "av01", "av1C", track.CodecPrivate.Span);
                break;
            case CodecId.VP9:
                WriteVp9(w, track);
                break;
            case CodecId.MPEG4:
            case CodecId.MPEG1Video:
            case CodecId.MPEG2Video:
                WriteMp4v(w, track);
                break;
            case CodecId.AAC:
            case CodecId.MP3:
                WriteMp4a(w, track);
                break;
            case CodecId.Opus:
                WriteOpus(w, track);
                break;
            default:
                throw new ArgumentException(Refusal(track), nameof(track));
        }
    }

    /// <summary>The RFC 6381 codecs parameter of one track ("avc1.64001f", "mp4a.40.2", "opus", ...).</summary>
    public static string CodecsParameter(TrackInfo track)
    {
        var cp = track.CodecPrivate.Span;
        switch (track.Codec)
        {
            case CodecId.H264:
                return string.Create(CultureInfo.InvariantCulture, $"avc1.{cp[1]:x2}{cp[2]:x2}{cp[3]:x2}");
            case CodecId.H265:
                return HevcCodecs(track);
            case CodecId.AV1:
            {
                int profile = cp[1] >> 5;
                int level = cp[1] & 0x1F;
                bool highTier = (cp[2] & 0x80) != 0;
                int depth = (cp[2] & 0x40) == 0 ? 8 : (cp[2] & 0x20) != 0 ? 12 : 10;
                return string.Create(CultureInfo.InvariantCulture, $"av01.{profile}.{level:d2}{(highTier ? 'H' : 'M')}.{depth:d2}");
            }

            case CodecId.VP9:
                return "vp09.00.10.08";
            case CodecId.MPEG4:
            {
                // RFC 6381 3.3: mp4v.20 and the profile_and_level_indication of the visual object sequence, in decimal.
                int profile = Mpeg4VideoObjectLayer.ProfileAndLevel(cp);
                return profile < 0 ? "mp4v.20" : string.Create(CultureInfo.InvariantCulture, $"mp4v.20.{profile}");
            }

            case CodecId.MPEG1Video:
                return "mp4v.6a";
            case CodecId.MPEG2Video:
                return "mp4v.61";
            case CodecId.AAC:
                return string.Create(CultureInfo.InvariantCulture, $"mp4a.40.{AudioSpecificConfig.Parse(cp)?.ObjectType ?? AudioSpecificConfig.AacLc}");
            case CodecId.MP3:
                return "mp4a.6b";
            case CodecId.Opus:
                return "opus";
            default:
                return CodecIds.FfmpegName(track.Codec);
        }
    }

    private static bool HasParameterSets(TrackInfo track)
    {
        var config = HevcDecoderConfiguration.Parse(track.CodecPrivate.Span);
        return config is not null && config.Vps.Count > 0 && config.Sps.Count > 0 && config.Pps.Count > 0;
    }

    private static string HevcCodecs(TrackInfo track)
    {
        var config = HevcDecoderConfiguration.Parse(track.CodecPrivate.Span);
        string entry = HasParameterSets(track) ? "hvc1" : "hev1";
        if (config is null)
        {
            return entry;
        }

        // ISO 14496-15 E.3: profile space letter, profile, compatibility flags in reverse bit order, tier and level,
        // then the six constraint bytes without the trailing zero ones.
        var s = new StringBuilder(entry).Append('.');
        if (config.GeneralProfileSpace > 0)
        {
            s.Append((char)('A' + config.GeneralProfileSpace - 1));
        }

        uint compatibility = config.GeneralProfileCompatibility;
        uint reversed = 0;
        for (int i = 0; i < 32; i++)
        {
            reversed |= ((compatibility >> i) & 1) << (31 - i);
        }

        s.Append(config.GeneralProfileIdc.ToString(CultureInfo.InvariantCulture))
            .Append('.').Append(reversed.ToString("x", CultureInfo.InvariantCulture))
            .Append('.').Append(config.GeneralTier ? 'H' : 'L').Append(config.GeneralLevelIdc.ToString(CultureInfo.InvariantCulture));
        Span<byte> constraints = stackalloc byte[6];
        for (int i = 0; i < 6; i++)
        {
            constraints[i] = (byte)(config.GeneralConstraintFlags >> (8 * (5 - i)));
        }

        int last = 5;
        while (last >= 0 && constraints[last] == 0)
        {
            last--;
        }

        for (int i = 0; i <= last; i++)
        {
            s.Append('.').Append(constraints[i].ToString("x", CultureInfo.InvariantCulture));
        }

        return s.ToString();
    }

    /// <summary>A VisualSampleEntry (ISO 14496-12 12.1.3) with one configuration box.</summary>
    private static void Visual(BoxWriter w, TrackInfo track, string type, string configType, ReadOnlySpan<byte> config)
    {
        int entry = BeginVisual(w, track, type);
        int box = w.Begin(configType);
        w.Bytes(config);
        w.End(box);
        w.End(entry);
    }

    private static int BeginVisual(BoxWriter w, TrackInfo track, string type)
    {
        int entry = w.Begin(type);
        w.Zeros(6).U16(1); // reserved, data_reference_index
        w.U16(0).U16(0).Zeros(12); // pre_defined, reserved, pre_defined[3]
        w.U16(Math.Clamp(track.Width, 0, ushort.MaxValue)).U16(Math.Clamp(track.Height, 0, ushort.MaxValue));
        w.U32(0x00480000).U32(0x00480000).U32(0); // 72 dpi, reserved
        w.U16(1); // frame_count
        w.Zeros(32); // compressorname
        w.U16(0x0018).U16(0xFFFF); // depth, pre_defined -1
        return entry;
    }

    /// <summary>vp09 with a vpcC (VP Codec ISO Media File Format Binding 2.2); the values are the common 8-bit 4:2:0 ones.</summary>
    private static void WriteVp9(BoxWriter w, TrackInfo track)
    {
        int entry = BeginVisual(w, track, "vp09");
        int box = w.BeginFull("vpcC", 1, 0);
        w.U8(0); // profile
        w.U8(10); // level 1.0: unknown
        w.U8((8 << 4) | (1 << 1) | 0); // bitDepth 8, chromaSubsampling 1 (4:2:0 colocated), limited range
        w.U8(2).U8(2).U8(2); // colour primaries, transfer, matrix: unspecified
        w.U16(0); // codecInitializationDataSize
        w.End(box);
        w.End(entry);
    }

    private static int BeginAudio(BoxWriter w, TrackInfo track, string type, int sampleRate)
    {
        int entry = w.Begin(type);
        w.Zeros(6).U16(1); // reserved, data_reference_index
        w.Zeros(8); // reserved
        w.U16(Math.Clamp(track.Channels, 1, ushort.MaxValue)).U16(16); // channelcount, samplesize
        w.U16(0).U16(0); // pre_defined, reserved
        w.U32(sampleRate is > 0 and <= ushort.MaxValue ? (uint)sampleRate << 16 : 0);
        return entry;
    }

    /// <summary>mp4a with an esds (ISO 14496-14 5.6, descriptors of ISO 14496-1 7.2.6).</summary>
    private static void WriteMp4a(BoxWriter w, TrackInfo track)
    {
        int entry = BeginAudio(w, track, "mp4a", track.SampleRate);
        WriteEsds(w, track.Codec == CodecId.AAC ? Mp4.ObjectTypeAac : Mp4.ObjectTypeMpeg1Audio, Mp4.StreamTypeAudio, track.Codec == CodecId.AAC ? track.CodecPrivate.Span : []);
        w.End(entry);
    }

    /// <summary>
    /// mp4v (ISO 14496-14 5.6) for MPEG-4 Part 2, whose esds carries the video object layer as its decoder specific
    /// info, and for MPEG-1/2 video, whose sequence headers are in the frames.
    /// </summary>
    private static void WriteMp4v(BoxWriter w, TrackInfo track)
    {
        int entry = BeginVisual(w, track, "mp4v");
        byte objectType = track.Codec switch
        {
            CodecId.MPEG4 => Mp4.ObjectTypeMpeg4Visual,
            CodecId.MPEG1Video => Mp4.ObjectTypeMpeg1Video,
            _ => Mp4.ObjectTypeMpeg2MainVideo,
        };
        WriteEsds(w, objectType, Mp4.StreamTypeVisual, track.Codec == CodecId.MPEG4 ? track.CodecPrivate.Span : []);
        w.End(entry);
    }

    /// <summary>An esds: an ES_Descriptor with its DecoderConfigDescriptor (and DecoderSpecificInfo when there is one) and SLConfigDescriptor.</summary>
    private static void WriteEsds(BoxWriter w, byte objectType, int streamType, ReadOnlySpan<byte> decoderSpecificInfo)
    {
        int esds = w.BeginFull("esds", 0, 0);
        int es = w.BeginDescriptor(0x03); // ES_Descriptor
        w.U16(0).U8(0); // ES_ID, flags
        int decoderConfig = w.BeginDescriptor(0x04); // DecoderConfigDescriptor
        w.U8(objectType);
        w.U8((byte)((streamType << 2) | 1)); // streamType, upStream 0, reserved 1
        w.U24(0).U32(0).U32(0); // bufferSizeDB, maxBitrate, avgBitrate: unknown
        if (!decoderSpecificInfo.IsEmpty)
        {
            int specific = w.BeginDescriptor(0x05); // DecoderSpecificInfo
            w.Bytes(decoderSpecificInfo);
            w.EndDescriptor(specific);
        }

        w.EndDescriptor(decoderConfig);
        int sl = w.BeginDescriptor(0x06); // SLConfigDescriptor
        w.U8(2); // predefined: MP4
        w.EndDescriptor(sl);
        w.EndDescriptor(es);
        w.End(esds);
    }

    /// <summary>Opus with a dOps (Encapsulation of Opus in ISOBMFF 4.3), from the OpusHead when there is one.</summary>
    private static void WriteOpus(BoxWriter w, TrackInfo track)
    {
        var head = track.CodecPrivate.Span;
        bool valid = head.Length >= 19 && head[..8].SequenceEqual("OpusHead"u8);
        int channels = valid ? head[9] : Math.Clamp(track.Channels, 1, 2);
        int entry = BeginAudio(w, track with { Channels = channels }, "Opus", 48000);
        int box = w.Begin("dOps");
        w.U8(0).U8(channels);
        if (valid)
        {
            // OpusHead is little-endian; dOps is big-endian, otherwise the same fields.
            w.U16(BinaryPrimitives.ReadUInt16LittleEndian(head[10..]));
            w.U32(BinaryPrimitives.ReadUInt32LittleEndian(head[12..]));
            w.U16(BinaryPrimitives.ReadInt16LittleEndian(head[16..]));
            int family = head[18];
            w.U8(family);
            if (family != 0 && head.Length >= 21 + channels)
            {
                w.Bytes(head.Slice(19, 2 + channels)); // StreamCount, CoupledCount, ChannelMapping
            }
            else if (family != 0)
            {
                throw new ArgumentException($"OpusHead of {head.Length} bytes is too short for its channel mapping table", nameof(track));
            }
        }
        else
        {
            w.U16(track.CodecDelayNs > 0 ? (int)Math.Min(ushort.MaxValue, track.CodecDelayNs * 48 / 1_000_000) : 312); // pre-skip in 48 kHz samples
            w.U32((uint)(track.SampleRate > 0 ? track.SampleRate : 48000));
            w.U16(0).U8(0);
        }

        w.End(box);
        w.End(entry);
    }
}
