using Sluice.Media.Buffers;
using Sluice.Media.Formats.Mp4;

namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>A file of a million samples: read and sought through its compact tables, with nothing allocated a sample.</summary>
public sealed class Mp4FileReaderMemoryTests
{
    private const int Samples = 1_000_000;

    /// <summary>ftyp, an mdat of one-byte AAC samples, and a moov whose tables say so in a few entries (stsz with one size for all).</summary>
    private static byte[] MillionSampleFile()
    {
        var w = new BoxWriter();
        int ftyp = w.Begin("ftyp");
        w.FourCc("isom").U32(0x200).FourCc("isom");
        w.End(ftyp);
        int mdat = w.Begin("mdat");
        w.Zeros(Samples);
        w.End(mdat);
        int dataOffset = mdat + 8;

        var aac = new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, Channels = 2, CodecPrivate = new byte[] { 0x11, 0x90 } };
        int moov = w.Begin("moov");
        int mvhd = w.BeginFull("mvhd", 0, 0);
        w.U32(0).U32(0).U32(1000).U32(0).U32(0x00010000).U16(0x0100).Zeros(10).UnityMatrix().Zeros(24).U32(2);
        w.End(mvhd);
        int trak = w.Begin("trak");
        int tkhd = w.BeginFull("tkhd", 0, 3);
        w.U32(0).U32(0).U32(1).U32(0).U32(0).Zeros(8).U16(0).U16(0).U16(0x0100).U16(0).UnityMatrix().U32(0).U32(0);
        w.End(tkhd);
        int mdia = w.Begin("mdia");
        int mdhd = w.BeginFull("mdhd", 0, 0);
        w.U32(0).U32(0).U32(48000).U32(0).U16(0x55C4).U16(0);
        w.End(mdhd);
        int hdlr = w.BeginFull("hdlr", 0, 0);
        w.U32(0).FourCc("soun").Zeros(12).U8(0);
        w.End(hdlr);
        int minf = w.Begin("minf");
        int stbl = w.Begin("stbl");
        int stsd = w.BeginFull("stsd", 0, 0);
        w.U32(1);
        Mp4SampleEntry.Write(w, aac);
        w.End(stsd);
        int stts = w.BeginFull("stts", 0, 0);
        w.U32(1).U32(Samples).U32(1024);
        w.End(stts);
        int stsc = w.BeginFull("stsc", 0, 0);
        w.U32(1).U32(1).U32(Samples).U32(1);
        w.End(stsc);
        int stsz = w.BeginFull("stsz", 0, 0);
        w.U32(1).U32(Samples);
        w.End(stsz);
        int stco = w.BeginFull("stco", 0, 0);
        w.U32(1).U32((uint)dataOffset);
        w.End(stco);
        w.End(stbl);
        w.End(minf);
        w.End(mdia);
        w.End(trak);
        w.End(moov);
        return w.ToArray();
    }

    [Fact]
    public void A_million_samples_are_read_without_an_allocation_each()
    {
        byte[] file = MillionSampleFile();
        var pool = new BlockPool();
        using var reader = Mp4FileReader.Open(new MemoryStream(file), pool);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long count = 0, lastPts = -1;
        while (reader.TryReadPacket(out var packet))
        {
            Assert.True(packet.Payload.Length == 1 && packet.Pts > lastPts);
            lastPts = packet.Pts;
            packet.Release();
            count++;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Samples, count);
        Assert.Equal((long)Math.Round((Samples - 1) * 1024 * 90_000.0 / 48000), lastPts);
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated for {Samples} packets");
    }

    [Fact]
    public void Seeking_in_a_million_samples_walks_the_tables_without_allocating_them()
    {
        using var reader = Mp4FileReader.Open(new MemoryStream(MillionSampleFile()));
        long before = GC.GetAllocatedBytesForCurrentThread();
        long end = Samples * 1024L * 90_000 / 48000;
        long key = reader.SeekToKeyframe(end - 10 * 90_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Every AAC sample is a sync sample: the one at or before the time.
        Assert.True(key <= end - (10 * 90_000) && key > end - (10 * 90_000) - 1921, $"{key}");
        Assert.True(reader.TryReadPacket(out var packet));
        Assert.Equal(key, packet.Pts);
        packet.Release();
        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated by a seek");
    }
}
