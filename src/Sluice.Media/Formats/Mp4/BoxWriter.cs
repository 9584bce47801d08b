using System.Buffers.Binary;
using System.Text;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// Builds ISO BMFF boxes (ISO 14496-12) in memory: <see cref="Begin"/> writes a box header whose size
/// <see cref="End"/> fills in once the body is written. For headers only, not per packet.
/// </summary>
internal sealed class BoxWriter
{
    private byte[] _buffer = new byte[1024];
    private int _length;

    public int Length => _length;

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Starts a box; returns its start for <see cref="End"/>.</summary>
    public int Begin(string type)
    {
        int start = _length;
        U32(0);
        FourCc(type);
        return start;
    }

    /// <summary>Starts a FullBox (version and 24-bit flags after the type).</summary>
    public int BeginFull(string type, byte version, uint flags)
    {
        int start = Begin(type);
        U32(((uint)version << 24) | (flags & 0xFFFFFF));
        return start;
    }

    public void End(int start) => BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(start), (uint)(_length - start));

    public BoxWriter U8(int value)
    {
        Grow(1)[0] = (byte)value;
        return this;
    }

    public BoxWriter U16(int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Grow(2), (ushort)value);
        return this;
    }

    public BoxWriter U24(int value)
    {
        var span = Grow(3);
        span[0] = (byte)(value >> 16);
        span[1] = (byte)(value >> 8);
        span[2] = (byte)value;
        return this;
    }

    public BoxWriter U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Grow(4), value);
        return this;
    }

    public BoxWriter U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Grow(8), value);
        return this;
    }

    public BoxWriter Zeros(int count)
    {
        Grow(count).Clear();
        return this;
    }

    public BoxWriter Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Grow(bytes.Length));
        return this;
    }

    public BoxWriter FourCc(string type)
    {
        if (type.Length != 4)
        {
            throw new ArgumentException($"a box type has 4 characters, not \"{type}\"", nameof(type));
        }

        Encoding.ASCII.GetBytes(type, Grow(4));
        return this;
    }

    /// <summary>The unity transformation matrix of mvhd and tkhd.</summary>
    public BoxWriter UnityMatrix()
    {
        U32(0x00010000).U32(0).U32(0);
        U32(0).U32(0x00010000).U32(0);
        U32(0).U32(0).U32(0x40000000);
        return this;
    }

    /// <summary>An MPEG-4 descriptor (ISO 14496-1 7.2.2.1): tag, size in the 4-byte expandable form; returns its start.</summary>
    public int BeginDescriptor(byte tag)
    {
        U8(tag);
        int start = _length;
        U32(0);
        return start;
    }

    public void EndDescriptor(int start)
    {
        int size = _length - start - 4;
        var span = _buffer.AsSpan(start, 4);
        span[0] = (byte)(0x80 | ((size >> 21) & 0x7F));
        span[1] = (byte)(0x80 | ((size >> 14) & 0x7F));
        span[2] = (byte)(0x80 | ((size >> 7) & 0x7F));
        span[3] = (byte)(size & 0x7F);
    }

    private Span<byte> Grow(int count)
    {
        if (_buffer.Length - _length < count)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
