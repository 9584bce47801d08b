using System.Buffers.Binary;
using Sluice.Media.Formats.Mp4;

namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>Damage put into real files on purpose: each is refused with the format, the byte offset and the box path.</summary>
public sealed class Mp4FileReaderDamageTests
{
    private static MediaFormatException Refused(byte[] data)
    {
        var error = Assert.Throws<MediaFormatException>(() =>
        {
            using var reader = Mp4FileReader.Open(new MemoryStream(data));
            Mp4FileReaderFfmpegTests.ReadAll(reader);
        });
        Assert.Equal("MP4", error.Format);
        Assert.InRange(error.Offset, 0, data.Length);
        return error;
    }

    [Fact]
    public void A_file_cut_short_is_refused_at_the_box_that_runs_past_its_end()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264AacFaststart);
        int mdat = Mp4Boxes.Find(data, "mdat");
        var error = Refused(data[..(mdat + 1000)]);
        Assert.Equal(mdat, error.Offset);
        Assert.Contains("mdat: box of", error.Reason);
        Assert.Contains("runs past the end of the file", error.Reason);
    }

    [Fact]
    public void Sample_tables_that_disagree_are_refused_naming_the_stsz()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264Aac);
        int stsz = Mp4Boxes.Find(data, "moov/trak/mdia/minf/stbl/stsz");
        // sample_count one less: stts still times them all (the table is longer than needed, which is allowed).
        uint count = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(stsz + 16));
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(stsz + 16), count - 1);
        var error = Refused(data);
        Assert.Equal(stsz, error.Offset);
        Assert.StartsWith("moov/trak[0]/mdia/minf/stbl/stsz:", error.Reason);
        Assert.Contains($"{count - 1} samples, but stts gives times to {count}", error.Reason);
    }

    [Fact]
    public void A_chunk_outside_the_file_is_refused_naming_the_stco()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264Aac);
        var stco = Mp4Boxes.All(data).Where(b => b.Path == "moov/trak/mdia/minf/stbl/stco").ToList()[1];
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(stco.Offset + 16), (uint)data.Length - 10);
        var error = Refused(data);
        Assert.Equal(stco.Offset, error.Offset);
        Assert.StartsWith("moov/trak[1]/mdia/minf/stbl/stco: sample 0", error.Reason);
        Assert.Contains("outside the file", error.Reason);
    }

    [Fact]
    public void A_trun_longer_than_its_box_is_refused_with_its_path()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264AacFragmented);
        var truns = Mp4Boxes.All(data).Where(b => b.Path == "moof/traf/trun").ToList();
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(truns[3].Offset + 12), 100_000);
        var error = Refused(data);
        Assert.Equal(truns[3].Offset, error.Offset);
        Assert.Matches(@"^moof\[\d+\]/traf\[\d\]/trun\[0\]: 100000 samples need", error.Reason);
    }

    [Fact]
    public void A_child_box_past_its_parent_is_refused_with_its_path()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264AacFaststart);
        int stts = Mp4Boxes.Find(data, "moov/trak/mdia/minf/stbl/stts");
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(stts), 0x10000);
        var error = Refused(data);
        Assert.Equal(stts, error.Offset);
        Assert.StartsWith("moov/trak[0]/mdia/minf/stbl/stts: box of 65536 bytes runs past the end of moov/trak[0]/mdia/minf/stbl", error.Reason);
    }

    [Fact]
    public void A_file_that_is_not_MP4_is_refused_at_byte_0()
    {
        var error = Refused([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81]);
        Assert.Equal(0, error.Offset);
        Assert.Contains("not an MP4 file", error.Reason);
    }

    [Fact]
    public void A_track_Sluice_does_not_carry_is_skipped_with_a_reason_and_the_rest_is_read()
    {
        string srt = System.IO.Path.Combine(Mp4Fixtures.TempDirectory, "subtitles.srt");
        File.WriteAllText(srt, "1\n00:00:00,000 --> 00:00:01,000\nhello\n");
        string path = System.IO.Path.Combine(Mp4Fixtures.TempDirectory, "with-text.mp4");
        MediaTools.Ffmpeg("-i", Mp4Fixtures.Path(Mp4Fixtures.AacM4a), "-i", srt, "-map", "0", "-map", "1", "-c:a", "copy", "-c:s", "mov_text", "-f", "mp4", "-y", path);

        using var reader = Mp4FileReader.Open(File.OpenRead(path));
        var skipped = Assert.Single(reader.SkippedTracks);
        Assert.Equal("track 2 (sbtl): handler 'sbtl' is neither video nor audio", skipped.ToString());
        var track = Assert.Single(reader.Tracks);
        Assert.Equal(CodecId.AAC, track.Codec);
        Assert.Equal(
            PacketRecorder.Describe(Mp4FileReaderFfmpegTests.Read(Mp4Fixtures.AacM4a).Packets),
            PacketRecorder.Describe(Mp4FileReaderFfmpegTests.ReadAll(reader)));
    }
}
