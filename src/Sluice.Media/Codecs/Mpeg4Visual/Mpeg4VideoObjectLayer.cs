using Sluice.Media.Codecs.MpegVideo;

namespace Sluice.Media.Codecs.Mpeg4Visual;

/// <summary>
/// MPEG-4 Part 2 visual (ISO 14496-2): the headers a stream starts with (visual object sequence, visual object,
/// video object layer: what Matroska, MP4's esds and ffmpeg call the extradata), the picture size its video object
/// layer states (6.2.3), and whether a frame's VOP is intra coded (6.2.5).
/// </summary>
public readonly record struct Mpeg4VideoObjectLayer(int Width, int Height)
{
    public const byte VisualObjectSequenceCode = 0xB0;
    public const byte UserDataCode = 0xB2;
    public const byte GroupOfVopCode = 0xB3;
    public const byte VisualObjectCode = 0xB5;
    public const byte VopCode = 0xB6;

    private const int RectangularShape = 0;
    private const int GrayscaleShape = 3;
    private const int ExtendedPar = 0xF;

    /// <summary>video_object_start_code 0x00-0x1F, video_object_layer_start_code 0x20-0x2F.</summary>
    private static bool IsObjectOrLayer(byte code) => code <= 0x2F;

    private static bool IsHeader(byte code) =>
        IsObjectOrLayer(code) || code is VisualObjectSequenceCode or VisualObjectCode or UserDataCode;

    /// <summary>
    /// The length of the headers a frame starts with (VOS, VO, VOL and their user data), up to its GOV or VOP; 0 when
    /// it starts with none.
    /// </summary>
    public static int HeaderLength(ReadOnlySpan<byte> frame) => MpegStartCodes.HeaderLength(frame, static c => IsHeader(c), static c => IsHeader(c));

    /// <summary>The profile_and_level_indication of the visual object sequence header, or -1 when there is none.</summary>
    public static int ProfileAndLevel(ReadOnlySpan<byte> headers)
    {
        int code = MpegStartCodes.Next(headers, 0);
        return code >= 0 && headers[code] == VisualObjectSequenceCode && code + 1 < headers.Length ? headers[code + 1] : -1;
    }

    /// <summary>Reads the first video object layer header of <paramref name="headers"/>; false when there is none or it is cut short.</summary>
    public static bool TryParse(ReadOnlySpan<byte> headers, out Mpeg4VideoObjectLayer layer)
    {
        layer = default;
        int code = MpegStartCodes.Next(headers, 0);
        while (code >= 0 && headers[code] is < 0x20 or > 0x2F)
        {
            code = MpegStartCodes.Next(headers, code + 1);
        }

        if (code < 0)
        {
            return false;
        }

        var r = new BitReader(headers[(code + 1)..]);
        r.Skip(1); // random_accessible_vol
        r.Skip(8); // video_object_type_indication
        int verid = 1;
        if (r.ReadFlag()) // is_object_layer_identifier
        {
            verid = (int)r.ReadBits(4);
            r.Skip(3); // video_object_layer_priority
        }

        if (r.ReadBits(4) == ExtendedPar)
        {
            r.Skip(16); // par_width, par_height
        }

        if (r.ReadFlag()) // vol_control_parameters
        {
            r.Skip(3); // chroma_format, low_delay
            if (r.ReadFlag()) // vbv_parameters: bit rate, buffer size and occupancy in halves with marker bits
            {
                r.Skip(15 + 1 + 15 + 1 + 15 + 1 + 3 + 11 + 1 + 15 + 1);
            }
        }

        int shape = (int)r.ReadBits(2);
        if (shape == GrayscaleShape && verid != 1)
        {
            r.Skip(4); // video_object_layer_shape_extension
        }

        r.Skip(1); // marker
        int resolution = (int)r.ReadBits(16); // vop_time_increment_resolution
        r.Skip(1); // marker
        if (r.ReadFlag()) // fixed_vop_rate
        {
            int bits = 1;
            while ((1 << bits) < resolution)
            {
                bits++;
            }

            r.Skip(bits); // fixed_vop_time_increment
        }

        if (shape != RectangularShape)
        {
            return false; // the other shapes state their sizes per VOP (or have none: binary only)
        }

        r.Skip(1);
        int width = (int)r.ReadBits(13);
        r.Skip(1);
        int height = (int)r.ReadBits(13);
        if (r.Overrun || width == 0 || height == 0)
        {
            return false;
        }

        layer = new Mpeg4VideoObjectLayer(width, height);
        return true;
    }

    /// <summary>True when the first VOP of <paramref name="frame"/> is intra coded (vop_coding_type 0).</summary>
    public static bool IsIntra(ReadOnlySpan<byte> frame)
    {
        for (int code = MpegStartCodes.Next(frame, 0); code >= 0; code = MpegStartCodes.Next(frame, code + 1))
        {
            if (frame[code] == VopCode)
            {
                return code + 1 < frame.Length && (frame[code + 1] >> 6) == 0;
            }
        }

        return false;
    }
}
