namespace Sluice.Media.Codecs;

/// <summary>
/// The H.264 / H.265 byte stream format (ITU-T H.264 Annex B): NAL units each preceded by a start code
/// 00 00 01 or 00 00 00 01. The conversions to and from the length-prefixed form (ISO 14496-15, "AVCC"/"HVCC")
/// used in MP4, Matroska, FLV and in every <see cref="MediaPacket"/>.
/// </summary>
public static class AnnexB
{
    /// <summary>
    /// The index of the next 00 00 01 at or after <paramref name="start"/>, with a leading 00 counted in
    /// <paramref name="startCodeLength"/> when present (4), else 3; -1 when there is none.
    /// </summary>
    public static int FindStartCode(ReadOnlySpan<byte> data, int start, out int startCodeLength)
    {
        // A search for the three bytes at once: in coded slice data a 01 byte comes every 256 bytes or so, 00 00 01
        // never (emulation prevention), so looking for the 01 alone stopped a hundred times a frame.
        startCodeLength = 0;
        if (start < 0 || start > data.Length)
        {
            return -1;
        }

        int found = data[start..].IndexOf(StartCode);
        if (found < 0)
        {
            return -1;
        }

        int at = start + found;
        if (at - 1 >= start && data[at - 1] == 0)
        {
            startCodeLength = 4;
            return at - 1;
        }

        startCodeLength = 3;
        return at;
    }

    private static ReadOnlySpan<byte> StartCode => [0, 0, 1];

    /// <summary>True when <paramref name="data"/> begins with a start code (00 00 01 or 00 00 00 01).</summary>
    public static bool StartsWithStartCode(ReadOnlySpan<byte> data) =>
        (data.Length >= 3 && data[0] == 0 && data[1] == 0 && data[2] == 1)
        || (data.Length >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 1);

    /// <summary>
    /// The NAL units of an Annex B byte stream, without their start codes and trailing zero bytes. Bytes before
    /// the first start code are ignored; empty NAL units are skipped.
    /// </summary>
    public static NalUnitEnumerator EnumerateNalUnits(ReadOnlySpan<byte> data) => new(data);

    /// <summary>The number of NAL units in <paramref name="data"/>.</summary>
    public static int CountNalUnits(ReadOnlySpan<byte> data)
    {
        int n = 0;
        foreach (var _ in EnumerateNalUnits(data))
        {
            n++;
        }

        return n;
    }

    /// <summary>The size of <paramref name="data"/> in the length-prefixed form with <paramref name="lengthSize"/>-byte lengths.</summary>
    public static int LengthPrefixedSize(ReadOnlySpan<byte> data, int lengthSize = 4)
    {
        CheckLengthSize(lengthSize);
        int size = 0;
        foreach (var nal in EnumerateNalUnits(data))
        {
            size += lengthSize + nal.Length;
        }

        return size;
    }

    /// <summary>
    /// Writes <paramref name="data"/> in the length-prefixed form; returns the bytes written. Throws
    /// <see cref="ArgumentException"/> when a NAL unit does not fit <paramref name="lengthSize"/> bytes of length
    /// or the destination is too small (size it with <see cref="LengthPrefixedSize"/>).
    /// </summary>
    public static int ToLengthPrefixed(ReadOnlySpan<byte> data, Span<byte> destination, int lengthSize = 4)
    {
        CheckLengthSize(lengthSize);
        int written = 0;
        foreach (var nal in EnumerateNalUnits(data))
        {
            if (lengthSize < 4 && nal.Length >= 1L << (8 * lengthSize))
            {
                throw new ArgumentException($"a NAL unit of {nal.Length} bytes does not fit a {lengthSize}-byte length", nameof(lengthSize));
            }

            if (destination.Length - written < lengthSize + nal.Length)
            {
                throw new ArgumentException("the destination is too small", nameof(destination));
            }

            NalLength.Write(destination.Slice(written, lengthSize), (uint)nal.Length);
            nal.CopyTo(destination[(written + lengthSize)..]);
            written += lengthSize + nal.Length;
        }

        return written;
    }

    /// <summary>A new array holding <paramref name="data"/> in the length-prefixed form.</summary>
    public static byte[] ToLengthPrefixed(ReadOnlySpan<byte> data, int lengthSize = 4)
    {
        byte[] output = new byte[LengthPrefixedSize(data, lengthSize)];
        ToLengthPrefixed(data, output, lengthSize);
        return output;
    }

    /// <summary>
    /// The size of the length-prefixed <paramref name="lengthPrefixed"/> in Annex B form with 4-byte start codes,
    /// or -1 when its lengths do not add up to its size.
    /// </summary>
    public static int AnnexBSize(ReadOnlySpan<byte> lengthPrefixed, int lengthSize = 4)
    {
        CheckLengthSize(lengthSize);
        int size = 0;
        int at = 0;
        while (at < lengthPrefixed.Length)
        {
            if (lengthPrefixed.Length - at < lengthSize)
            {
                return -1;
            }

            uint length = NalLength.Read(lengthPrefixed.Slice(at, lengthSize));
            at += lengthSize;
            if (length > (uint)(lengthPrefixed.Length - at))
            {
                return -1;
            }

            at += (int)length;
            size += 4 + (int)length;
        }

        return size;
    }

