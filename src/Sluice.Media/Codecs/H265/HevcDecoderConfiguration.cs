using System.Buffers.Binary;

namespace Sluice.Media.Codecs.H265;

/// <summary>
/// The HEVCDecoderConfigurationRecord ("hvcC", ISO 14496-15 8.3.3.1): the general profile, tier and level, the
/// NAL unit length size and arrays of parameter sets (VPS, SPS, PPS, SEI). Matroska's V_MPEGH/ISO/HEVC
/// CodecPrivate carries it.
/// </summary>
public sealed class HevcDecoderConfiguration
{
    /// <summary>The fixed part before the NAL unit arrays.</summary>
    public const int FixedSize = 23;

    public required int GeneralProfileSpace { get; init; }
    public required bool GeneralTier { get; init; }
    public required int GeneralProfileIdc { get; init; }
    public required uint GeneralProfileCompatibility { get; init; }
    public required ulong GeneralConstraintFlags { get; init; }
    public required int GeneralLevelIdc { get; init; }
    public required int ChromaFormat { get; init; }
    public required int BitDepthLuma { get; init; }
    public required int BitDepthChroma { get; init; }
    public required int NumTemporalLayers { get; init; }
    public required bool TemporalIdNested { get; init; }

    /// <summary>Bytes in each NAL unit length of the payloads (lengthSizeMinusOne + 1): 1, 2 or 4.</summary>
    public required int LengthSize { get; init; }

    public required IReadOnlyList<byte[]> Vps { get; init; }
    public required IReadOnlyList<byte[]> Sps { get; init; }
    public required IReadOnlyList<byte[]> Pps { get; init; }

    /// <summary>NAL units of other types the record carried (SEI), in order.</summary>
    public IReadOnlyList<byte[]> Other { get; init; } = [];

