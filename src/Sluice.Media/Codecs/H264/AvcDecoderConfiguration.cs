namespace Sluice.Media.Codecs.H264;

/// <summary>
/// The AVCDecoderConfigurationRecord ("avcC", ISO 14496-15 5.3.3.1): profile, level, the NAL unit length size
/// and the parameter sets. Matroska's V_MPEG4/ISO/AVC CodecPrivate and FLV's AVC sequence header carry it.
/// </summary>
public sealed class AvcDecoderConfiguration
{
    public required int ProfileIdc { get; init; }
    public required int ProfileCompatibility { get; init; }
    public required int LevelIdc { get; init; }

    /// <summary>Bytes in each NAL unit length of the payloads (lengthSizeMinusOne + 1): 1, 2 or 4.</summary>
    public required int LengthSize { get; init; }

    /// <summary>The SPS NAL units (header byte included, emulation prevention kept).</summary>
    public required IReadOnlyList<byte[]> Sps { get; init; }

    public required IReadOnlyList<byte[]> Pps { get; init; }

    /// <summary>The High profile extension (chroma_format, bit depths, SPS extensions) when the record has it.</summary>
    public int? ChromaFormat { get; init; }

    public int? BitDepthLuma { get; init; }
    public int? BitDepthChroma { get; init; }

    /// <summary>
    /// Builds an avcC from the parameter sets; profile and level are taken from the first SPS. For the High
    /// profiles the extension fields are written from that SPS. Throws <see cref="ArgumentException"/> when
    /// there is no valid SPS or no PPS.
    /// </summary>
    public static byte[] Build(IReadOnlyList<byte[]> sps, IReadOnlyList<byte[]> pps, int lengthSize = 4)
    {
        ArgumentNullException.ThrowIfNull(sps);
        ArgumentNullException.ThrowIfNull(pps);
        AnnexB.CheckLengthSize(lengthSize);
        if (sps.Count == 0 || sps.Count > 31 || pps.Count == 0 || pps.Count > 255)
        {
            throw new ArgumentException($"an avcC needs 1 to 31 SPS and 1 to 255 PPS (got {sps.Count} and {pps.Count})");
        }

        var first = H264Sps.Parse(sps[0]) ?? throw new ArgumentException("the first SPS cannot be parsed", nameof(sps));
        bool extension = H264Sps.HasChromaInfo(first.ProfileIdc);
        int size = 7 + (extension ? 4 : 0)
            + ParameterSetRecord.SizeOf<H264Nal.Header>(sps, (int)H264NalType.Sps, nameof(H264NalType.Sps), 4, "avcC", nameof(sps))
            + ParameterSetRecord.SizeOf<H264Nal.Header>(pps, (int)H264NalType.Pps, nameof(H264NalType.Pps), 1, "avcC", nameof(pps));
        byte[] record = new byte[size];
        record[0] = 1;
        record[1] = sps[0][1];
        record[2] = sps[0][2];
        record[3] = sps[0][3];
        record[4] = (byte)(0xFC | (lengthSize - 1));
        record[5] = (byte)(0xE0 | sps.Count);
        int at = ParameterSetRecord.WriteSets(record, 6, sps);
        record[at++] = (byte)pps.Count;
        at = ParameterSetRecord.WriteSets(record, at, pps);

        if (extension)
        {
            record[at++] = (byte)(0xFC | first.ChromaFormatIdc);
            record[at++] = (byte)(0xF8 | (first.BitDepthLuma - 8));
            record[at++] = (byte)(0xF8 | (first.BitDepthChroma - 8));
            record[at++] = 0; // numOfSequenceParameterSetExt
        }

        return record;
    }

    /// <summary>Parses an avcC; null when it is damaged or not version 1.</summary>
    public static AvcDecoderConfiguration? Parse(ReadOnlySpan<byte> record)
    {
        if (record.Length < 7 || record[0] != 1)
        {
            return null;
        }

        int lengthSize = (record[4] & 3) + 1;
        if (lengthSize == 3)
        {
            return null;
        }

        int at = 5;
        var sps = ReadSets(record, ref at, record[at++] & 0x1F);
        if (sps is null || at >= record.Length)
        {
            return null;
        }

        var pps = ReadSets(record, ref at, record[at++]);
        if (pps is null)
        {
            return null;
        }

        int? chroma = null, luma = null, chromaDepth = null;
        if (H264Sps.HasChromaInfo(record[1]) && record.Length - at >= 4)
        {
            chroma = record[at] & 3;
            luma = (record[at + 1] & 7) + 8;
            chromaDepth = (record[at + 2] & 7) + 8;
        }

        return new AvcDecoderConfiguration
        {
            ProfileIdc = record[1],
            ProfileCompatibility = record[2],
            LevelIdc = record[3],
            LengthSize = lengthSize,
            Sps = sps,
            Pps = pps,
            ChromaFormat = chroma,
            BitDepthLuma = luma,
            BitDepthChroma = chromaDepth,
        };
    }

    /// <summary>The length size of an avcC, or 0 when the record is damaged.</summary>
    public static int ReadLengthSize(ReadOnlySpan<byte> record) =>
        record.Length >= 5 && record[0] == 1 && (record[4] & 3) != 2 ? (record[4] & 3) + 1 : 0;

    private static List<byte[]>? ReadSets(ReadOnlySpan<byte> record, ref int at, int count)
    {
        var sets = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            if (!ParameterSetRecord.TryReadSet(record, ref at, out byte[] nal))
            {
                return null;
            }

            sets.Add(nal);
        }

        return sets;
    }
}
