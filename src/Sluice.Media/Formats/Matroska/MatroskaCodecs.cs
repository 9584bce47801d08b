namespace Sluice.Media.Formats.Matroska;

/// <summary>Matroska CodecID strings (the Matroska codec registry) and <see cref="CodecId"/>.</summary>
public static class MatroskaCodecs
{
    /// <summary>The codec named by a Matroska CodecID, or <see cref="CodecId.Unknown"/>.</summary>
    public static CodecId FromMatroska(string codecId)
    {
        switch (codecId)
        {
            case "V_VP8": return CodecId.VP8;
            case "V_VP9": return CodecId.VP9;
            case "V_AV1": return CodecId.AV1;
            case "V_MPEG4/ISO/AVC": return CodecId.H264;
            case "V_MPEGH/ISO/HEVC": return CodecId.H265;
            case "V_THEORA": return CodecId.Theora;
            case "V_MJPEG": return CodecId.MJPEG;
            case "A_VORBIS": return CodecId.Vorbis;
            case "A_OPUS": return CodecId.Opus;
            case "A_MPEG/L3": return CodecId.MP3;
            case "A_FLAC": return CodecId.FLAC;
            case "A_AC3": return CodecId.AC3;
        }

        // A_AAC, and the older A_AAC/MPEG4/LC, A_AAC/MPEG2/LC/SBR, ...
        if (codecId.StartsWith("A_AAC", StringComparison.Ordinal))
        {
            return CodecId.AAC;
        }

        if (codecId.StartsWith("A_PCM/", StringComparison.Ordinal))
        {
            return CodecId.PCM;
        }

        return CodecId.Unknown;
    }

    /// <summary>The Matroska CodecID for a codec, or null when Matroska has none Sluice knows.</summary>
    public static string? ToMatroska(CodecId codec) => codec switch
    {
        CodecId.VP8 => "V_VP8",
        CodecId.VP9 => "V_VP9",
        CodecId.AV1 => "V_AV1",
        CodecId.H264 => "V_MPEG4/ISO/AVC",
        CodecId.H265 => "V_MPEGH/ISO/HEVC",
        CodecId.Theora => "V_THEORA",
        CodecId.MJPEG => "V_MJPEG",
        CodecId.Vorbis => "A_VORBIS",
        CodecId.Opus => "A_OPUS",
        CodecId.AAC => "A_AAC",
        CodecId.MP3 => "A_MPEG/L3",
        CodecId.FLAC => "A_FLAC",
        CodecId.AC3 => "A_AC3",
        CodecId.PCM => "A_PCM/INT/LIT",
        _ => null,
    };

    /// <summary>True for the codecs a WebM file may carry (VP8, VP9, AV1, Vorbis, Opus).</summary>
    public static bool IsWebmCodec(CodecId codec) =>
        codec is CodecId.VP8 or CodecId.VP9 or CodecId.AV1 or CodecId.Vorbis or CodecId.Opus;
}
