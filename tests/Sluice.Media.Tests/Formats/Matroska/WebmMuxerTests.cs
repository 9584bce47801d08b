using System.Runtime.InteropServices;
using Sluice.Media.Codecs;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Matroska;

public sealed class WebmMuxerTests
{
    public static TheoryData<string> Files => Fixtures.AllNames;

    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 64, Height = 48 };
    private static readonly TrackInfo Opus = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Opus, SampleRate = 48000, Channels = 2, CodecPrivate = new byte[19] };

    private static MediaPacket Video(long ms, bool key) => new(0, ms * 90, ms * 90, key, new byte[] { 1, 2, 3 });

    private static MediaPacket Audio(int track, long ms) => new(track, ms * 90, ms * 90, true, new byte[] { 4, 5 });

    [Fact]
    public void First_block_prefix_is_an_unknown_size_cluster_and_a_simple_block()
    {
        var muxer = new WebmMuxer([Vp8]);
        var chunk = muxer.Write(Video(0, key: true));

        Assert.Equal(
            "1F43B67501FFFFFFFFFFFFFF" + "E78100" + "A387" + "81" + "0000" + "80",
            Convert.ToHexString(chunk.Prefix.Span));
        Assert.True(chunk.IsJoinPoint);
        Assert.Equal("video/webm", muxer.ContentType);
    }

    [Fact]
    public void Payload_is_passed_through_not_copied()
    {
        var muxer = new WebmMuxer([Vp8]);
        var packet = Video(0, key: true);
        var chunk = muxer.Write(packet);
        Assert.True(MemoryMarshal.TryGetArray(chunk.Payload, out var a));
        Assert.True(MemoryMarshal.TryGetArray(packet.Payload, out var b));
        Assert.Same(b.Array, a.Array);
        Assert.Equal(chunk.Prefix.Length + 3, chunk.Length);
    }

    [Fact]
    public void Header_reads_back_as_the_same_tracks()
    {
        var tracks = new[] { Vp8 with { DefaultDuration = 3000, Language = "fre" }, Opus with { CodecDelayNs = 6_500_000, SeekPreRollNs = 80_000_000 } };
        var muxer = new WebmMuxer(tracks);
        var demuxer = new MatroskaDemuxer();
        var recorder = Feeder.Feed(demuxer, muxer.Header.ToArray(), 3);

        Assert.Equal("webm", demuxer.DocType);
        Assert.Equal(
            MatroskaDemuxerFfmpegTests.Describe(tracks.Select(t => t with { ContainerCodecName = MatroskaCodecs.ToMatroska(t.Codec), Language = t.Language ?? "und" }).ToList()),
            MatroskaDemuxerFfmpegTests.Describe(recorder.Tracks!));
    }

    [Fact]
    public void A_cluster_starts_at_every_video_keyframe_and_only_those_are_join_points()
    {
        var muxer = new WebmMuxer([Vp8, Opus]);
        var chunks = new[]
        {
            muxer.Write(Audio(1, 0)),          // before any video: a cluster, not a join point
            muxer.Write(Video(10, key: true)), // join point
            muxer.Write(Audio(1, 20)),
            muxer.Write(Video(43, key: false)),
            muxer.Write(Video(76, key: true)), // join point
            muxer.Write(Audio(1, 70)),         // negative offset within the cluster
        };

        Assert.Equal([false, true, false, false, true, false], chunks.Select(c => c.IsJoinPoint));
        Assert.Equal([true, true, false, false, true, false], chunks.Select(StartsCluster));

        var packets = Feeder.Feed(new MatroskaDemuxer(), MuxedOutput.Concat(muxer.Header, chunks), 1).Packets;
        Assert.Equal([0L, 10, 20, 43, 76, 70], packets.Select(p => p.Pts / 90));
    }

    [Fact]
    public void Audio_only_streams_start_a_cluster_about_every_second_and_each_is_a_join_point()
    {
        var muxer = new WebmMuxer([Opus with { Index = 0 }]);
        var chunks = Enumerable.Range(0, 150).Select(i => muxer.Write(Audio(0, i * 20))).ToList();

        Assert.Equal([0, 50, 100], chunks.Select((c, i) => (c, i)).Where(x => StartsCluster(x.c)).Select(x => x.i));
        Assert.All(chunks, c => Assert.Equal(StartsCluster(c), c.IsJoinPoint));
        Assert.Equal("audio/webm", muxer.ContentType);
    }

    [Fact]
    public void A_block_too_far_from_its_cluster_starts_a_new_one_that_is_not_a_join_point()
    {
        var muxer = new WebmMuxer([Vp8]);
        var chunks = new[] { muxer.Write(Video(0, true)), muxer.Write(Video(30_000, false)), muxer.Write(Video(33_000, false)), muxer.Write(Video(34_000, false)) };

        Assert.Equal([true, false, true, false], chunks.Select(StartsCluster));
        Assert.Equal([true, false, false, false], chunks.Select(c => c.IsJoinPoint));
        var packets = Feeder.Feed(new MatroskaDemuxer(), MuxedOutput.Concat(muxer.Header, chunks), 4096).Packets;
        Assert.Equal([0L, 30_000, 33_000, 34_000], packets.Select(p => p.Pts / 90));
    }

    [Fact]
    public void Codecs_outside_WebM_make_a_Matroska_stream()
    {
        var muxer = new WebmMuxer([new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 2, Height = 2 }]);
        Assert.Equal("matroska", muxer.DocType);
        Assert.Equal("video/x-matroska", muxer.ContentType);
        Assert.Throws<ArgumentException>(() => new WebmMuxer([new TrackInfo { Index = 0, Kind = MediaKind.Data, Codec = CodecId.Unknown }]));
        Assert.Throws<ArgumentOutOfRangeException>(() => muxer.Write(Audio(3, 0)));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Round_trip_through_the_muxer_decodes_cleanly_and_from_a_later_join_point(string name)
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), Fixtures.Bytes(name), int.MaxValue);
        var tracks = source.Tracks!;
        var muxer = new WebmMuxer(tracks);
        var chunks = source.Packets.Select(muxer.Write).ToList();
        string extension = muxer.DocType == "webm" ? ".webm" : ".mkv";
        string whole = Path.Combine(Fixtures.TempDirectory, $"roundtrip-{name}{extension}");
        byte[] bytes = MuxedOutput.Concat(muxer.Header, chunks);
        File.WriteAllBytes(whole, bytes);

        // ffprobe sees the same streams
        Ffprobe.AssertStreamsMatch(tracks, Ffprobe.Streams(whole));

        Assert.Equal("", MediaTools.DecodeErrors(whole));

        // our own demuxer reads back the same packets (unknown-size clusters, fed in odd chunks); with B-frames, each
        // reading delays every time by the same lead
        var back = Feeder.Feed(new MatroskaDemuxer(), bytes, 1316);
        long lead = back.Packets[0].Pts - source.Packets[0].Pts;
        Assert.Equal(tracks.Max(t => DecodeTimeline.DepthOf(t) * t.DefaultDuration), lead);
        Assert.Equal(
            source.Packets.Select(p => $"{p.Track} {p.Pts} {p.Dts} {p.IsKeyframe || tracks[p.Track].Kind == MediaKind.Audio} {p.Payload.Length}"),
            back.Packets.Select(p => $"{p.Track} {p.Pts - lead} {p.Dts - lead} {p.IsKeyframe} {p.Payload.Length}"));

        // a viewer joining at the second join point gets a valid stream that starts on a keyframe
        var joins = chunks.Select((c, i) => (c, i)).Where(x => x.c.IsJoinPoint).Select(x => x.i).ToList();
        Assert.True(joins.Count >= 2, $"{joins.Count} join points");
        Assert.Equal(0, joins.Count(j => !StartsCluster(chunks[j])));
        string later = Path.Combine(Fixtures.TempDirectory, $"join-{name}{extension}");
        File.WriteAllBytes(later, MuxedOutput.Concat(muxer.Header, chunks.Skip(joins[1])));
        Assert.Equal("", MediaTools.DecodeErrors(later));
        if (tracks.Any(t => t.Kind == MediaKind.Video))
        {
            var frames = MediaTools.Ffprobe("-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "frame=key_frame", "-show_frames", later);
            var first = frames.GetProperty("frames").EnumerateArray().First();
            Assert.Equal(1, first.GetProperty("key_frame").GetInt32());
        }
    }

    private static bool StartsCluster(MuxedChunk chunk) =>
        chunk.Prefix.Length >= 4 && chunk.Prefix.Span[..4].SequenceEqual((ReadOnlySpan<byte>)[0x1F, 0x43, 0xB6, 0x75]);
}
