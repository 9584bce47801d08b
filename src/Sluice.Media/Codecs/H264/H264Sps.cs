namespace Sluice.Media.Codecs.H264;

/// <summary>The fields of an H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1) that a container needs.</summary>
public sealed record H264Sps
{
    public required int ProfileIdc { get; init; }

    /// <summary>constraint_set0..5 flags and the reserved bits: the byte between profile_idc and level_idc.</summary>
    public required int ConstraintFlags { get; init; }

    public required int LevelIdc { get; init; }
    public required int SpsId { get; init; }

    /// <summary>0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.</summary>
    public required int ChromaFormatIdc { get; init; }

    public required int BitDepthLuma { get; init; }
    public required int BitDepthChroma { get; init; }
    public required bool FrameMbsOnly { get; init; }

    /// <summary>The displayed width: macroblocks less the cropping.</summary>
    public required int Width { get; init; }

    /// <summary>The displayed frame height: map units (doubled for fields) less the cropping.</summary>
    public required int Height { get; init; }

    /// <summary>
    /// How many frames at most precede any frame in decoding order and follow it in output order (B-frame reordering
    /// depth): VUI max_num_reorder_frames when the SPS states it, 0 for profiles without B slices, else null.
    /// </summary>
    public int? MaxNumReorderFrames { get; init; }

    /// <summary>True for the profiles whose SPS carries chroma_format_idc and bit depths (High and up).</summary>
    public static bool HasChromaInfo(int profileIdc) =>
        profileIdc is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135;

    /// <summary>Parses an SPS NAL unit (header byte included, emulation prevention still in); null when it is not one or is damaged.</summary>
    public static H264Sps? Parse(ReadOnlySpan<byte> nal)
    {
        if (nal.Length < 4 || H264Nal.TypeOf(nal) != H264NalType.Sps || nal.Length > 4096)
        {
            return null;
        }

        Span<byte> rbsp = stackalloc byte[nal.Length - 1];
        int n = Rbsp.RemoveEmulationPrevention(nal[1..], rbsp);
        var r = new BitReader(rbsp[..n]);

        int profile = (int)r.ReadBits(8);
        int constraints = (int)r.ReadBits(8);
        int level = (int)r.ReadBits(8);
        uint spsId = r.ReadUe();
        if (spsId > 31)
        {
            return null;
        }

        uint chroma = 1;
        bool separateColourPlane = false;
        uint bitDepthLuma = 8;
        uint bitDepthChroma = 8;
        if (HasChromaInfo(profile))
        {
            chroma = r.ReadUe();
            if (chroma > 3)
            {
                return null;
            }

            if (chroma == 3)
            {
                separateColourPlane = r.ReadFlag();
            }

            bitDepthLuma = r.ReadUe() + 8;
            bitDepthChroma = r.ReadUe() + 8;
            if (bitDepthLuma > 14 || bitDepthChroma > 14)
            {
                return null;
            }

            r.Skip(1); // qpprime_y_zero_transform_bypass_flag
            if (r.ReadFlag())
            {
                int lists = chroma != 3 ? 8 : 12;
                for (int i = 0; i < lists && !r.Overrun; i++)
                {
                    if (r.ReadFlag())
                    {
                        SkipScalingList(ref r, i < 6 ? 16 : 64);
                    }
                }
            }
        }

        if (r.ReadUe() > 12)
        {
            return null; // log2_max_frame_num_minus4
        }

        uint pocType = r.ReadUe();
        if (pocType == 0)
        {
            r.ReadUe(); // log2_max_pic_order_cnt_lsb_minus4
        }
        else if (pocType == 1)
        {
            r.Skip(1); // delta_pic_order_always_zero_flag
            r.ReadSe(); // offset_for_non_ref_pic
            r.ReadSe(); // offset_for_top_to_bottom_field
            uint cycle = r.ReadUe();
            if (cycle > 255)
            {
                return null;
            }

            for (uint i = 0; i < cycle && !r.Overrun; i++)
            {
                r.ReadSe();
            }
        }
        else if (pocType != 2)
        {
            return null;
        }

        r.ReadUe(); // max_num_ref_frames
        r.Skip(1); // gaps_in_frame_num_value_allowed_flag
        uint widthMbs = r.ReadUe() + 1;
        uint heightMapUnits = r.ReadUe() + 1;
        bool frameMbsOnly = r.ReadFlag();
        if (!frameMbsOnly)
        {
            r.Skip(1); // mb_adaptive_frame_field_flag
        }

        r.Skip(1); // direct_8x8_inference_flag
        uint cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
        if (r.ReadFlag())
        {
            cropLeft = r.ReadUe();
            cropRight = r.ReadUe();
            cropTop = r.ReadUe();
            cropBottom = r.ReadUe();
        }

        if (r.Overrun || widthMbs > 1024 || heightMapUnits > 1024)
        {
            return null;
        }

        // ITU-T H.264 7.4.2.1.1: crop units depend on ChromaArrayType and frame_mbs_only_flag.
        uint chromaArrayType = separateColourPlane ? 0 : chroma;
        uint subWidthC = chromaArrayType is 1 or 2 ? 2u : 1u;
        uint subHeightC = chromaArrayType == 1 ? 2u : 1u;
        uint fieldFactor = frameMbsOnly ? 1u : 2u;
        uint cropUnitX = chromaArrayType == 0 ? 1 : subWidthC;
        uint cropUnitY = chromaArrayType == 0 ? fieldFactor : subHeightC * fieldFactor;
        long width = widthMbs * 16L - cropUnitX * ((long)cropLeft + cropRight);
        long height = fieldFactor * heightMapUnits * 16L - cropUnitY * ((long)cropTop + cropBottom);
        if (width <= 0 || height <= 0)
        {
            return null;
        }

        int? reorder = r.ReadFlag() ? ReadVuiReorderFrames(ref r) : null;
        if (reorder is null && (profile == 66 || (profile is 44 or 86 or 100 or 110 or 122 or 244 && (constraints & 0x10) != 0)))
        {
            reorder = 0; // Baseline has no B slices; the intra profiles (constraint_set3) no inter prediction at all.
        }

        return new H264Sps
        {
            ProfileIdc = profile,
            ConstraintFlags = constraints,
            LevelIdc = level,
            SpsId = (int)spsId,
            ChromaFormatIdc = (int)chroma,
            BitDepthLuma = (int)bitDepthLuma,
            BitDepthChroma = (int)bitDepthChroma,
            FrameMbsOnly = frameMbsOnly,
            Width = (int)width,
            Height = (int)height,
            MaxNumReorderFrames = reorder,
        };
    }

