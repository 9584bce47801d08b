namespace Sluice.Media.Codecs;

/// <summary>
/// Reads bits most significant first from an RBSP (emulation prevention already removed), with the
/// Exp-Golomb codes of H.264 and H.265. Reading past the end sets <see cref="Overrun"/> and yields zeros,
/// so a parser checks once at the end instead of after every field.
/// </summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private long _bit;

    public BitReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _bit = 0;
        Overrun = false;
    }

    public bool Overrun { get; private set; }

    public readonly long BitsLeft => Math.Max(0, (long)_data.Length * 8 - _bit);

    public uint ReadBit()
    {
        if (_bit >= (long)_data.Length * 8)
        {
            Overrun = true;
            return 0;
        }

        uint value = (uint)(_data[(int)(_bit >> 3)] >> (7 - (int)(_bit & 7))) & 1;
        _bit++;
        return value;
    }

    public bool ReadFlag() => ReadBit() != 0;

    /// <summary>Up to 32 bits.</summary>
    public uint ReadBits(int count)
    {
        uint value = 0;
        for (int i = 0; i < count; i++)
        {
            value = (value << 1) | ReadBit();
        }

        return value;
    }

    public void Skip(int count)
    {
        _bit += count;
        if (_bit > (long)_data.Length * 8)
        {
            Overrun = true;
        }
    }

    /// <summary>ue(v); a code longer than 31 leading zeros is treated as an overrun.</summary>
    public uint ReadUe()
    {
        int zeros = 0;
        while (ReadBit() == 0)
        {
            if (Overrun || ++zeros > 31)
            {
                Overrun = true;
                return 0;
            }
        }

        if (zeros == 0)
        {
            return 0;
        }

        return (uint)((1UL << zeros) - 1 + ReadBits(zeros));
    }

    /// <summary>se(v).</summary>
    public int ReadSe()
    {
        uint k = ReadUe();
        return (k & 1) != 0 ? (int)((k + 1) / 2) : -(int)(k / 2);
    }
}
