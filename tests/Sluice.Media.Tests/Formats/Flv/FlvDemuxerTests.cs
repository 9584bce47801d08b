using System.Buffers;
using Sluice.Media.Formats.Flv;

namespace Sluice.Media.Tests.Formats.Flv;

/// <summary>The demuxer on hand-made FLV: each structure, each kind of damage.</summary>
public sealed class FlvDemuxerTests
{
    private const byte AudioAndVideo = 0x05;
    private const byte VideoOnly = 0x01;

    private static readonly byte[] Avcc = [1, 0x64, 0x00, 0x1E, 0xFF, 0xE0, 0x00]; // no parameter sets: sizes from onMetaData
    private static readonly byte[] Asc = [0x11, 0x90]; // AAC LC, 48 kHz, stereo

    private static byte[] Header(byte flags) => [(byte)'F', (byte)'L', (byte)'V', 1, flags, 0, 0, 0, 9, 0, 0, 0, 0];

    private static byte[] Tag(int type, long ms, params byte[] data)
    {
        var tag = new byte[11 + data.Length + 4];
        tag[0] = (byte)type;
        tag[1] = (byte)(data.Length >> 16);
        tag[2] = (byte)(data.Length >> 8);
        tag[3] = (byte)data.Length;
        uint time = unchecked((uint)ms);
        tag[4] = (byte)(time >> 16);
        tag[5] = (byte)(time >> 8);
        tag[6] = (byte)time;
        tag[7] = (byte)(time >> 24);
        data.CopyTo(tag, 11);
        int previous = 11 + data.Length;
        tag[^4] = (byte)(previous >> 24);
        tag[^3] = (byte)(previous >> 16);
        tag[^2] = (byte)(previous >> 8);
        tag[^1] = (byte)previous;
        return tag;
    }

    private static byte[] AvcSequence() => Tag(9, 0, [0x17, 0, 0, 0, 0, .. Avcc]);

    private static byte[] AvcFrame(long ms, bool key, int cts = 0, byte content = 0x65) =>
        Tag(9, ms, [(byte)(key ? 0x17 : 0x27), 1, (byte)(cts >> 16), (byte)(cts >> 8), (byte)cts, 0, 0, 0, 1, content]);

    private static byte[] AacSequence() => Tag(8, 0, [0xAF, 0, .. Asc]);

    private static byte[] AacFrame(long ms) => Tag(8, ms, 0xAF, 1, 0x21, 0x10);

    private static byte[] Metadata(int width, int height, double frameRate) => Tag(18, 0, new Amf0Writer()
        .String("onMetaData").EcmaArray(4)
        .Property("width", width).Property("height", height).Property("framerate", frameRate).Property("videocodecid", 7.0)
        .End().ToArray());

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public void Sequence_headers_describe_the_tracks_and_metadata_fills_in_sizes(int chunkSize)
    {
        byte[] flv = Concat(Header(AudioAndVideo), Metadata(640, 360, 30), AvcSequence(), AacSequence(),
            AvcFrame(0, key: true, cts: 66), AacFrame(5), AvcFrame(33, key: false, cts: -33), AacFrame(26));
        var demuxer = new FlvDemuxer();
        var recorder = Feeder.Feed(demuxer, flv, chunkSize);

        var tracks = recorder.Tracks!;
        Assert.Equal("#0 video h264 640x360,#1 audio aac 48000 Hz 2 ch", string.Join(',', tracks));
        Assert.Equal(3000, tracks[0].DefaultDuration);
        Assert.Equal(Avcc, tracks[0].CodecPrivate.ToArray());
        Assert.Equal(Asc, tracks[1].CodecPrivate.ToArray());
        Assert.Equal(["AVC", "AAC"], tracks.Select(t => t.ContainerCodecName));
        Assert.Equal(
            ["0 0 66 True 0000000165", "1 5 5 True 2110", "0 33 0 False 0000000165", "1 26 26 True 2110"],
            recorder.Packets.Select(p => $"{p.Track} {p.Dts / 90} {p.Pts / 90} {p.IsKeyframe} {Convert.ToHexString(p.Payload.Span)}"));
        Assert.Equal(flv.Length, demuxer.Position);
    }

