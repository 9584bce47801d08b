using Sluice.Media.Formats.Ogg;

namespace Sluice.Media.Tests.Formats.Ogg;

public sealed class OggPageTests
{
    /// <summary>Packet lengths around every lacing edge: empty, one segment, 255-multiples, one full page, more than one page.</summary>
    public static TheoryData<int, int> Lengths => new()
    {
        { 0, 1 },
        { 1, 1 },
        { 254, 1 },
        { 255, 1 },
        { 256, 1 },
        { 510, 1 },
        { OggPage.MaxSinglePagePacket, 1 },
        { OggPage.MaxSinglePagePacket + 1, 2 },      // 255 full segments, then a page with one 0
        { 255 * 255 + 254, 2 },
        { 2 * 255 * 255, 3 },                         // two full pages and a page with one 0
        { 200_000, 4 },
    };

    [Fact]
    public void Crc_is_the_unreflected_0x04C11DB7_crc_with_zero_initial_value()
    {
        // CRC-32/POSIX of "123456789" is 0x765E7680 with its final XOR of 0xFFFFFFFF; Ogg has no final XOR
        Assert.Equal(0x765E7680u ^ 0xFFFFFFFFu, OggCrc.Compute("123456789"u8));
        Assert.Equal(0u, OggCrc.Compute([]));
        Assert.Equal(OggCrc.Compute("123456789"u8), OggCrc.Update(OggCrc.Compute("1234"u8), "56789"u8));
    }

    [Fact]
    public void Crc_agrees_with_every_page_ffmpeg_writes()
    {
        string path = MuxerSources.Output("ffmpeg-written.ogg");
        MediaTools.Ffmpeg("-i", MuxerSources.PathOf(MuxerSources.TheoraVorbis), "-c", "copy", "-f", "ogg", "-y", path);
        var pages = OggPageReader.Pages(File.ReadAllBytes(path));

        Assert.True(pages.Count > 10, $"{pages.Count} pages");
        Assert.All(pages, p => Assert.True(p.CrcValid, $"page {p.Sequence} of {p.Serial:X8} at byte {p.Offset}"));
    }

    [Fact]
    public void A_small_packet_gets_the_documented_header_bytes()
    {
        Span<byte> header = stackalloc byte[OggPage.MaxHeaderLength];
        byte[] packet = [1, 2, 3];
        int n = OggPage.WriteSinglePacketHeader(header, OggPageFlags.None, 0x0102030405060708, 0xA1B2C3D4, 7, packet);

        Assert.Equal(28, n);
        Assert.Equal(
            "4F676753" + "00" + "00" + "0807060504030201" + "D4C3B2A1" + "07000000" + "XXXXXXXX" + "01" + "03",
            Convert.ToHexString(header[..22]) + "XXXXXXXX" + Convert.ToHexString(header[26..28]));
        var page = OggPageReader.Pages([.. header[..n], .. packet]).Single();
        Assert.True(page.CrcValid);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void A_packet_of_any_length_reads_back_whole_from_the_pages_it_spans(int length, int expectedPages)
    {
        var packet = new byte[length];
        new Random(length).NextBytes(packet);
        var output = new byte[OggPage.PagedLength(length)];
        uint sequence = 5;
        int written = OggPage.WritePacketPages(output, OggPageFlags.BeginningOfStream, 1234, 42, ref sequence, packet);

        Assert.Equal(output.Length, written);
        Assert.Equal(5u + (uint)expectedPages, sequence);
        var pages = OggPageReader.Pages(output);
        Assert.Equal(expectedPages, pages.Count);
        Assert.All(pages, p => Assert.True(p.CrcValid));
        Assert.Equal([.. Enumerable.Range(5, expectedPages).Select(i => (uint)i)], pages.Select(p => p.Sequence));
        Assert.Equal([.. Enumerable.Range(0, expectedPages).Select(i => i == 0)], pages.Select(p => p.BeginsStream));
        Assert.Equal([.. Enumerable.Range(0, expectedPages).Select(i => i > 0)], pages.Select(p => p.Continued));
        Assert.Equal([.. Enumerable.Range(0, expectedPages).Select(i => i == expectedPages - 1 ? 1234L : -1L)], pages.Select(p => p.Granule));

        var back = OggPageReader.Packets(pages).Single();
        Assert.Equal(packet, back.Data);
        Assert.Equal(1234, back.PageGranule);

        if (expectedPages == 1)
        {
            var header = new byte[OggPage.MaxHeaderLength];
            int n = OggPage.WriteSinglePacketHeader(header, OggPageFlags.BeginningOfStream, 1234, 42, 5, packet);
            Assert.Equal(output[..n], header[..n]);
        }
        else
        {
            var header = new byte[OggPage.MaxHeaderLength];
            Assert.Throws<ArgumentOutOfRangeException>(() => OggPage.WriteSinglePacketHeader(header, OggPageFlags.None, 0, 42, 5, packet));
        }
    }
}