    /// <summary>Reads vui_parameters() (E.1.1) up to max_num_reorder_frames; null when bitstream_restriction is absent or the VUI is damaged.</summary>
    private static int? ReadVuiReorderFrames(ref BitReader r)
    {
        if (r.ReadFlag() && r.ReadBits(8) == 255)
        {
            r.Skip(32); // sar_width, sar_height
        }

        if (r.ReadFlag())
        {
            r.Skip(1); // overscan_appropriate_flag
        }

        if (r.ReadFlag())
        {
            r.Skip(4); // video_format, video_full_range_flag
            if (r.ReadFlag())
            {
                r.Skip(24); // colour_primaries, transfer_characteristics, matrix_coefficients
            }
        }

        if (r.ReadFlag())
        {
            r.ReadUe(); // chroma_sample_loc_type_top_field
            r.ReadUe(); // chroma_sample_loc_type_bottom_field
        }

        if (r.ReadFlag())
        {
            r.Skip(65); // num_units_in_tick, time_scale, fixed_frame_rate_flag
        }

        bool nalHrd = r.ReadFlag() && SkipHrd(ref r);
        bool vclHrd = r.ReadFlag() && SkipHrd(ref r);
        if (nalHrd || vclHrd)
        {
            r.Skip(1); // low_delay_hrd_flag
        }

        r.Skip(1); // pic_struct_present_flag
        if (!r.ReadFlag())
        {
            return null;
        }

        r.Skip(1); // motion_vectors_over_pic_boundaries_flag
        for (int i = 0; i < 4; i++)
        {
            r.ReadUe(); // max_bytes_per_pic_denom, max_bits_per_mb_denom, log2_max_mv_length_horizontal/vertical
        }

        uint reorder = r.ReadUe();
        return r.Overrun || reorder > 16 ? null : (int)reorder;
    }

    /// <summary>Skips hrd_parameters() (E.1.2); true, so that it can stand in a condition.</summary>
    private static bool SkipHrd(ref BitReader r)
    {
        uint count = r.ReadUe() + 1; // cpb_cnt_minus1
        r.Skip(8); // bit_rate_scale, cpb_size_scale
        for (uint i = 0; i < count && i < 32 && !r.Overrun; i++)
        {
            r.ReadUe(); // bit_rate_value_minus1
            r.ReadUe(); // cpb_size_value_minus1
            r.Skip(1); // cbr_flag
        }

        r.Skip(20); // the four delay and offset lengths
        return true;
    }

    private static void SkipScalingList(ref BitReader r, int size)
    {
        int last = 8;
        int next = 8;
        for (int j = 0; j < size && !r.Overrun; j++)
        {
            if (next != 0)
            {
                int delta = r.ReadSe();
                next = (last + delta + 256) % 256;
            }

            last = next == 0 ? last : next;
        }
    }
}
