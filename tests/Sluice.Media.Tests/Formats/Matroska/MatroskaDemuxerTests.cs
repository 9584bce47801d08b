using System.Buffers;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Matroska;

/// <summary>The demuxer on hand-built documents: lacing, time scales, unknown sizes, and damaged input.</summary>
public sealed class MatroskaDemuxerTests
{
    private static PacketRecorder Demux(byte[] data, int chunkSize = int.MaxValue) => Feeder.Feed(new MatroskaDemuxer(), data, chunkSize);

    private static MediaFormatException Fails(byte[] data, int chunkSize = int.MaxValue) =>
        Assert.Throws<MediaFormatException>(() => Demux(data, chunkSize));

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(7)]
    public void Unknown_size_clusters_end_at_the_next_cluster_or_top_level_element(int chunkSize)
    {
        var w = MatroskaDocument.Start()
            .ClusterOfUnknownSize(1000)
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(2, 0, 0x80, [0xAA]))
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(1, 5, 0x80, [0xBB, 0xBB]))
            .ClusterOfUnknownSize(2000)
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(2, 33, 0x00, [0xCC]))
            .Master(ElementId.Cues, c => c.UInt((ElementId)0xBB, 1))
            .Master(ElementId.Tags, c => c.Binary((ElementId)0x7373, [1, 2, 3]))
            .ClusterOfUnknownSize(3000)
            .Binary(ElementId.Void, new byte[10])
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(2, -1, 0x80, [0xDD]));

        var recorder = Demux(w.ToArray(), chunkSize);

        Assert.Single(recorder.TrackCalls);
        Assert.Equal(
            ["1 90000 key 1", "0 90450 key 2", "1 182970 - 1", "1 269910 key 1"],
            recorder.Packets.Select(p => $"{p.Track} {p.Pts} {(p.IsKeyframe ? "key" : "-")} {p.Payload.Length}"));
        var tracks = recorder.Tracks!;
        Assert.Equal([MediaKind.Audio, MediaKind.Video], tracks.Select(t => t.Kind));
        Assert.Equal((64, 48), (tracks[1].Width, tracks[1].Height));
        Assert.Equal((48000, 2), (tracks[0].SampleRate, tracks[0].Channels));
        Assert.Equal(20 * 90, tracks[0].DefaultDuration);
        Assert.Equal("eng", tracks[0].Language);
    }

    [Fact]
    public void Xiph_lacing_gives_a_packet_per_frame_timed_by_DefaultDuration()
    {
        byte[] block = MatroskaDocument.Block(1, 0, 0x80 | 0x02,
            [2, 255, 45, 10], MatroskaDocument.Frame(300, 1), MatroskaDocument.Frame(10, 2), MatroskaDocument.Frame(5, 3));
        var w = MatroskaDocument.Start().ClusterOfUnknownSize(1000).Binary(ElementId.SimpleBlock, block);

        var packets = Demux(w.ToArray(), 3).Packets;

        Assert.Equal([300, 10, 5], packets.Select(p => p.Payload.Length));
        Assert.Equal([90_000L, 91_800, 93_600], packets.Select(p => p.Pts));
        Assert.All(packets, p => Assert.Equal(1800, p.Duration));
        Assert.Equal([1, 2, 3], packets.Select(p => p.Payload.Span[0]));
    }

    [Fact]
    public void Ebml_lacing_reads_signed_size_differences()
    {
        // sizes 500, 200, 600, 7: 500 as a 2-byte VINT, then -300 and +400 as signed 2-byte VINTs (bias 8191)
        ushort first = 0x4000 | 500, second = (ushort)(0x4000 | (8191 - 300)), third = (ushort)(0x4000 | (8191 + 400));
        byte[] header = [3, (byte)(first >> 8), (byte)first, (byte)(second >> 8), (byte)second, (byte)(third >> 8), (byte)third];
        byte[] block = MatroskaDocument.Block(1, 0, 0x80 | 0x06, header,
            MatroskaDocument.Frame(500, 1), MatroskaDocument.Frame(200, 2), MatroskaDocument.Frame(600, 3), MatroskaDocument.Frame(7, 4));
        var w = MatroskaDocument.Start().ClusterOfUnknownSize(0).Binary(ElementId.SimpleBlock, block);

        var packets = Demux(w.ToArray(), 188).Packets;

        Assert.Equal([500, 200, 600, 7], packets.Select(p => p.Payload.Length));
        Assert.Equal([1, 2, 3, 4], packets.Select(p => p.Payload.Span[0]));
    }

    [Fact]
    public void Fixed_size_lacing_splits_evenly_and_without_DefaultDuration_shares_the_block_time()
    {
        byte[] block = MatroskaDocument.Block(1, 7, 0x80 | 0x04, [3], MatroskaDocument.Frame(100, 9));
        var w = MatroskaDocument.Start(audioDefaultDurationNs: 0).ClusterOfUnknownSize(10).Binary(ElementId.SimpleBlock, block);

        var packets = Demux(w.ToArray()).Packets;

        Assert.Equal([25, 25, 25, 25], packets.Select(p => p.Payload.Length));
        Assert.All(packets, p => Assert.Equal(17 * 90, p.Pts));
    }

    [Fact]
    public void Fixed_size_lacing_that_does_not_split_evenly_is_an_error()
    {
        byte[] block = MatroskaDocument.Block(1, 0, 0x80 | 0x04, [2], MatroskaDocument.Frame(100, 9));
        var w = MatroskaDocument.Start().ClusterOfUnknownSize(0).Binary(ElementId.SimpleBlock, block);
        Assert.Contains("fixed-size lacing", Fails(w.ToArray()).Reason);
    }

    [Fact]
    public void Lace_sizes_larger_than_the_block_are_an_error()
    {
        byte[] block = MatroskaDocument.Block(1, 0, 0x80 | 0x02, [1, 255, 255, 3], MatroskaDocument.Frame(20, 9));
        var w = MatroskaDocument.Start().ClusterOfUnknownSize(0).Binary(ElementId.SimpleBlock, block);
        Assert.Contains("lacing sizes", Fails(w.ToArray()).Reason);
    }

    [Fact]
    public void Negative_relative_timestamps_and_other_timestamp_scales_convert_to_90kHz()
    {
        var w = MatroskaDocument.Start(timestampScale: 100_000) // 0.1 ms
            .ClusterOfUnknownSize(12345)
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(2, -40, 0x80, [1]))
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(2, 3, 0x00, [1]));

        var packets = Demux(w.ToArray()).Packets;

        // 12305 × 0.1 ms = 1230.5 ms = 110745 ticks; 12348 × 0.1 ms = 1234.8 ms = 111132 ticks
        Assert.Equal([110_745L, 111_132], packets.Select(p => p.Pts));
        Assert.Equal([110_745L, 111_132], packets.Select(p => p.Dts));
    }

    [Fact]
    public void BlockGroup_is_a_keyframe_unless_it_has_a_ReferenceBlock()
    {
        var w = MatroskaDocument.Start()
            .ClusterOfUnknownSize(0)
            .Master(ElementId.BlockGroup, g => g.Binary(ElementId.Block, MatroskaDocument.Block(2, 0, 0, [1])).UInt(ElementId.BlockDuration, 40))
            .Master(ElementId.BlockGroup, g => g.Binary(ElementId.Block, MatroskaDocument.Block(2, 40, 0, [2])).UInt(ElementId.ReferenceBlock, 1)
                .Binary(ElementId.DiscardPadding, [0x10]));

        var packets = Demux(w.ToArray(), 2).Packets;

        Assert.Equal([true, false], packets.Select(p => p.IsKeyframe));
        Assert.Equal([0L, 3600], packets.Select(p => p.Pts));
        Assert.Equal(3600, packets[0].Duration);
    }

    [Fact]
    public void Known_size_cluster_and_unknown_children_are_skipped_or_read_as_needed()
    {
        var w = MatroskaDocument.Start()
            .Master(ElementId.Cluster, c => c
                .Binary(ElementId.Crc32, [0, 0, 0, 0])
                .UInt(ElementId.Timestamp, 500)
                .Binary((ElementId)0x4455, [1, 2, 3, 4, 5])
                .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(2, 1, 0x80, [7])))
            .Master(ElementId.Chapters, c => c.Binary((ElementId)0x45B9, [1]))
            .Master(ElementId.Tracks, t => t.Master(ElementId.TrackEntry, e => e.UInt(ElementId.TrackNumber, 9).UInt(ElementId.TrackType, 1).String(ElementId.CodecId, "V_VP9")))
            .ClusterOfUnknownSize(600)
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(1, 0, 0x80, [8]));

        var recorder = Demux(w.ToArray(), 5);

        Assert.Single(recorder.TrackCalls);
        Assert.Equal([501 * 90L, 600 * 90], recorder.Packets.Select(p => p.Pts));
    }

    [Fact]
    public void An_unknown_size_cluster_ends_with_its_known_size_segment()
    {
        var w = MatroskaDocument.Header();
        w.Master(ElementId.Segment, s => s
            .Master(ElementId.Tracks, t => t.Master(ElementId.TrackEntry, e => e.UInt(ElementId.TrackNumber, 1).UInt(ElementId.TrackType, 1).String(ElementId.CodecId, "V_AV1")))
            .ClusterOfUnknownSize(0)
            .Binary(ElementId.SimpleBlock, MatroskaDocument.Block(1, 0, 0x80, [1])));
        w.Binary(ElementId.Void, [0, 0]);
        byte[] data = w.ToArray();

        var demuxer = new MatroskaDemuxer();
        var recorder = Feeder.Feed(demuxer, data, 2);

        Assert.Single(recorder.Packets);
        Assert.Equal(CodecId.AV1, recorder.Tracks![0].Codec);
        Assert.Equal(data.Length, demuxer.Position);

        // cut before the SimpleBlock (7 bytes) and the Void (4): an element boundary, but inside the known-size Segment
        var cut = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new MatroskaDemuxer(), data[..^11], 2));
        Assert.Contains("input ended inside Segment", cut.Reason);
    }

    [Fact]
    public void Garbage_is_not_an_EBML_stream()
    {
        var error = Fails("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal(0, error.Offset);
        Assert.Contains("not an EBML stream", error.Reason);

        // detected from the first byte on, without waiting for more
        var demuxer = new MatroskaDemuxer();
        Assert.Throws<MediaFormatException>(() => demuxer.Read(new ReadOnlySequence<byte>([0x47]), new PacketRecorder()));
    }

    [Fact]
    public void A_DocType_other_than_webm_or_matroska_is_rejected()
    {
        var error = Fails(MatroskaDocument.Header("mp4").ToArray());
        Assert.Contains("DocType \"mp4\"", error.Reason);
    }

    [Fact]
    public void An_invalid_VINT_names_its_offset()
    {
        var w = MatroskaDocument.Start();
        int offset = w.Length;
        byte[] data = [.. w.ToArray(), 0x00, 0x81, 0x00];
        var error = Fails(data);
        Assert.Equal(offset, error.Offset);
        Assert.Contains("invalid element ID", error.Reason);

        data = [.. w.ToArray(), 0xA3, 0x00, 0x00];
        error = Fails(data);
        Assert.Equal(offset + 1, error.Offset);
        Assert.Contains("invalid size of Cluster", Fails([.. w.ToArray(), 0x1F, 0x43, 0xB6, 0x75, 0x00]).Reason);
    }

    [Fact]
    public void Absurd_sizes_are_rejected_before_their_bytes_arrive()
    {
        var w = MatroskaDocument.Start().ClusterOfUnknownSize(0);
        int offset = w.Length;
        byte[] data = [.. w.ToArray(), 0xA3, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00];
        var error = Assert.Throws<MediaFormatException>(() => new MatroskaDemuxer().Read(new ReadOnlySequence<byte>(data), new PacketRecorder()));
        Assert.Equal(offset, error.Offset);
        Assert.Contains("SimpleBlock of 4294967296 bytes exceeds the limit", error.Reason);

        var h = MatroskaDocument.Header();
        h.UnknownSizeHeader(ElementId.Segment);
        offset = h.Length;
        data = [.. h.ToArray(), 0x16, 0x54, 0xAE, 0x6B, 0x18, 0x00, 0x00, 0x00];
        error = Assert.Throws<MediaFormatException>(() => new MatroskaDemuxer().Read(new ReadOnlySequence<byte>(data), new PacketRecorder()));
        Assert.Equal(offset, error.Offset);
        Assert.Contains("Tracks of", error.Reason);
    }

    [Fact]
    public void A_child_larger_than_its_parent_is_an_error()
    {
        var w = MatroskaDocument.Start();
        int offset = w.Length;
        // a Cluster of 5 bytes holding a Timestamp that claims 8
        byte[] data = [.. w.ToArray(), 0x1F, 0x43, 0xB6, 0x75, 0x85, 0xE7, 0x88, 0, 0, 0];
        var error = Fails(data);
        Assert.Equal(offset + 5, error.Offset);
        Assert.Contains("runs past the end of its parent Cluster", error.Reason);

        // inside a complete header element too
        var bad = MatroskaDocument.Header();
        bad.UnknownSizeHeader(ElementId.Segment);
        byte[] info = [0x15, 0x49, 0xA9, 0x66, 0x84, 0x2A, 0xD7, 0xB1, 0x88];
        Assert.Contains("runs past the end of its parent Info", Fails([.. bad.ToArray(), .. info]).Reason);
    }

    [Fact]
    public void A_block_for_an_undeclared_track_is_an_error()
    {
        var w = MatroskaDocument.Start().ClusterOfUnknownSize(0).Binary(ElementId.SimpleBlock, MatroskaDocument.Block(5, 0, 0x80, [1]));
        var error = Fails(w.ToArray());
        Assert.Contains("track number 5", error.Reason);
        Assert.True(error.Offset > 0);
    }

    [Fact]
    public void A_block_before_Tracks_is_an_error()
    {
        var w = MatroskaDocument.Header();
        w.UnknownSizeHeader(ElementId.Segment).ClusterOfUnknownSize(0).Binary(ElementId.SimpleBlock, MatroskaDocument.Block(1, 0, 0x80, [1]));
        Assert.Contains("before Tracks", Fails(w.ToArray()).Reason);
    }

    [Fact]
    public void Input_ending_inside_a_skipped_element_names_it()
    {
        var w = MatroskaDocument.Start().Master(ElementId.Cues, c => c.Binary((ElementId)0xBB, new byte[100]));
        byte[] data = w.ToArray()[..^50];
        var error = Fails(data, 16);
        Assert.Contains("input ended inside Cues", error.Reason);
        Assert.Equal(data.Length, error.Offset);
    }

    [Fact]
    public void Empty_input_and_input_ending_after_the_EBML_header_are_truncated()
    {
        Assert.Contains("before the EBML header", Fails([]).Reason);
        Assert.Contains("before the Segment", Fails(MatroskaDocument.Header().ToArray()).Reason);
    }

    [Fact]
    public void Chained_segments_are_refused_clearly()
    {
        byte[] one = MatroskaDocument.Start().ClusterOfUnknownSize(0).Binary(ElementId.SimpleBlock, MatroskaDocument.Block(1, 0, 0x80, [1])).ToArray();
        Assert.Contains("chained streams are not supported", Fails([.. one, .. MatroskaDocument.Header().ToArray()]).Reason);
    }
}
