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

    // audio
    Vorbis,
    Opus,
    AAC,
    MP3,
    FLAC,
    AC3,
    PCM,
}

public static class CodecIds
{
    public static MediaKind KindOf(CodecId codec) => codec switch
    {
        CodecId.VP8 or CodecId.VP9 or CodecId.AV1 or CodecId.H264 or CodecId.H265 or CodecId.Theora or CodecId.MJPEG => MediaKind.Video,
        CodecId.Vorbis or CodecId.Opus or CodecId.AAC or CodecId.MP3 or CodecId.FLAC or CodecId.AC3 or CodecId.PCM => MediaKind.Audio,
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
        CodecId.Vorbis => "vorbis",
        CodecId.Opus => "opus",
        CodecId.AAC => "aac",
        CodecId.MP3 => "mp3",
        CodecId.FLAC => "flac",
        CodecId.AC3 => "ac3",
        CodecId.PCM => "pcm",
        _ => "unknown",
    };
}