    /// <summary>
    /// Writes the length-prefixed <paramref name="lengthPrefixed"/> as Annex B with 4-byte start codes; returns the
    /// bytes written. Throws <see cref="ArgumentException"/> when the lengths do not add up or the destination is
    /// too small (size it with <see cref="AnnexBSize"/>).
    /// </summary>
    public static int FromLengthPrefixed(ReadOnlySpan<byte> lengthPrefixed, Span<byte> destination, int lengthSize = 4)
    {
        int size = AnnexBSize(lengthPrefixed, lengthSize);
        if (size < 0)
        {
            throw new ArgumentException("the NAL unit lengths do not add up to the payload size", nameof(lengthPrefixed));
        }

        if (destination.Length < size)
        {
            throw new ArgumentException("the destination is too small", nameof(destination));
        }

        int written = 0;
        foreach (var nal in LengthPrefixed.EnumerateNalUnits(lengthPrefixed, lengthSize))
        {
            destination[written] = 0;
            destination[written + 1] = 0;
            destination[written + 2] = 0;
            destination[written + 3] = 1;
            nal.CopyTo(destination[(written + 4)..]);
            written += 4 + nal.Length;
        }

        return written;
    }

    /// <summary>A new array holding the length-prefixed <paramref name="lengthPrefixed"/> as Annex B.</summary>
    public static byte[] FromLengthPrefixed(ReadOnlySpan<byte> lengthPrefixed, int lengthSize = 4)
    {
        int size = AnnexBSize(lengthPrefixed, lengthSize);
        if (size < 0)
        {
            throw new ArgumentException("the NAL unit lengths do not add up to the payload size", nameof(lengthPrefixed));
        }

        byte[] output = new byte[size];
        FromLengthPrefixed(lengthPrefixed, output, lengthSize);
        return output;
    }

    internal static void CheckLengthSize(int lengthSize)
    {
        if (lengthSize is not (1 or 2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(lengthSize), lengthSize, "a NAL unit length is 1, 2 or 4 bytes");
        }
    }

    /// <summary>Enumerates the NAL units of an Annex B byte stream (see <see cref="EnumerateNalUnits"/>).</summary>
    public ref struct NalUnitEnumerator
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _next;

        internal NalUnitEnumerator(ReadOnlySpan<byte> data)
        {
            _data = data;
            _next = FindStartCode(data, 0, out int length);
            if (_next >= 0)
            {
                _next += length;
            }

            Current = default;
        }

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly NalUnitEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_next >= 0 && _next <= _data.Length)
            {
                int start = _next;
                int end = FindStartCode(_data, start, out int length);
                if (end < 0)
                {
                    _next = -1;
                    end = _data.Length;
                }
                else
                {
                    _next = end + length;
                }

                // Trailing zero bytes belong to the stream, not to the NAL unit.
                while (end > start && _data[end - 1] == 0)
                {
                    end--;
                }

                if (end > start)
                {
                    Current = _data[start..end];
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>NAL units each preceded by its length (1, 2 or 4 bytes, big-endian), the form ISO 14496-15 defines.</summary>
public static class LengthPrefixed
{
    /// <summary>
    /// The NAL units of a length-prefixed payload. Enumeration stops at the first length that runs past the end;
    /// use <see cref="IsWellFormed"/> to tell that apart.
    /// </summary>
    public static NalUnitEnumerator EnumerateNalUnits(ReadOnlySpan<byte> data, int lengthSize = 4)
    {
        AnnexB.CheckLengthSize(lengthSize);
        return new NalUnitEnumerator(data, lengthSize);
    }

    /// <summary>True when the lengths add up exactly to the size of <paramref name="data"/>.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> data, int lengthSize = 4) => AnnexB.AnnexBSize(data, lengthSize) >= 0;

    /// <summary>Enumerates the NAL units of a length-prefixed payload.</summary>
    public ref struct NalUnitEnumerator
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly int _lengthSize;
        private int _at;

        internal NalUnitEnumerator(ReadOnlySpan<byte> data, int lengthSize)
        {
            _data = data;
            _lengthSize = lengthSize;
            _at = 0;
            Current = default;
        }

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly NalUnitEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_data.Length - _at < _lengthSize)
            {
                return false;
            }

            uint length = NalLength.Read(_data.Slice(_at, _lengthSize));
            if (length > (uint)(_data.Length - _at - _lengthSize))
            {
                _at = _data.Length;
                return false;
            }

            Current = _data.Slice(_at + _lengthSize, (int)length);
            _at += _lengthSize + (int)length;
            return true;
        }
    }
}

internal static class NalLength
{
    public static uint Read(ReadOnlySpan<byte> bytes)
    {
        uint value = 0;
        foreach (byte b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    public static void Write(Span<byte> bytes, uint value)
    {
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)value;
            value >>= 8;
        }
    }
}
