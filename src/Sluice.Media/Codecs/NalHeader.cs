namespace Sluice.Media.Codecs;

/// <summary>
/// What tells one codec's NAL unit headers apart from another's: where the type sits in the header, and which types
/// start a picture a decoder can begin at. H.264 and H.265 each have one; the scans over an access unit are written once
/// in <see cref="NalScan"/>.
/// </summary>
internal interface INalHeader
{
    /// <summary>The nal_unit_type of a NAL unit, 0 for an empty one.</summary>
    static abstract int TypeOf(ReadOnlySpan<byte> nal);

    /// <summary>True for a type that makes the access unit a keyframe.</summary>
    static abstract bool IsKeyframeType(int type);
}

/// <summary>
/// Scans of a length-prefixed access unit by NAL unit type, for any <see cref="INalHeader"/>. The header is a type
/// argument (a struct), so each codec's scan is compiled on its own with the header inlined: nothing is allocated
/// and nothing is called through an interface, as these run per packet.
/// </summary>
internal static class NalScan
{
    /// <summary>True when the access unit holds a NAL unit whose type makes it a keyframe.</summary>
    public static bool ContainsKeyframe<THeader>(ReadOnlySpan<byte> lengthPrefixed, int lengthSize)
        where THeader : struct, INalHeader
    {
        foreach (var nal in LengthPrefixed.EnumerateNalUnits(lengthPrefixed, lengthSize))
        {
            if (THeader.IsKeyframeType(THeader.TypeOf(nal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the access unit holds a NAL unit of type <paramref name="type"/>.</summary>
    public static bool ContainsType<THeader>(ReadOnlySpan<byte> lengthPrefixed, int type, int lengthSize)
        where THeader : struct, INalHeader
    {
        foreach (var nal in LengthPrefixed.EnumerateNalUnits(lengthPrefixed, lengthSize))
        {
            if (THeader.TypeOf(nal) == type)
            {
                return true;
            }
        }

        return false;
    }
}
