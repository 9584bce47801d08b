namespace Sluice.Media.Codecs.H265;

/// <summary>The fields of an H.265 sequence parameter set (ITU-T H.265 7.3.2.2) that a container needs.</summary>
public sealed record H265Sps
{
    public required int VpsId { get; init; }
    public required int MaxSubLayers { get; init; }
    public required bool TemporalIdNesting { get; init; }

    /// <summary>The general profile_tier_level fields, as an hvcC repeats them.</summary>
    public required int GeneralProfileSpace { get; init; }

    public required bool GeneralTier { get; init; }
    public required int GeneralProfileIdc { get; init; }
    public required uint GeneralProfileCompatibility { get; init; }

    /// <summary>The 48 bits of general constraint indicator flags (progressive_source_flag first).</summary>
    public required ulong GeneralConstraintFlags { get; init; }

    public required int GeneralLevelIdc { get; init; }
    public required int SpsId { get; init; }

    /// <summary>0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.</summary>
    public required int ChromaFormatIdc { get; init; }

    public required int BitDepthLuma { get; init; }
    public required int BitDepthChroma { get; init; }

    /// <summary>The displayed width: pic_width_in_luma_samples less the conformance window.</summary>
    public required int Width { get; init; }

    public required int Height { get; init; }

    /// <summary>sps_max_num_reorder_pics of the highest sub-layer: the B-frame reordering depth.</summary>
    public int MaxNumReorderPics { get; init; }

    /// <summary>Parses an SPS NAL unit (2-byte header included, emulation prevention still in); null when it is not one or is damaged.</summary>
    public static H265Sps? Parse(ReadOnlySpan<byte> nal)
    {
        if (nal.Length < 16 || H265Nal.TypeOf(nal) != H265NalType.Sps || nal.Length > 8192)
        {
            return null;
        }

        Span<byte> rbsp = stackalloc byte[nal.Length - 2];
        int n = Rbsp.RemoveEmulationPrevention(nal[2..], rbsp);
        var r = new BitReader(rbsp[..n]);

        int vpsId = (int)r.ReadBits(4);
        int maxSubLayersMinus1 = (int)r.ReadBits(3);
        bool nesting = r.ReadFlag();
        if (maxSubLayersMinus1 > 6)
        {
            return null;
        }

        // profile_tier_level(1, sps_max_sub_layers_minus1), 7.3.3
        int profileSpace = (int)r.ReadBits(2);
        bool tier = r.ReadFlag();
        int profileIdc = (int)r.ReadBits(5);
        uint compatibility = r.ReadBits(32);
        ulong constraints = ((ulong)r.ReadBits(16) << 32) | r.ReadBits(32);
        int levelIdc = (int)r.ReadBits(8);
        Span<bool> profilePresent = stackalloc bool[8];
        Span<bool> levelPresent = stackalloc bool[8];
        for (int i = 0; i < maxSubLayersMinus1; i++)
        {
            profilePresent[i] = r.ReadFlag();
            levelPresent[i] = r.ReadFlag();
        }

        if (maxSubLayersMinus1 > 0)
        {
            r.Skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
        }

        for (int i = 0; i < maxSubLayersMinus1; i++)
        {
            if (profilePresent[i])
            {
                r.Skip(88);
            }

            if (levelPresent[i])
            {
                r.Skip(8);
            }
        }

        uint spsId = r.ReadUe();
        uint chroma = r.ReadUe();
        if (spsId > 15 || chroma > 3)
        {
            return null;
        }

        bool separateColourPlane = chroma == 3 && r.ReadFlag();
        uint width = r.ReadUe();
        uint height = r.ReadUe();
        uint left = 0, right = 0, top = 0, bottom = 0;
        if (r.ReadFlag())
        {
            left = r.ReadUe();
            right = r.ReadUe();
            top = r.ReadUe();
            bottom = r.ReadUe();
        }

        uint bitDepthLuma = r.ReadUe() + 8;
        uint bitDepthChroma = r.ReadUe() + 8;
        if (r.Overrun || width == 0 || height == 0 || width > 16888 || height > 16888 || bitDepthLuma > 16 || bitDepthChroma > 16)
        {
            return null;
        }

        r.ReadUe(); // log2_max_pic_order_cnt_lsb_minus4
        uint reorder = 0; // unknown (a truncated SPS) counts as none
        for (int i = r.ReadFlag() ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1 && !r.Overrun; i++)
        {
            r.ReadUe(); // sps_max_dec_pic_buffering_minus1
            reorder = r.ReadUe();
            r.ReadUe(); // sps_max_latency_increase_plus1
        }

        // Conformance window offsets are in chroma samples (table 6-1).
        uint chromaArrayType = separateColourPlane ? 0 : chroma;
        uint subWidthC = chromaArrayType is 1 or 2 ? 2u : 1u;
        uint subHeightC = chromaArrayType == 1 ? 2u : 1u;
        long displayWidth = width - subWidthC * ((long)left + right);
        long displayHeight = height - subHeightC * ((long)top + bottom);
        if (displayWidth <= 0 || displayHeight <= 0)
        {
            return null;
        }

        return new H265Sps
        {
            VpsId = vpsId,
            MaxSubLayers = maxSubLayersMinus1 + 1,
            TemporalIdNesting = nesting,
            GeneralProfileSpace = profileSpace,
            GeneralTier = tier,
            GeneralProfileIdc = profileIdc,
            GeneralProfileCompatibility = compatibility,
            GeneralConstraintFlags = constraints,
            GeneralLevelIdc = levelIdc,
            SpsId = (int)spsId,
            ChromaFormatIdc = (int)chroma,
            BitDepthLuma = (int)bitDepthLuma,
            BitDepthChroma = (int)bitDepthChroma,
            Width = (int)displayWidth,
            Height = (int)displayHeight,
            MaxNumReorderPics = r.Overrun ? 0 : (int)Math.Min(reorder, 16),
        };
    }
}
