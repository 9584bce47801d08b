namespace Sluice.Media.Codecs.MpegVideo;

/// <summary>
/// The start codes of MPEG video bitstreams (ISO 11172-2, 13818-2 and 14496-2): a 00 00 01 prefix and one byte
/// that names what follows.
/// </summary>
internal static class MpegStartCodes
{
    /// <summary>
    /// The index of the start code byte (the one after 00 00 01) of the next start code whose prefix begins at or
    /// after <paramref name="from"/>; -1 when there is none.
    /// </summary>
    public static int Next(ReadOnlySpan<byte> data, int from)
    {
        int at = AnnexB.FindStartCode(data, from, out int length);
        return at < 0 || at + length >= data.Length ? -1 : at + length;
    }

    /// <summary>The start code byte of the first start code, or -1.</summary>
    public static int First(ReadOnlySpan<byte> data)
    {
        int at = Next(data, 0);
        return at < 0 ? -1 : data[at];
    }

    /// <summary>
    /// The length of the headers a frame starts with, up to the prefix of the first start code that is not one of
    /// them; 0 when the frame does not start with <paramref name="isFirst"/>'s start code or has nothing after its
    /// headers.
    /// </summary>
    public static int HeaderLength(ReadOnlySpan<byte> frame, Func<byte, bool> isFirst, Func<byte, bool> isHeader)
    {
        int at = Next(frame, 0);
        if (at < 0 || !isFirst(frame[at]))
        {
            return 0;
        }

        for (int next = Next(frame, at + 1); next >= 0; next = Next(frame, next + 1))
        {
            if (!isHeader(frame[next]))
            {
                return next - 3;
            }
        }

        return 0;
    }
}
