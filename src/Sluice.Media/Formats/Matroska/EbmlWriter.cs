using System.Buffers.Binary;
using System.Text;

namespace Sluice.Media.Formats.Matroska;

/// <summary>Builds small EBML documents (headers) in memory. Not for per-packet use.</summary>
internal sealed class EbmlWriter
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public byte[] ToArray() => [.. _bytes];

    public EbmlWriter UInt(ElementId id, ulong value)
    {
        Span<byte> data = stackalloc byte[8];
        int length = Ebml.UIntLength(value);
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(value >> (8 * (length - 1 - i)));
        }

        return Binary(id, data[..length]);
    }

    public EbmlWriter Float(ElementId id, double value)
    {
        Span<byte> data = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(data, value);
        return Binary(id, data);
    }

    public EbmlWriter String(ElementId id, string value) => Binary(id, Encoding.UTF8.GetBytes(value));

    public EbmlWriter Binary(ElementId id, ReadOnlySpan<byte> value)
    {
        Header(id, (ulong)value.Length);
        foreach (byte b in value)
        {
            _bytes.Add(b);
        }

        return this;
    }

    public EbmlWriter Master(ElementId id, Action<EbmlWriter> children)
    {
        var inner = new EbmlWriter();
        children(inner);
        Header(id, (ulong)inner.Length);
        _bytes.AddRange(inner._bytes);
        return this;
    }

    /// <summary>An element header with the 8-byte unknown size, for a live Segment or Cluster.</summary>
    public EbmlWriter UnknownSizeHeader(ElementId id)
    {
        Span<byte> head = stackalloc byte[12];
        int n = Ebml.WriteId(head, (uint)id);
        n += Ebml.WriteVint(head[n..], Ebml.UnknownSizeVint8 & 0x00FFFFFFFFFFFFFF, 8);
        foreach (byte b in head[..n])
        {
            _bytes.Add(b);
        }

        return this;
    }

    private void Header(ElementId id, ulong size)
    {
        Span<byte> head = stackalloc byte[12];
        int n = Ebml.WriteId(head, (uint)id);
        n += Ebml.WriteVint(head[n..], size);
        foreach (byte b in head[..n])
        {
            _bytes.Add(b);
        }
    }
}
