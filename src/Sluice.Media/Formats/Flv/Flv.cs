namespace Sluice.Media.Formats.Flv;

/// <summary>Wire values of FLV (Adobe FLV file format specification 10.1, annex E) and Enhanced RTMP.</summary>
internal static class Flv
{
    public const string FormatName = "FLV";

    public const int HeaderLength = 9;
    public const int TagHeaderLength = 11;
    public const int PreviousTagSizeLength = 4;

    public const byte HeaderFlagAudio = 0x04;
    public const byte HeaderFlagVideo = 0x01;

    public const byte TagAudio = 8;
    public const byte TagVideo = 9;
    public const byte TagScript = 18;

    /// <summary>The Filter bit of the tag type byte: the tag is encrypted.</summary>
    public const byte TagFilter = 0x20;

    // Video: FrameType (upper 4 bits) and CodecID (lower 4 bits) of a legacy VideoTagHeader.
    public const int FrameKey = 1;
    public const int FrameInter = 2;
    public const int FrameDisposableInter = 3;
    public const int FrameGeneratedKey = 4;
    public const int FrameCommand = 5;

    /// <summary>Sorenson H.263 (FLV1): the frame follows the one header byte, with no sequence header.</summary>
    public const int VideoCodecSorensonH263 = 2;

    public const int VideoCodecAvc = 7;

    /// <summary>The unofficial CodecID some encoders use for H.265 in a legacy header (same layout as AVC).</summary>
    public const int VideoCodecHevcLegacy = 12;

    public const int AvcSequenceHeader = 0;
    public const int AvcNalu = 1;
    public const int AvcEndOfSequence = 2;

    /// <summary>The IsExHeader bit of Enhanced RTMP's ExVideoTagHeader.</summary>
    public const byte ExHeader = 0x80;

    // Enhanced RTMP VideoPacketType.
    public const int PacketSequenceStart = 0;
    public const int PacketCodedFrames = 1;
    public const int PacketSequenceEnd = 2;
    public const int PacketCodedFramesX = 3;
    public const int PacketMetadata = 4;
    public const int PacketMpeg2TsSequenceStart = 5;

    // Enhanced RTMP names codecs by their ISO BMFF sample entry types.
    public const uint FourCcAvc1 = Mp4.Mp4.Avc1;
    public const uint FourCcHvc1 = Mp4.Mp4.Hvc1;
    public const uint FourCcAv01 = Mp4.Mp4.Av01;
    public const uint FourCcVp09 = Mp4.Mp4.Vp09;

    // Audio: SoundFormat (upper 4 bits of the AudioTagHeader).
    public const int SoundMp3 = 2;
    public const int SoundAac = 10;
    public const int SoundMp3At8kHz = 14;
    public const int SoundExHeader = 9;

    public const int AacSequenceHeader = 0;
    public const int AacRaw = 1;
}
