namespace Sluice.Media.Codecs.MpegVideo;

/// <summary>
/// What the sequence header of MPEG-1 video (ISO 11172-2 2.4.2.3) or MPEG-2 video (ISO 13818-2 6.2.2.1, with the
/// sequence extension of 6.2.2.3) says: the picture size, and which of the two the stream is (an MPEG-2 sequence
/// header is always followed by a sequence extension).
/// </summary>
public readonly record struct MpegVideoSequence(int Width, int Height, bool IsMpeg2)
{
    public const byte PictureCode = 0x00;
    public const byte UserDataCode = 0xB2;
    public const byte SequenceHeaderCode = 0xB3;
    public const byte ExtensionCode = 0xB5;
    public const byte GroupCode = 0xB8;

    /// <summary>The codec a stream with this sequence header is.</summary>
    public CodecId Codec => IsMpeg2 ? CodecId.MPEG2Video : CodecId.MPEG1Video;

    /// <summary>Reads the first sequence header of <paramref name="data"/> and its extension; false when there is none.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out MpegVideoSequence sequence)
    {
        sequence = default;
        int at = 0;
        int code;
        do
        {
            code = MpegStartCodes.Next(data, at);
            if (code < 0)
            {
                return false;
            }

            at = code + 1;
        }
        while (data[code] != SequenceHeaderCode);

        if (data.Length - at < 3)
        {
            return false;
        }

        int width = (data[at] << 4) | (data[at + 1] >> 4);
        int height = ((data[at + 1] & 0x0F) << 8) | data[at + 2];
        bool mpeg2 = false;
        int next = MpegStartCodes.Next(data, at);
        if (next >= 0 && data[next] == ExtensionCode && data.Length - next >= 5 && (data[next + 1] >> 4) == 1)
        {
            // sequence_extension: identifier (4), profile_and_level (8), progressive (1), chroma_format (2),
            // horizontal_size_extension (2), vertical_size_extension (2), ...
            mpeg2 = true;
            uint bits = (uint)((data[next + 1] << 24) | (data[next + 2] << 16) | (data[next + 3] << 8) | data[next + 4]);
            width |= (int)((bits >> 15) & 3) << 12;
            height |= (int)((bits >> 13) & 3) << 12;
        }

        if (width == 0 || height == 0)
        {
            return false;
        }

        sequence = new MpegVideoSequence(width, height, mpeg2);
        return true;
    }

    /// <summary>
    /// The length of the sequence header (with its extensions and user data) a frame starts with, up to its group of
    /// pictures or picture; 0 when the frame does not start with one. This is what Matroska and MP4 keep as the
    /// codec private data.
    /// </summary>
    public static int HeaderLength(ReadOnlySpan<byte> frame) =>
        MpegStartCodes.HeaderLength(frame, static c => c == SequenceHeaderCode, static c => c is SequenceHeaderCode or ExtensionCode or UserDataCode);

    /// <summary>True when the first picture of <paramref name="frame"/> is intra coded (picture_coding_type 1).</summary>
    public static bool IsIntra(ReadOnlySpan<byte> frame)
    {
        for (int code = MpegStartCodes.Next(frame, 0); code >= 0; code = MpegStartCodes.Next(frame, code + 1))
        {
            if (frame[code] == PictureCode)
            {
                // temporal_reference (10), picture_coding_type (3)
                return frame.Length - code >= 3 && ((frame[code + 2] >> 3) & 7) == 1;
            }
        }

        return false;
    }
}
