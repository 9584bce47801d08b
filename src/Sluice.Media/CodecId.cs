namespace Sluice.Media;

/// <summary>Codecs Sluice knows by name. Codecs themselves are ffmpeg's; this only names them.</summary>
public enum CodecId
{
    Unknown,

    // video
    VP8,
    VP9,
    AV1,
    H264,
    H265,
    Theora,
    MJPEG,

    /// <summary>Sorenson H.263 (FLV1), ffmpeg's flv encoder.</summary>
    FLV1,

    /// <summary>MPEG-4 Part 2 visual (ISO 14496-2): ffmpeg's mpeg4 and libxvid encoders.</summary>
    MPEG4,
    MPEG1Video,
    MPEG2Video,

    /// <summary>ITU-T H.263, and H.263+ (ffmpeg's h263p encoder), which the same decoder reads.</summary>
    H263,

    /// <summary>Microsoft MPEG-4 version 2 and 3 (ffmpeg's msmpeg4v2 and msmpeg4), and Windows Media Video 7 and 8: ASF's video.</summary>
    MSMPEG4V2,
    MSMPEG4V3,
    WMV1,
    WMV2,

    // audio
    Vorbis,
    Opus,
    AAC,
    MP3,
    FLAC,
    AC3,
    PCM,

    /// <summary>MPEG-1/2 Audio Layer II.</summary>
    MP2,

    /// <summary>
    /// Windows Media Audio 1 and 2, ASF's audio. Their codec private data is the whole WAVEFORMATEX (its block
    /// alignment and byte rate are what the decoder needs, and ASF stores the same structure).
    /// </summary>
    WMAV1,
    WMAV2,
}

public static class CodecIds
{
    public static MediaKind KindOf(CodecId codec) => codec switch
    {
        CodecId.VP8 or CodecId.VP9 or CodecId.AV1 or CodecId.H264 or CodecId.H265 or CodecId.Theora or CodecId.MJPEG
            or CodecId.FLV1 or CodecId.MPEG4 or CodecId.MPEG1Video or CodecId.MPEG2Video or CodecId.H263
            or CodecId.MSMPEG4V2 or CodecId.MSMPEG4V3 or CodecId.WMV1 or CodecId.WMV2 => MediaKind.Video,
        CodecId.Vorbis or CodecId.Opus or CodecId.AAC or CodecId.MP3 or CodecId.FLAC or CodecId.AC3 or CodecId.PCM
            or CodecId.MP2 or CodecId.WMAV1 or CodecId.WMAV2 => MediaKind.Audio,
        _ => MediaKind.Data,
    };

    /// <summary>The name ffmpeg and ffprobe print for the codec (ffprobe's codec_name).</summary>
    public static string FfmpegName(CodecId codec) => codec switch
    {
        CodecId.VP8 => "vp8",
        CodecId.VP9 => "vp9",
        CodecId.AV1 => "av1",
        CodecId.H264 => "h264",
        CodecId.H265 => "hevc",
        CodecId.Theora => "theora",
        CodecId.MJPEG => "mjpeg",
        CodecId.FLV1 => "flv1",
        CodecId.MPEG4 => "mpeg4",
        CodecId.MPEG1Video => "mpeg1video",
        CodecId.MPEG2Video => "mpeg2video",
        CodecId.H263 => "h263",
        CodecId.MSMPEG4V2 => "msmpeg4v2",
        CodecId.MSMPEG4V3 => "msmpeg4v3",
        CodecId.WMV1 => "wmv1",
        CodecId.WMV2 => "wmv2",
        CodecId.Vorbis => "vorbis",
        CodecId.Opus => "opus",
        CodecId.AAC => "aac",
        CodecId.MP3 => "mp3",
        CodecId.FLAC => "flac",
        CodecId.AC3 => "ac3",
        CodecId.PCM => "pcm",
        CodecId.MP2 => "mp2",
        CodecId.WMAV1 => "wmav1",
        CodecId.WMAV2 => "wmav2",
        _ => "unknown",
    };
}