    /// <summary>
    /// Builds an hvcC from the parameter sets; the profile, tier, level, chroma format and bit depths come from
    /// the first SPS. Throws <see cref="ArgumentException"/> when there is no valid SPS, or no VPS or PPS.
    /// </summary>
    public static byte[] Build(IReadOnlyList<byte[]> vps, IReadOnlyList<byte[]> sps, IReadOnlyList<byte[]> pps, int lengthSize = 4)
    {
        ArgumentNullException.ThrowIfNull(vps);
        ArgumentNullException.ThrowIfNull(sps);
        ArgumentNullException.ThrowIfNull(pps);
        AnnexB.CheckLengthSize(lengthSize);
        if (vps.Count == 0 || sps.Count == 0 || pps.Count == 0)
        {
            throw new ArgumentException($"an hvcC needs a VPS, an SPS and a PPS (got {vps.Count}, {sps.Count} and {pps.Count})");
        }

        var first = H265Sps.Parse(sps[0]) ?? throw new ArgumentException("the first SPS cannot be parsed", nameof(sps));
        int size = FixedSize + (3 * 3)
            + ParameterSetRecord.SizeOf<H265Nal.Header>(vps, (int)H265NalType.Vps, nameof(H265NalType.Vps), 3, "hvcC", nameof(vps))
            + ParameterSetRecord.SizeOf<H265Nal.Header>(sps, (int)H265NalType.Sps, nameof(H265NalType.Sps), 3, "hvcC", nameof(sps))
            + ParameterSetRecord.SizeOf<H265Nal.Header>(pps, (int)H265NalType.Pps, nameof(H265NalType.Pps), 3, "hvcC", nameof(pps));
        byte[] record = new byte[size];
        var span = record.AsSpan();
        span[0] = 1;
        span[1] = (byte)((first.GeneralProfileSpace << 6) | (first.GeneralTier ? 0x20 : 0) | first.GeneralProfileIdc);
        BinaryPrimitives.WriteUInt32BigEndian(span[2..], first.GeneralProfileCompatibility);
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], (ushort)(first.GeneralConstraintFlags >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], (uint)first.GeneralConstraintFlags);
        span[12] = (byte)first.GeneralLevelIdc;
        BinaryPrimitives.WriteUInt16BigEndian(span[13..], 0xF000); // min_spatial_segmentation_idc 0
        span[15] = 0xFC; // parallelismType 0 (unknown)
        span[16] = (byte)(0xFC | first.ChromaFormatIdc);
        span[17] = (byte)(0xF8 | (first.BitDepthLuma - 8));
        span[18] = (byte)(0xF8 | (first.BitDepthChroma - 8));
        BinaryPrimitives.WriteUInt16BigEndian(span[19..], 0); // avgFrameRate unknown
        span[21] = (byte)((first.MaxSubLayers << 3) | (first.TemporalIdNesting ? 0x04 : 0) | (lengthSize - 1));
        span[22] = 3;
        int at = FixedSize;
        at = WriteArray(span, at, H265NalType.Vps, vps);
        at = WriteArray(span, at, H265NalType.Sps, sps);
        WriteArray(span, at, H265NalType.Pps, pps);
        return record;
    }

    /// <summary>Parses an hvcC; null when it is damaged or not version 1.</summary>
    public static HevcDecoderConfiguration? Parse(ReadOnlySpan<byte> record)
    {
        if (record.Length < FixedSize || record[0] != 1 || (record[21] & 3) == 2)
        {
            return null;
        }

        var vps = new List<byte[]>();
        var sps = new List<byte[]>();
        var pps = new List<byte[]>();
        var other = new List<byte[]>();
        int arrays = record[22];
        int at = FixedSize;
        for (int a = 0; a < arrays; a++)
        {
            if (record.Length - at < 3)
            {
                return null;
            }

            var type = (H265NalType)(record[at] & 0x3F);
            int count = BinaryPrimitives.ReadUInt16BigEndian(record[(at + 1)..]);
            at += 3;
            for (int i = 0; i < count; i++)
            {
                if (!ParameterSetRecord.TryReadSet(record, ref at, out byte[] nal))
                {
                    return null;
                }

                (type switch
                {
                    H265NalType.Vps => vps,
                    H265NalType.Sps => sps,
                    H265NalType.Pps => pps,
                    _ => other,
                }).Add(nal);
            }
        }

        return new HevcDecoderConfiguration
        {
            GeneralProfileSpace = record[1] >> 6,
            GeneralTier = (record[1] & 0x20) != 0,
            GeneralProfileIdc = record[1] & 0x1F,
            GeneralProfileCompatibility = BinaryPrimitives.ReadUInt32BigEndian(record[2..]),
            GeneralConstraintFlags = ((ulong)BinaryPrimitives.ReadUInt16BigEndian(record[6..]) << 32) | BinaryPrimitives.ReadUInt32BigEndian(record[8..]),
            GeneralLevelIdc = record[12],
            ChromaFormat = record[16] & 3,
            BitDepthLuma = (record[17] & 7) + 8,
            BitDepthChroma = (record[18] & 7) + 8,
            NumTemporalLayers = (record[21] >> 3) & 7,
            TemporalIdNested = (record[21] & 4) != 0,
            LengthSize = (record[21] & 3) + 1,
            Vps = vps,
            Sps = sps,
            Pps = pps,
            Other = other,
        };
    }

    /// <summary>The length size of an hvcC, or 0 when the record is damaged.</summary>
    public static int ReadLengthSize(ReadOnlySpan<byte> record) =>
        record.Length >= FixedSize && record[0] == 1 && (record[21] & 3) != 2 ? (record[21] & 3) + 1 : 0;

    private static int WriteArray(Span<byte> record, int at, H265NalType type, IReadOnlyList<byte[]> nals)
    {
        record[at] = (byte)(0x80 | (int)type); // array_completeness: every set of this type is here
        BinaryPrimitives.WriteUInt16BigEndian(record[(at + 1)..], (ushort)nals.Count);
        return ParameterSetRecord.WriteSets(record, at + 3, nals);
    }
}
