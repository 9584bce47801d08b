using System.Buffers;
using Sluice.Media.Codecs;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Matroska;

/// <summary>The demuxer against files the real ffmpeg wrote, checked against ffprobe.</summary>
public sealed class MatroskaDemuxerFfmpegTests
{
    public static TheoryData<string> Files => Fixtures.AllNames;

    public static TheoryData<string, int> FilesAndChunkSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Fixtures.All)
        {
            foreach (int size in new[] { 1, 188, 1316, 4096 })
            {
                data.Add(name, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Packets_match_ffprobe(string name)
    {
        var recorder = Feeder.Feed(new MatroskaDemuxer(), Fixtures.Bytes(name), int.MaxValue);
        var probed = Ffprobe.Packets(Fixtures.Path(name));

        Assert.Single(recorder.TrackCalls);
        Assert.Equal(probed.Count, recorder.Packets.Count);
        // H.264 with B-frames: every time is later by the reordering depth in frames, so that decode times start at 0.
        var tracks = recorder.Tracks!;
        long lead = tracks.Max(t => DecodeTimeline.DepthOf(t) * t.DefaultDuration);
        Assert.Equal(name == Fixtures.H264Aac ? 2 * 3600 : 0, lead);
        var lastDts = new long[tracks.Count];
        Array.Fill(lastDts, long.MinValue);
        for (int i = 0; i < probed.Count; i++)
        {
            var expected = probed[i];
            var actual = recorder.Packets[i];
            Assert.True(expected.StreamIndex == actual.Track, $"packet {i}: track {actual.Track}, ffprobe says {expected.StreamIndex}");
            Assert.True(expected.Pts * 90 + lead == actual.Pts, $"packet {i}: pts {actual.Pts}, ffprobe says {expected.Pts} ms");
            Assert.True(expected.Keyframe == actual.IsKeyframe, $"packet {i}: keyframe {actual.IsKeyframe}, ffprobe says {expected.Keyframe}");
            // Decode times are ffprobe's where it derives them (all but a B-stream's first frames), rising, never after the picture.
            long want = expected.HasDts ? expected.Dts * 90 + lead : lead == 0 ? actual.Pts : actual.Dts;
            Assert.True(want == actual.Dts, $"packet {i}: dts {actual.Dts}, ffprobe says {expected.Dts} ms");
            Assert.True(actual.Dts <= actual.Pts && actual.Dts > lastDts[actual.Track], $"packet {i}: dts {actual.Dts} after pts {actual.Pts} or not after the track's last {lastDts[actual.Track]}");
            lastDts[actual.Track] = actual.Dts;
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Tracks_match_ffprobe(string name)
    {
        var recorder = Feeder.Feed(new MatroskaDemuxer(), Fixtures.Bytes(name), int.MaxValue);
        var streams = Ffprobe.Streams(Fixtures.Path(name));
        Ffprobe.AssertStreamsMatch(recorder.Tracks!, streams, (i, track, _) =>
        {
            Assert.Equal(i, track.Index);
            Assert.True(track.Kind is MediaKind.Video or MediaKind.Audio, $"track {i} is {track.Kind}");
            if (track.Codec is CodecId.H264 or CodecId.AAC or CodecId.Vorbis or CodecId.Opus)
            {
                Assert.False(track.CodecPrivate.IsEmpty, $"track {i} has no CodecPrivate");
            }
        });
    }

    [Fact]
    public void Opus_track_carries_codec_delay_and_seek_preroll()
    {
        var tracks = Feeder.Feed(new MatroskaDemuxer(), Fixtures.Bytes(Fixtures.Opus), int.MaxValue).Tracks!;
        var opus = Assert.Single(tracks);
        Assert.Equal(CodecId.Opus, opus.Codec);
        Assert.Equal("A_OPUS", opus.ContainerCodecName);
        Assert.True(opus.CodecDelayNs > 0);
        Assert.Equal(80_000_000, opus.SeekPreRollNs);
        Assert.Equal(1, opus.Channels);
        Assert.Equal(48_000, opus.SampleRate);
    }

    [Theory]
    [MemberData(nameof(FilesAndChunkSizes))]
    public void Chunked_input_gives_the_same_packets_as_whole_input(string name, int chunkSize)
    {
        byte[] data = Fixtures.Bytes(name);
        var whole = Feeder.Feed(new MatroskaDemuxer(), data, int.MaxValue);
        var demuxer = new MatroskaDemuxer();
        var chunked = Feeder.Feed(demuxer, data, chunkSize);

        Assert.Equal(whole.Describe(), chunked.Describe());
        Assert.Equal(Describe(whole.Tracks!), Describe(chunked.Tracks!));
        Assert.Single(chunked.TrackCalls);
        Assert.Equal(data.Length, demuxer.Position);
    }

    [Fact]
    public void Every_strict_prefix_of_a_file_needs_more_and_completes_with_a_format_error()
    {
        byte[] data = Fixtures.Bytes(Fixtures.Vp8Vorbis);
        var full = Feeder.Feed(new MatroskaDemuxer(), data, int.MaxValue).Describe();
        var lengths = Enumerable.Range(0, 201).ToList();
        var random = new Random(1234);
        for (int i = 0; i < 150; i++)
        {
            lengths.Add(random.Next(201, data.Length));
        }

        lengths.Add(data.Length - 1);
        foreach (int length in lengths)
        {
            var demuxer = new MatroskaDemuxer();
            var recorder = new PacketRecorder();
            var input = new ReadOnlySequence<byte>(data, 0, length);
            var consumed = demuxer.Read(input, recorder);
            var error = Assert.Throws<MediaFormatException>(() => demuxer.Complete(input.Slice(consumed)));
            Assert.Contains("input ended", error.Reason);
            Assert.Equal(full.Take(recorder.Packets.Count), recorder.Describe());
        }
    }

    [Fact]
    public void Prefixes_of_a_live_stream_end_cleanly_only_at_element_boundaries()
    {
        byte[] data = Fixtures.Bytes(Fixtures.LiveVp9Opus);
        var full = Feeder.Feed(new MatroskaDemuxer(), data, int.MaxValue).Describe();
        var random = new Random(99);
        int clean = 0;
        foreach (int length in Enumerable.Range(0, 201).Concat(Enumerable.Range(0, 150).Select(_ => random.Next(data.Length))))
        {
            var demuxer = new MatroskaDemuxer();
            var recorder = new PacketRecorder();
            var input = new ReadOnlySequence<byte>(data, 0, length);
            var rest = input.Slice(demuxer.Read(input, recorder));
            try
            {
                demuxer.Complete(rest);
                Assert.True(rest.IsEmpty);
                clean++;
            }
            catch (MediaFormatException error)
            {
                Assert.Contains("input ended", error.Reason);
            }

            Assert.Equal(full.Take(recorder.Packets.Count), recorder.Describe());
        }

        // the whole stream ends cleanly inside its unknown-size Segment and Cluster
        Feeder.Feed(new MatroskaDemuxer(), data, 4096);
        Assert.True(clean < 351);
    }

    [Fact]
    public void Live_stream_has_an_unknown_size_segment_and_many_clusters()
    {
        // Guards the fixture itself. ffmpeg 5.1 writes an unknown-size Segment to a pipe, but still sizes each
        // Cluster; unknown-size Clusters are covered by the synthetic tests and the muxer round trips.
        byte[] data = Fixtures.Bytes(Fixtures.LiveVp9Opus);
        int segment = data.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.True(segment > 0);
        int clusters = 0;
        for (int i = 0; i + 4 <= data.Length; i++)
        {
            if (data[i] == 0x1F && data[i + 1] == 0x43 && data[i + 2] == 0xB6 && data[i + 3] == 0x75)
            {
                clusters++;
            }
        }

        Assert.True(clusters >= 8, $"{clusters} clusters");
    }

    internal static List<string> Describe(IReadOnlyList<TrackInfo> tracks) =>
        [.. tracks.Select(t => $"{t} {t.ContainerCodecName} {t.DefaultDuration} {t.BitDepth} {t.CodecDelayNs} {t.SeekPreRollNs} {t.Language} {Convert.ToHexString(t.CodecPrivate.Span)}")];
}