    [Fact]
    public void Input_that_is_not_FLV_is_refused_from_its_first_bytes()
    {
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new FlvDemuxer(), "GET"u8.ToArray(), 1, complete: false));
        Assert.Equal(0, error.Offset);
        Assert.Contains("not an FLV stream", error.Reason);

        var version = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new FlvDemuxer(), [(byte)'F', (byte)'L', (byte)'V', 2], 4096, complete: false));
        Assert.Equal(3, version.Offset);
        Assert.Contains("version 2", version.Reason);

        byte[] badOffset = Header(AudioAndVideo);
        badOffset[8] = 3;
        Assert.Contains("DataOffset 3", Assert.Throws<MediaFormatException>(() => Feeder.Feed(new FlvDemuxer(), badOffset, 4096)).Reason);
    }

    [Fact]
    public void Header_padding_after_DataOffset_is_skipped()
    {
        byte[] padded = [(byte)'F', (byte)'L', (byte)'V', 1, VideoOnly, 0, 0, 0, 12, 0xEE, 0xEE, 0xEE, 0, 0, 0, 0];
        var recorder = Feeder.Feed(new FlvDemuxer(), Concat(padded, AvcSequence(), AvcFrame(0, true)), 2);
        Assert.Single(recorder.Packets);
    }

    [Fact]
    public void An_absurd_DataSize_is_refused_before_its_bytes_arrive()
    {
        byte[] flv = Concat(Header(AudioAndVideo), [9, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0]);
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new FlvDemuxer(), flv, 4096, complete: false));
        Assert.Equal(13, error.Offset);
        Assert.Contains("video tag of 16777215 bytes exceeds the limit", error.Reason);
    }

    [Fact]
    public void An_unknown_tag_type_is_structural_damage()
    {
        byte[] flv = Concat(Header(AudioAndVideo), Tag(7, 0, 1, 2, 3));
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new FlvDemuxer(), flv, 4096));
        Assert.Equal(13, error.Offset);
        Assert.Contains("tag type byte 0x07", error.Reason);
    }

    [Fact]
    public void A_truncated_tag_asks_for_more_and_Complete_names_it()
    {
        byte[] flv = Concat(Header(VideoOnly), AvcSequence(), AvcFrame(0, true));
        var demuxer = new FlvDemuxer();
        var recorder = new PacketRecorder();
        var input = new ReadOnlySequence<byte>(flv, 0, flv.Length - 6);
        var rest = input.Slice(demuxer.Read(input, recorder));
        Assert.Empty(recorder.Packets);
        var error = Assert.Throws<MediaFormatException>(() => demuxer.Complete(rest));
        Assert.Contains("input ended inside a video tag of 10 bytes (8 present)", error.Reason);
        Assert.Equal(13 + AvcSequence().Length, error.Offset);

        var cut = new FlvDemuxer();
        var before = new ReadOnlySequence<byte>(flv, 0, flv.Length - 2);
        var left = before.Slice(cut.Read(before, recorder));
        Assert.Contains("PreviousTagSize of the tag", Assert.Throws<MediaFormatException>(() => cut.Complete(left)).Reason);
        Assert.Contains("before the end of the FLV header", Assert.Throws<MediaFormatException>(() => new FlvDemuxer().Complete(ReadOnlySequence<byte>.Empty)).Reason);
    }

    [Fact]
    public void Damaged_and_unsupported_tags_are_skipped_and_counted()
    {
        byte[] wrongSize = AvcFrame(80, false);
        wrongSize[^1] ^= 0x40;
        byte[] flv = Concat(Header(AudioAndVideo), AvcFrame(0, true), AvcSequence(), AacSequence(),
            Tag(9, 10, 0x17, 1), // too short for its AVC header
            Tag(9, 20, 0x14, 1, 2, 3), // VP6: not read
            Tag(8 | 0x20, 30, 0xAF, 1, 9), // encrypted
            Tag(18, 0, 2, 0, 10, (byte)'o', (byte)'n'), // damaged script data
            Tag(8, 40, 0x6F, 1, 2), // Speex
            AvcFrame(40, true), AacFrame(45), wrongSize, AvcFrame(120, false));
        var demuxer = new FlvDemuxer();
        var recorder = Feeder.Feed(demuxer, flv, 3);

        Assert.Equal([40L, 45, 80, 120], recorder.Packets.Select(p => p.Dts / 90));
        Assert.Equal(1, demuxer.UntrackedPackets); // the frame before the sequence header
        Assert.Equal(2, demuxer.DamagedTags);
        Assert.Equal(3, demuxer.UnsupportedTags);
        Assert.Equal(1, demuxer.PreviousTagSizeMismatches);
    }

    [Fact]
    public void A_missing_sequence_header_is_waited_for_only_so_long()
    {
        var parts = new List<byte[]> { Header(AudioAndVideo), AvcSequence() };
        for (int i = 0; i < 100; i++)
        {
            parts.Add(AvcFrame(i * 40, i % 25 == 0));
        }

        parts.Add(AacSequence());
        parts.Add(AacFrame(4000));
        var demuxer = new FlvDemuxer();
        var recorder = Feeder.Feed(demuxer, Concat([.. parts]), 1316);

        Assert.Single(recorder.TrackCalls);
        Assert.Equal(MediaKind.Video, Assert.Single(recorder.Tracks!).Kind);
        Assert.Equal(100, recorder.Packets.Count);
        Assert.Equal(1, demuxer.UntrackedPackets);
        Assert.Equal([0L, 40, 80], recorder.Packets.Take(3).Select(p => p.Dts / 90));
    }

    [Fact]
    public void Metadata_without_an_audio_codec_means_no_audio_is_waited_for()
    {
        var recorder = Feeder.Feed(new FlvDemuxer(), Concat(Header(AudioAndVideo), Metadata(320, 240, 25), AvcSequence(), AvcFrame(0, true)), 4096);
        Assert.Equal("#0 video h264 320x240", Assert.Single(recorder.Tracks!).ToString());
        Assert.Single(recorder.Packets);
    }

    [Fact]
    public void Timestamps_use_the_extension_byte_and_unwrap_past_32_bits()
    {
        var recorder = Feeder.Feed(new FlvDemuxer(), Concat(Header(VideoOnly), AvcSequence(),
            AvcFrame(0x7FFFFFF0, true), AvcFrame(0x80000010, false), AvcFrame(0xFFFFFFF0, false), AvcFrame(0x1_0000_0010, false)), 4096);
        Assert.Equal([0x7FFFFFF0L, 0x80000010, 0xFFFFFFF0, 0x1_0000_0010], recorder.Packets.Select(p => p.Dts / 90));
    }

    [Fact]
    public void Enhanced_FLV_AV1_and_VP9_packets_carry_no_composition_time()
    {
        byte[] av1c = [0x81, 0x04, 0x0C, 0x00];
        byte[] flv = Concat(Header(VideoOnly), Metadata(256, 144, 25),
            Tag(9, 0, [0x90, (byte)'a', (byte)'v', (byte)'0', (byte)'1', .. av1c]),
            Tag(9, 0, 0x91, (byte)'a', (byte)'v', (byte)'0', (byte)'1', 0x12, 0x00),
            Tag(9, 40, 0xA3, (byte)'a', (byte)'v', (byte)'0', (byte)'1', 0x32, 0x01));
        var recorder = Feeder.Feed(new FlvDemuxer(), flv, 1);
        var track = Assert.Single(recorder.Tracks!);
        Assert.Equal((CodecId.AV1, 256, 144, "av01"), (track.Codec, track.Width, track.Height, track.ContainerCodecName));
        Assert.Equal(av1c, track.CodecPrivate.ToArray());
        Assert.Equal(["0 True 1200", "40 False 3201"], recorder.Packets.Select(p => $"{p.Pts / 90} {p.IsKeyframe} {Convert.ToHexString(p.Payload.Span)}"));

        byte[] vp9 = Concat(Header(VideoOnly),
            Tag(9, 0, 0x90, (byte)'v', (byte)'p', (byte)'0', (byte)'9', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            Tag(9, 0, 0x93, (byte)'v', (byte)'p', (byte)'0', (byte)'9', 0x82, 0x49));
        var vp9Recorder = Feeder.Feed(new FlvDemuxer(), vp9, 4096);
        Assert.Equal(CodecId.VP9, Assert.Single(vp9Recorder.Tracks!).Codec);
        Assert.Equal("8249", Convert.ToHexString(Assert.Single(vp9Recorder.Packets).Payload.Span));
    }

    [Fact]
    public void Multitrack_and_unknown_FourCCs_are_unsupported()
    {
        var demuxer = new FlvDemuxer();
        var recorder = Feeder.Feed(demuxer, Concat(Header(AudioAndVideo),
            Tag(9, 0, 0x96, 0, (byte)'h', (byte)'v', (byte)'c', (byte)'1'),
            Tag(9, 0, 0x90, (byte)'x', (byte)'y', (byte)'z', (byte)'w', 1),
            AacSequence(), AacFrame(0)), 4096);
        Assert.Equal(2, demuxer.UnsupportedTags);
        Assert.Equal(MediaKind.Audio, Assert.Single(recorder.Tracks!).Kind);
    }
}
