using Sluice.Media.Formats.Mp4;

namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>The incremental MP4 reader: the same packets as the file reader, however the bytes are cut.</summary>
public sealed class Mp4DemuxerTests
{
    /// <summary>The fixtures whose moov comes before their samples.</summary>
    public static IEnumerable<string> Streamable =>
        [Mp4Fixtures.H264AacFaststart, Mp4Fixtures.H264AacFragmented, Mp4Fixtures.H264AacFragmentedOffsets, Mp4Fixtures.H264AacIsmv];

    public static TheoryData<string, int> FilesAndChunkSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Streamable)
        {
            foreach (int size in new[] { int.MaxValue, 1, 7, 188, 1000, 4096 })
            {
                data.Add(name, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FilesAndChunkSizes))]
    public void Each_track_gets_the_file_readers_packets_however_the_input_is_cut(string name, int chunkSize)
    {
        var (tracks, expected) = Mp4FileReaderFfmpegTests.Read(name);
        byte[] data = Mp4Fixtures.Bytes(name);
        using var demuxer = new Mp4Demuxer();
        var recorder = Feeder.Feed(demuxer, data, chunkSize);

        Assert.Single(recorder.TrackCalls);
        // A fragmented track's first sample comes after the announcement, so its frame duration is not known yet.
        var described = demuxer.IsFragmented ? tracks.Select(t => t with { DefaultDuration = 0 }).ToList() : tracks;
        Assert.Equal(Matroska.MatroskaDemuxerFfmpegTests.Describe(described), Matroska.MatroskaDemuxerFfmpegTests.Describe(recorder.Tracks!));
        Assert.Empty(demuxer.SkippedTracks);
        Assert.Equal(data.Length, demuxer.Position);
        for (int t = 0; t < tracks.Count; t++)
        {
            Assert.Equal(
                PacketRecorder.Describe(expected.Where(p => p.Track == t)),
                PacketRecorder.Describe(recorder.Packets.Where(p => p.Track == t)));
        }

        // In file order: each sample follows the one before it in the file.
        Assert.Equal(expected.Count, recorder.Packets.Count);
        recorder.Packets.ForEach(p => p.Release());
    }

    [Fact]
    public void A_file_whose_moov_follows_its_mdat_is_refused_with_what_to_do()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264Aac);
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new Mp4Demuxer(), data, 4096));
        Assert.Equal(Mp4Boxes.Find(data, "mdat"), error.Offset);
        Assert.Contains("mdat before the moov", error.Reason);
        Assert.Contains("+faststart", error.Reason);
    }

    [Fact]
    public void A_prefix_needs_more_and_completes_cleanly_only_between_fragments()
    {
        byte[] data = Mp4Fixtures.Bytes(Mp4Fixtures.H264AacFragmented);
        var full = Feeder.Feed(new Mp4Demuxer(), data, int.MaxValue).Describe();
        // After a top-level box, but not between a moof and the mdat that holds its samples.
        var boundaries = Mp4Boxes.All(data).Where(b => !b.Path.Contains('/') && b.Path != "moof").Select(b => b.Offset + b.Size).ToHashSet();
        var random = new Random(77);
        int clean = 0;
        foreach (int length in Enumerable.Range(0, 120).Concat(Enumerable.Range(0, 150).Select(_ => random.Next(data.Length))).Concat(boundaries))
        {
            var demuxer = new Mp4Demuxer();
            var recorder = new PacketRecorder();
            var input = new System.Buffers.ReadOnlySequence<byte>(data, 0, length);
            var rest = input.Slice(demuxer.Read(input, recorder));
            bool moovRead = demuxer.Tracks is not null;
            if (boundaries.Contains(length) && moovRead)
            {
                demuxer.Complete(rest);
                clean++;
            }
            else
            {
                var error = Assert.Throws<MediaFormatException>(() => demuxer.Complete(rest));
                Assert.Contains("input ended", error.Reason);
            }

            Assert.Equal(full.Take(recorder.Packets.Count), recorder.Describe());
        }

        Assert.True(clean >= 3, $"{clean} clean ends");
    }
}
