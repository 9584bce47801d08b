namespace Sluice.Media.Codecs.H264;

/// <summary>H.264 nal_unit_type values (ITU-T H.264 table 7-1) that Sluice looks at.</summary>
public enum H264NalType : byte
{
    Slice = 1,
    SliceDataA = 2,
    IdrSlice = 5,
    Sei = 6,
    Sps = 7,
    Pps = 8,
    AccessUnitDelimiter = 9,
    EndOfSequence = 10,
    EndOfStream = 11,
    FillerData = 12,
    SpsExtension = 13,
}

/// <summary>H.264 NAL unit headers and access units.</summary>
public static class H264Nal
{
    /// <summary>The nal_unit_type of a NAL unit (the low 5 bits of its first byte).</summary>
    public static H264NalType TypeOf(ReadOnlySpan<byte> nal) => nal.IsEmpty ? 0 : (H264NalType)(nal[0] & 0x1F);

    /// <summary>True when the length-prefixed access unit holds an IDR slice.</summary>
    public static bool IsKeyframe(ReadOnlySpan<byte> lengthPrefixed, int lengthSize = 4) =>
        NalScan.ContainsKeyframe<Header>(lengthPrefixed, lengthSize);

    /// <summary>True when the length-prefixed access unit holds a NAL unit of type <paramref name="type"/>.</summary>
    public static bool Contains(ReadOnlySpan<byte> lengthPrefixed, H264NalType type, int lengthSize = 4) =>
        NalScan.ContainsType<Header>(lengthPrefixed, (int)type, lengthSize);

    /// <summary>The access unit delimiter NAL unit for any slice type (primary_pic_type 7).</summary>
    public static ReadOnlySpan<byte> AccessUnitDelimiter => [0x09, 0xF0];

    /// <summary>The header as <see cref="NalScan"/> and <see cref="ParameterSetRecord"/> read it.</summary>
    internal readonly struct Header : INalHeader
    {
        public static int TypeOf(ReadOnlySpan<byte> nal) => (int)H264Nal.TypeOf(nal);

        public static bool IsKeyframeType(int type) => type == (int)H264NalType.IdrSlice;
    }
}
