using System.Buffers.Binary;

namespace Sluice.Media.Formats.Matroska;

/// <summary>Matroska CodecID strings (the Matroska codec registry) and <see cref="CodecId"/>.</summary>
public static class MatroskaCodecs
{
    /// <summary>
    /// The CodecID of a video codec stored the Video for Windows way: CodecPrivate is a BITMAPINFOHEADER whose
    /// biCompression FourCC names the codec, and what follows its 40 bytes is the codec's own private data. Matroska
    /// has no CodecID of its own for FLV1, H.263, MS-MPEG-4 v2 and WMV, and this is how ffmpeg writes them.
    /// </summary>
    public const string VideoForWindows = "V_MS/VFW/FOURCC";

    /// <summary>The CodecID of an audio codec stored the Audio Compression Manager way: CodecPrivate is a WAVEFORMATEX.</summary>
    public const string AudioCompressionManager = "A_MS/ACM";

    /// <summary>The size of a BITMAPINFOHEADER (biSize).</summary>
    public const int BitmapInfoHeaderSize = 40;

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
            case "V_MPEG4/ISO/SP" or "V_MPEG4/ISO/ASP" or "V_MPEG4/ISO/AP": return CodecId.MPEG4;
            case "V_MPEG1": return CodecId.MPEG1Video;
            case "V_MPEG2": return CodecId.MPEG2Video;
            case "V_MPEG4/MS/V3": return CodecId.MSMPEG4V3;
            case "A_MPEG/L2": return CodecId.MP2;
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
        CodecId.MPEG4 => "V_MPEG4/ISO/ASP",
        CodecId.MPEG1Video => "V_MPEG1",
        CodecId.MPEG2Video => "V_MPEG2",
        CodecId.MSMPEG4V3 => "V_MPEG4/MS/V3",
        CodecId.FLV1 or CodecId.H263 or CodecId.MSMPEG4V2 or CodecId.WMV1 or CodecId.WMV2 => VideoForWindows,
        CodecId.MP2 => "A_MPEG/L2",
        CodecId.WMAV1 or CodecId.WMAV2 => AudioCompressionManager,
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

    /// <summary>
    /// The codec a V_MS/VFW/FOURCC track carries, from the FourCC of its BITMAPINFOHEADER, and the codec private data
    /// after the header; <see cref="CodecId.Unknown"/> for a FourCC Sluice does not know or a header cut short.
    /// </summary>
    public static CodecId FromVideoForWindows(ReadOnlySpan<byte> bitmapInfoHeader, out ReadOnlySpan<byte> codecPrivate)
    {
        codecPrivate = default;
        if (bitmapInfoHeader.Length < BitmapInfoHeaderSize)
        {
            return CodecId.Unknown;
        }

        // biSize counts the codec's data after the 40 bytes too (ffmpeg writes it so), so the data starts at 40.
        codecPrivate = bitmapInfoHeader[BitmapInfoHeaderSize..];
        // The FourCCs ffmpeg's AVI and Matroska readers take for these codecs (libavformat's BMP tags).
        return bitmapInfoHeader.Slice(16, 4) switch
        {
            [(byte)'F', (byte)'L', (byte)'V', (byte)'1'] => CodecId.FLV1,
            [(byte)'H' or (byte)'h' or (byte)'X' or (byte)'s' or (byte)'U' or (byte)'T' or (byte)'L', (byte)'2', (byte)'6', (byte)'3'] => CodecId.H263,
            [(byte)'F', (byte)'M', (byte)'P', (byte)'4'] or [(byte)'X', (byte)'V', (byte)'I', (byte)'D'] or [(byte)'D', (byte)'I', (byte)'V', (byte)'X']
                or [(byte)'D', (byte)'X', (byte)'5', (byte)'0'] or [(byte)'M', (byte)'P', (byte)'4', (byte)'V'] or [(byte)'m', (byte)'p', (byte)'4', (byte)'v'] => CodecId.MPEG4,
            [(byte)'M', (byte)'P', (byte)'4', (byte)'2'] => CodecId.MSMPEG4V2,
            [(byte)'M', (byte)'P', (byte)'4', (byte)'3'] or [(byte)'D', (byte)'I', (byte)'V', (byte)'3'] => CodecId.MSMPEG4V3,
            [(byte)'W', (byte)'M', (byte)'V', (byte)'1'] => CodecId.WMV1,
            [(byte)'W', (byte)'M', (byte)'V', (byte)'2'] => CodecId.WMV2,
            _ => CodecId.Unknown,
        };
    }

    /// <summary>The codec of an A_MS/ACM track, from the wFormatTag of its WAVEFORMATEX; <see cref="CodecId.Unknown"/> for another.</summary>
    public static CodecId FromAudioCompressionManager(ReadOnlySpan<byte> waveFormatEx) =>
        waveFormatEx.Length < 18 ? CodecId.Unknown : BinaryPrimitives.ReadUInt16LittleEndian(waveFormatEx) switch
        {
            0x0160 => CodecId.WMAV1,
            0x0161 => CodecId.WMAV2,
            _ => CodecId.Unknown,
        };

    /// <summary>
    /// The CodecPrivate Matroska stores for a track: a BITMAPINFOHEADER (with the track's own private data after it)
    /// for the codecs stored the Video for Windows way, else the track's private data as it is.
    /// </summary>
    public static ReadOnlyMemory<byte> CodecPrivateOf(TrackInfo track)
    {
        if (ToMatroska(track.Codec) != VideoForWindows)
        {
            return track.CodecPrivate;
        }

        byte[] header = new byte[BitmapInfoHeaderSize + track.CodecPrivate.Length];
        var h = header.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(h, header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(h[4..], Math.Max(0, track.Width));
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], Math.Max(0, track.Height));
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], 1); // biPlanes
        BinaryPrimitives.WriteUInt16LittleEndian(h[14..], 24); // biBitCount
        (track.Codec switch
        {
            CodecId.FLV1 => "FLV1"u8,
            CodecId.MSMPEG4V2 => "MP42"u8,
            CodecId.WMV1 => "WMV1"u8,
            CodecId.WMV2 => "WMV2"u8,
            _ => "H263"u8,
        }).CopyTo(h[16..]);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], Math.Max(0, track.Width) * Math.Max(0, track.Height) * 3); // biSizeImage
        track.CodecPrivate.Span.CopyTo(h[BitmapInfoHeaderSize..]);
        return header;
    }
}
