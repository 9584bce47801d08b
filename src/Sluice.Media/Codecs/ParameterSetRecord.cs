using System.Buffers.Binary;

namespace Sluice.Media.Codecs;

/// <summary>
/// The parts avcC (ISO 14496-15 5.3.3.1) and hvcC (8.3.3.1) share: each parameter set stands in the record as a
/// 16-bit big-endian length and the NAL unit, and a set the record is built from must be of its array's type and
/// short enough for that length.
/// </summary>
internal static class ParameterSetRecord
{
    /// <summary>
    /// The bytes <paramref name="sets"/> take in a record; throws <see cref="ArgumentException"/> (naming
    /// <paramref name="parameter"/>) when one is shorter than <paramref name="minLength"/>, longer than a 16-bit
    /// length holds, or not of type <paramref name="type"/> (<paramref name="typeName"/> in the message).
    /// </summary>
    public static int SizeOf<THeader>(IReadOnlyList<byte[]> sets, int type, string typeName, int minLength, string record, string parameter)
        where THeader : struct, INalHeader
    {
        int size = 0;
        foreach (byte[] nal in sets)
        {
            if (nal.Length < minLength || nal.Length > ushort.MaxValue || THeader.TypeOf(nal) != type)
            {
                throw new ArgumentException($"not a {typeName} NAL unit of a size an {record} can hold ({nal.Length} bytes)", parameter);
            }

            size += 2 + nal.Length;
        }

        return size;
    }

    /// <summary>Writes each set as its length and bytes from <paramref name="at"/>; returns the offset after the last.</summary>
    public static int WriteSets(Span<byte> record, int at, IReadOnlyList<byte[]> sets)
    {
        foreach (byte[] nal in sets)
        {
            BinaryPrimitives.WriteUInt16BigEndian(record[at..], (ushort)nal.Length);
            nal.CopyTo(record[(at + 2)..]);
            at += 2 + nal.Length;
        }

        return at;
    }

    /// <summary>Reads one set at <paramref name="at"/> and moves past it; false when its length is missing, zero or runs past the end.</summary>
    public static bool TryReadSet(ReadOnlySpan<byte> record, ref int at, out byte[] nal)
    {
        nal = [];
        if (record.Length - at < 2)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(record[at..]);
        if (record.Length - at - 2 < length || length == 0)
        {
            return false;
        }

        nal = record.Slice(at + 2, length).ToArray();
        at += 2 + length;
        return true;
    }
}
