using System.Buffers.Binary;
using Sluice.Media.Formats.Ogg;

namespace Sluice.Media.Tests.Formats.Ogg;

/// <summary>Reads Ogg pages and packets back for tests, checking every structural rule it can on the way.</summary>
internal static class OggPageReader
{
    public sealed record Page(long Offset, byte Flags, long Granule, uint Serial, uint Sequence, uint Crc, byte[] Lacing, byte[] Body, bool CrcValid)
    {
        public bool Continued => (Flags & 1) != 0;
        public bool BeginsStream => (Flags & 2) != 0;
        public int Length => 27 + Lacing.Length + Body.Length;
    }

    /// <summary>A reassembled packet with the granule of the page it ended on (-1 when another packet ended later on that page).</summary>
    public sealed record Packet(uint Serial, byte[] Data, long PageGranule, bool LastOnPage);

    public static List<Page> Pages(ReadOnlySpan<byte> data)
    {
        var pages = new List<Page>();
        int at = 0;
        while (at < data.Length)
        {
            var rest = data[at..];
            if (rest.Length < 27 || !rest.StartsWith("OggS"u8) || rest[4] != 0)
            {
                throw new InvalidDataException($"no Ogg page at byte {at}");
            }

            int segments = rest[26];
            if (rest.Length < 27 + segments)
            {
                throw new InvalidDataException($"page at byte {at} is truncated in its lacing values");
            }

            byte[] lacing = rest.Slice(27, segments).ToArray();
            int bodyLength = 0;
            foreach (byte l in lacing)
            {
                bodyLength += l;
            }

            int length = 27 + segments + bodyLength;
            if (rest.Length < length)
            {
                throw new InvalidDataException($"page at byte {at} is truncated");
            }

            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[22..]);
            var copy = rest[..length].ToArray();
            copy.AsSpan(22, 4).Clear();
            pages.Add(new Page(
                at,
                rest[5],
                BinaryPrimitives.ReadInt64LittleEndian(rest[6..]),
                BinaryPrimitives.ReadUInt32LittleEndian(rest[14..]),
                BinaryPrimitives.ReadUInt32LittleEndian(rest[18..]),
                crc,
                lacing,
                rest.Slice(27 + segments, bodyLength).ToArray(),
                OggCrc.Compute(copy) == crc));
            at += length;
        }

        return pages;
    }

    public static List<Packet> Packets(IEnumerable<Page> pages)
    {
        var packets = new List<Packet>();
        var pending = new Dictionary<uint, MemoryStream>();
        foreach (var page in pages)
        {
            pending.TryGetValue(page.Serial, out var current);
            if (page.Continued != (current is not null))
            {
                throw new InvalidDataException($"page {page.Sequence} of stream {page.Serial:X8}: continued flag {page.Continued} but {(current is null ? "no" : "a")} packet pending");
            }

            int bodyAt = 0;
            int lastEnd = -1;
            for (int i = 0; i < page.Lacing.Length; i++)
            {
                if (page.Lacing[i] < 255)
                {
                    lastEnd = i;
                }
            }

            for (int i = 0; i < page.Lacing.Length; i++)
            {
                current ??= new MemoryStream();
                current.Write(page.Body, bodyAt, page.Lacing[i]);
                bodyAt += page.Lacing[i];
                if (page.Lacing[i] < 255)
                {
                    packets.Add(new Packet(page.Serial, current.ToArray(), i == lastEnd ? page.Granule : -1, i == page.Lacing.Length - 1));
                    current = null;
                }
            }

            if (lastEnd < 0 && page.Granule != -1)
            {
                throw new InvalidDataException($"page {page.Sequence} of stream {page.Serial:X8} ends no packet but has granule {page.Granule}");
            }

            if (current is null)
            {
                pending.Remove(page.Serial);
            }
            else
            {
                pending[page.Serial] = current;
            }
        }

        return packets;
    }
}
