using System.Buffers.Binary;

namespace Sluice.Media.Formats.Ogg;

/// <summary>The header_type bits of an Ogg page (RFC 3533, section 6).</summary>
[Flags]
internal enum OggPageFlags : byte
{
    None = 0,

    /// <summary>The page's first segment continues a packet begun on the previous page.</summary>
    Continued = 0x01,

    /// <summary>The first page of a logical bitstream.</summary>
    BeginningOfStream = 0x02,

    /// <summary>The last page of a logical bitstream.</summary>
    EndOfStream = 0x04,
}

/// <summary>
/// Writes Ogg pages (RFC 3533): "OggS", version 0, header_type, granule position, serial number, page sequence
/// number and CRC (all little-endian), the segment count and the lacing values, then the segments. A packet is laced
/// as 255-byte segments ended by one shorter segment (0 when its length is a multiple of 255).
/// </summary>
internal static class OggPage
{
    /// <summary>The fixed part of a page header, before the lacing values.</summary>
    public const int FixedHeaderLength = 27;

    public const int MaxSegments = 255;

    /// <summary>The largest header: the fixed part and 255 lacing values.</summary>
    public const int MaxHeaderLength = FixedHeaderLength + MaxSegments;

    /// <summary>The largest packet that fits one page on its own: 254 full segments and a last one of 254 bytes.</summary>
    public const int MaxSinglePagePacket = (MaxSegments - 1) * 255 + 254;

    /// <summary>Granule position of a page on which no packet ends.</summary>
    public const long NoGranule = -1;

    private const int CrcOffset = 22;

    private static ReadOnlySpan<byte> CapturePattern => "OggS"u8;

    /// <summary>Lacing values a packet of <paramref name="packetLength"/> bytes needs.</summary>
    public static int SegmentCount(int packetLength) => (packetLength / 255) + 1;

    /// <summary>Bytes of the pages that carry one packet (headers and data), starting on a new page and ending its last page.</summary>
    public static int PagedLength(int packetLength)
    {
        int segments = SegmentCount(packetLength);
        int pages = (segments + MaxSegments - 1) / MaxSegments;
        return packetLength + segments + (pages * FixedHeaderLength);
    }

    /// <summary>
    /// Writes the header of a page that holds exactly one whole packet of <paramref name="packetLength"/> bytes
    /// (at most <see cref="MaxSinglePagePacket"/>), checksum included: the packet's bytes themselves follow the header
    /// in the output unchanged. Returns the header length.
    /// </summary>
    public static int WriteSinglePacketHeader(Span<byte> destination, OggPageFlags flags, long granule, uint serial, uint sequence, ReadOnlySpan<byte> packet)
    {
        int segments = SegmentCount(packet.Length);
        if (segments > MaxSegments)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"a packet of {packet.Length} bytes does not fit one Ogg page");
        }

        int n = WriteFixedHeader(destination, flags, granule, serial, sequence, segments);
        WriteLacing(destination.Slice(n, segments), packet.Length, lastSegmentEndsPacket: true);
        n += segments;
        uint crc = OggCrc.Update(OggCrc.Compute(destination[..n]), packet);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CrcOffset..], crc);
        return n;
    }

    /// <summary>
    /// Writes whole pages carrying <paramref name="packet"/> (copied), continued over as many pages as it needs; the
    /// last page ends with it and gets <paramref name="granule"/>, earlier ones <see cref="NoGranule"/>.
    /// <paramref name="sequence"/> advances by the number of pages. Returns the bytes written (<see cref="PagedLength"/>).
    /// </summary>
    public static int WritePacketPages(Span<byte> destination, OggPageFlags flags, long granule, uint serial, ref uint sequence, ReadOnlySpan<byte> packet)
    {
        int segmentsLeft = SegmentCount(packet.Length);
        int dataAt = 0;
        int n = 0;
        var pageFlags = flags & ~OggPageFlags.EndOfStream;
        while (true)
        {
            int segments = Math.Min(segmentsLeft, MaxSegments);
            bool last = segments == segmentsLeft;
            int dataLength = last ? packet.Length - dataAt : segments * 255;
            var page = destination[n..];
            int h = WriteFixedHeader(page, last ? pageFlags | (flags & OggPageFlags.EndOfStream) : pageFlags, last ? granule : NoGranule, serial, sequence++, segments);
            WriteLacing(page.Slice(h, segments), dataLength, last);
            h += segments;
            packet.Slice(dataAt, dataLength).CopyTo(page[h..]);
            int pageLength = h + dataLength;
            BinaryPrimitives.WriteUInt32LittleEndian(page[CrcOffset..], OggCrc.Compute(page[..pageLength]));
            n += pageLength;
            dataAt += dataLength;
            segmentsLeft -= segments;
            if (last)
            {
                return n;
            }

            pageFlags = (pageFlags & ~OggPageFlags.BeginningOfStream) | OggPageFlags.Continued;
        }
    }

    private static int WriteFixedHeader(Span<byte> destination, OggPageFlags flags, long granule, uint serial, uint sequence, int segments)
    {
        CapturePattern.CopyTo(destination);
        destination[4] = 0; // stream_structure_version
        destination[5] = (byte)flags;
        BinaryPrimitives.WriteInt64LittleEndian(destination[6..], granule);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[14..], serial);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[18..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CrcOffset..], 0);
        destination[26] = (byte)segments;
        return FixedHeaderLength;
    }

    /// <summary>
    /// Lacing values for <paramref name="length"/> bytes: full 255s, then (when the packet ends here) the remainder,
    /// which is below 255 and may be 0.
    /// </summary>
    private static void WriteLacing(Span<byte> lacing, int length, bool lastSegmentEndsPacket)
    {
        if (!lastSegmentEndsPacket)
        {
            lacing.Fill(255);
            return;
        }

        lacing[..^1].Fill(255);
        lacing[^1] = (byte)(length - ((lacing.Length - 1) * 255));
    }
}
