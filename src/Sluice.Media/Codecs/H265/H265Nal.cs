namespace Sluice.Media.Codecs.H265;

/// <summary>H.265 nal_unit_type values (ITU-T H.265 table 7-1) that Sluice looks at.</summary>
public enum H265NalType : byte
{
    TrailN = 0,
    TrailR = 1,
    BlaWLp = 16,
    BlaWRadl = 17,
    BlaNLp = 18,
    IdrWRadl = 19,
    IdrNLp = 20,
    CraNut = 21,
    Vps = 32,
    Sps = 33,
    Pps = 34,
    AccessUnitDelimiter = 35,
    EndOfSequence = 36,
    EndOfBitstream = 37,
    FillerData = 38,
    PrefixSei = 39,
    SuffixSei = 40,
}

/// <summary>H.265 NAL unit headers and access units.</summary>
public static class H265Nal
{
    /// <summary>The nal_unit_type of a NAL unit (bits 1..6 of its first byte).</summary>
    public static H265NalType TypeOf(ReadOnlySpan<byte> nal) => nal.IsEmpty ? 0 : (H265NalType)((nal[0] >> 1) & 0x3F);

    /// <summary>True for the intra random access point types (BLA, IDR, CRA: 16..21; 22, 23 are reserved IRAP).</summary>
    public static bool IsIrap(H265NalType type) => type is >= H265NalType.BlaWLp and <= (H265NalType)23;

    /// <summary>True when the length-prefixed access unit holds an IRAP picture (BLA, IDR or CRA).</summary>
    public static bool IsKeyframe(ReadOnlySpan<byte> lengthPrefixed, int lengthSize = 4) =>
        NalScan.ContainsKeyframe<Header>(lengthPrefixed, lengthSize);

    /// <summary>True when the length-prefixed access unit holds a NAL unit of type <paramref name="type"/>.</summary>
    public static bool Contains(ReadOnlySpan<byte> lengthPrefixed, H265NalType type, int lengthSize = 4) =>
        NalScan.ContainsType<Header>(lengthPrefixed, (int)type, lengthSize);

    /// <summary>An access unit delimiter (layer 0, temporal id 0, pic_type 2: any slice type).</summary>
    public static ReadOnlySpan<byte> AccessUnitDelimiter => [0x46, 0x01, 0x50];

    /// <summary>The header as <see cref="NalScan"/> and <see cref="ParameterSetRecord"/> read it.</summary>
    internal readonly struct Header : INalHeader
    {
        public static int TypeOf(ReadOnlySpan<byte> nal) => (int)H265Nal.TypeOf(nal);

        public static bool IsKeyframeType(int type) => IsIrap((H265NalType)type);
    }
}
