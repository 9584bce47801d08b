namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// The CRC-32 of an Ogg page (RFC 3533, section 6): generator polynomial 0x04C11DB7, initial value 0, no final
/// XOR, and no bit reflection (bits enter most significant first), computed over the whole page with its
/// checksum field set to zero.
/// </summary>
internal static class OggCrc
{
    private const uint Polynomial = 0x04C11DB7;

    private static readonly uint[] Table = BuildTable();

    /// <summary>Continues <paramref name="crc"/> (0 to start) over <paramref name="data"/>.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (byte b in data)
        {
            crc = (crc << 8) ^ table[(int)((crc >> 24) ^ b)];
        }

        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Update(0, data);

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint r = i << 24;
            for (int bit = 0; bit < 8; bit++)
            {
                r = (r & 0x8000_0000) != 0 ? (r << 1) ^ Polynomial : r << 1;
            }

            table[i] = r;
        }

        return table;
    }
}
