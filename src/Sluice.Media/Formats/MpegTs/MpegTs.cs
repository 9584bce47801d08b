namespace Sluice.Media.Formats.MpegTs;

/// <summary>Numbers of ISO 13818-1 (MPEG-2 systems) that the MPEG-TS reader and writer share.</summary>
internal static class MpegTs
{
    public const int PacketSize = 188;
    public const byte SyncByte = 0x47;
    public const int PatPid = 0x0000;
    public const int NullPid = 0x1FFF;
    public const byte PatTableId = 0x00;
    public const byte PmtTableId = 0x02;

    /// <summary>The largest PSI section (section_length is at most 1021 for PAT and PMT).</summary>
    public const int MaxSectionSize = 1024;

    /// <summary>PTS and DTS are 33-bit counters of the 90 kHz clock.</summary>
    public const long TimestampModulus = 1L << 33;

    public const byte RegistrationDescriptor = 0x05;
    public const byte ExtensionDescriptor = 0x7F;
    public const uint OpusRegistration = 0x4F707573; // "Opus"

    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary>The CRC-32 of ISO 13818-1 annex A (polynomial 0x04C11DB7, MSB first, no final inversion).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc = (crc << 8) ^ CrcTable[(crc >> 24) ^ b];
        }

        return crc;
    }

    /// <summary>A 33-bit PTS/DTS in the 5-byte form of a PES header, with <paramref name="prefix"/> in the top 4 bits.</summary>
    public static void WriteTimestamp(Span<byte> destination, int prefix, long value)
    {
        ulong v = (ulong)(((value % TimestampModulus) + TimestampModulus) % TimestampModulus);
        destination[0] = (byte)((prefix << 4) | (int)((v >> 29) & 0x0E) | 1);
        destination[1] = (byte)(v >> 22);
        destination[2] = (byte)(((v >> 14) & 0xFE) | 1);
        destination[3] = (byte)(v >> 7);
        destination[4] = (byte)(((v << 1) & 0xFE) | 1);
    }

    /// <summary>Reads a 5-byte PES timestamp; false when its marker bits are not set.</summary>
    public static bool TryReadTimestamp(ReadOnlySpan<byte> source, out long value)
    {
        value = 0;
        if ((source[0] & 1) == 0 || (source[2] & 1) == 0 || (source[4] & 1) == 0)
        {
            return false;
        }

        value = ((long)(source[0] & 0x0E) << 29) | ((long)source[1] << 22) | ((long)(source[2] & 0xFE) << 14)
            | ((long)source[3] << 7) | ((long)source[4] >> 1);
        return true;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i << 24;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 0x80000000) != 0 ? (c << 1) ^ 0x04C11DB7 : c << 1;
            }

            table[i] = c;
        }

        return table;
    }
}

/// <summary>stream_type values of a PMT (ISO 13818-1 table 2-34) that Sluice reads or writes.</summary>
public enum MpegTsStreamType : byte
{
    Mpeg1Video = 0x01,

    /// <summary>MPEG-2 video, or MPEG-1 video within MPEG-2's constrained parameters (ffmpeg writes both so).</summary>
    Mpeg2Video = 0x02,
    Mpeg1Audio = 0x03,
    Mpeg2Audio = 0x04,
    PrivatePes = 0x06,
    AdtsAac = 0x0F,
    Mpeg4Visual = 0x10,
    H264 = 0x1B,
    H265 = 0x24,
}
