namespace Sluice.Media.Codecs;

/// <summary>Raw byte sequence payloads of H.264 / H.265 NAL units: emulation prevention bytes removed.</summary>
public static class Rbsp
{
    /// <summary>
    /// Copies <paramref name="nal"/> to <paramref name="destination"/> without its emulation prevention bytes
    /// (the 0x03 in every 0x00 0x00 0x03); returns the number of bytes written. The destination needs at most
    /// <c>nal.Length</c> bytes.
    /// </summary>
    public static int RemoveEmulationPrevention(ReadOnlySpan<byte> nal, Span<byte> destination)
    {
        int written = 0;
        int zeros = 0;
        for (int i = 0; i < nal.Length; i++)
        {
            byte b = nal[i];
            if (zeros >= 2 && b == 0x03)
            {
                zeros = 0;
                continue;
            }

            destination[written++] = b;
            zeros = b == 0 ? zeros + 1 : 0;
        }

        return written;
    }

    /// <summary>A new array holding <paramref name="nal"/> without its emulation prevention bytes.</summary>
    public static byte[] RemoveEmulationPrevention(ReadOnlySpan<byte> nal)
    {
        byte[] buffer = new byte[nal.Length];
        int n = RemoveEmulationPrevention(nal, buffer);
        return n == buffer.Length ? buffer : buffer[..n];
    }
}
