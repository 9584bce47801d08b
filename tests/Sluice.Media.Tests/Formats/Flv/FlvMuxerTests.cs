using System.Buffers.Binary;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Flv;

public sealed class FlvMuxerTests
{
    public static TheoryData<string> Files => FlvFixtures.AllFlvNames;

    private static readonly byte[] Avcc = [1, 0x64, 0x00, 0x1E, 0xFF, 0xE0, 0x00];
    private static readonly TrackInfo H264 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 64, Height = 48, CodecPrivate = Avcc };
    private static readonly TrackInfo Aac = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, Channels = 2, CodecPrivate = new byte[] { 0x11, 0x90 } };

    [Fact]
    public void Header_is_the_FLV_header_metadata_and_sequence_headers_each_with_its_PreviousTagSize()
    {
        var muxer = new FlvMuxer([H264, Aac]);
        byte[] header = muxer.Header.ToArray();

        Assert.Equal("464C5601050000000900000000", Convert.ToHexString(header, 0, 13));
        var tags = Tags(header, 13);
        Assert.Equal([18, 9, 8], tags.Select(t => (int)t.Type));
        Assert.Equal("1700000000" + Convert.ToHexString(Avcc), Convert.ToHexString(tags[1].Data));
        Assert.Equal("AF001190", Convert.ToHexString(tags[2].Data));
        Assert.Equal(header.Length, tags[^1].End);
        Assert.Equal("video/x-flv", muxer.ContentType);

        var demuxer = new FlvDemuxer();
        var recorder = Feeder.Feed(demuxer, header, 1);
        Assert.Null(recorder.Tracks); // no packet yet: nothing to announce
        Assert.Equal(64, demuxer.Metadata!.Width);
        Assert.Equal(10, demuxer.Metadata.AudioCodecId);
        Assert.Equal(7, demuxer.Metadata.VideoCodecId);
    }

    [Fact]
    public void Each_packet_is_one_whole_tag_with_its_PreviousTagSize_and_keyframes_are_join_points()
    {
        var muxer = new FlvMuxer([H264, Aac]);
        var key = muxer.Write(new MediaPacket(0, 90 * 40, 90 * 120, true, new byte[] { 0, 0, 0, 1, 0x65 }));
        var audio = muxer.Write(new MediaPacket(1, 90 * 41, 90 * 41, true, new byte[] { 0x21, 0x22 }));
        var inter = muxer.Write(new MediaPacket(0, 90 * 80, 90 * 80, false, new byte[] { 0, 0, 0, 1, 0x41 }));

        Assert.True(key.Payload.IsEmpty);
        Assert.Equal("09" + "00000A" + "000028" + "00" + "000000" + "17" + "01" + "000050" + "0000000165" + "00000015", Convert.ToHexString(key.Prefix.Span));
        Assert.Equal("08" + "000004" + "000029" + "00" + "000000" + "AF01" + "2122" + "0000000F", Convert.ToHexString(audio.Prefix.Span));
        Assert.Equal("27010000000000000141", Convert.ToHexString(inter.Prefix.Span.Slice(11, 10)));
        Assert.Equal([true, false, false], new[] { key, audio, inter }.Select(c => c.IsJoinPoint));

        var audioOnly = new FlvMuxer([Aac with { Index = 0 }]);
        Assert.True(audioOnly.Write(new MediaPacket(0, 0, 0, true, new byte[] { 1 })).IsJoinPoint);
        Assert.Equal(0x04, audioOnly.Header.Span[4]);
    }

    [Fact]
    public void Times_past_24_bits_use_the_extension_byte_and_negative_times_read_back()
    {
        var muxer = new FlvMuxer([H264]);
        var late = muxer.Write(new MediaPacket(0, 90L * 0x12345678, 90L * 0x12345678, true, new byte[] { 1 }));
        Assert.Equal("34567812", Convert.ToHexString(late.Prefix.Span.Slice(4, 4)));

        var early = new FlvMuxer([H264]);
        byte[] stream = MuxedOutput.Concat(early.Header, [
            early.Write(new MediaPacket(0, -90 * 80, 0, true, new byte[] { 1 })),
            early.Write(new MediaPacket(0, -90 * 40, 90 * 80, false, new byte[] { 2 })),
            early.Write(new MediaPacket(0, 0, 90 * 40, false, new byte[] { 3 })),
        ]);
        var packets = Feeder.Feed(new FlvDemuxer(), stream, 7).Packets;
        Assert.Equal(["-80 0", "-40 80", "0 40"], packets.Select(p => $"{p.Dts / 90} {p.Pts / 90}"));
    }

    [Fact]
    public void Codecs_FLV_cannot_carry_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new FlvMuxer([new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8 }]));
        Assert.Throws<ArgumentException>(() => new FlvMuxer([new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.Opus }]));
        Assert.Throws<ArgumentException>(() => new FlvMuxer([H264 with { CodecPrivate = default }]));
        Assert.Throws<ArgumentException>(() => new FlvMuxer([H264, H264 with { Index = 1 }]));
        Assert.Throws<ArgumentException>(() => new FlvMuxer([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlvMuxer([H264]).Write(new MediaPacket(1, 0, 0, true, new byte[1])));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Round_trip_of_ffmpeg_FLV_gives_ffprobe_the_same_packets_and_decodes_from_a_later_join_point(string name)
    {
        var source = Feeder.Feed(new FlvDemuxer(), FlvFixtures.Bytes(name), int.MaxValue);
        var muxer = new FlvMuxer(source.Tracks!);
        var chunks = source.Packets.Select(muxer.Write).ToList();
        byte[] bytes = MuxedOutput.Concat(muxer.Header, chunks);
        string whole = Path.Combine(FlvFixtures.TempDirectory, $"roundtrip-{name}");
        File.WriteAllBytes(whole, bytes);

        var expected = Ffprobe.Packets(FlvFixtures.Path(name)).Where(p => p.Size > 0);
        Assert.Equal(
            expected.Select(p => $"{p.StreamIndex} {p.Dts} {p.Pts} {p.Size} {p.Keyframe}"),
            Ffprobe.Packets(whole).Select(p => $"{p.StreamIndex} {p.Dts} {p.Pts} {p.Size} {p.Keyframe}"));
        var sourceStreams = Ffprobe.Streams(FlvFixtures.Path(name));
        var streams = Ffprobe.Streams(whole);
        Assert.Equal(
            sourceStreams.Select(s => $"{s.GetProperty("codec_name")} {Get(s, "width")}x{Get(s, "height")} {Get(s, "sample_rate")} {Get(s, "channels")} {Get(s, "profile")}"),
            streams.Select(s => $"{s.GetProperty("codec_name")} {Get(s, "width")}x{Get(s, "height")} {Get(s, "sample_rate")} {Get(s, "channels")} {Get(s, "profile")}"));
        Assert.Equal("", MediaTools.DecodeErrors(whole));

        // Our reader gets back exactly what went in, from odd chunks.
        var back = Feeder.Feed(new FlvDemuxer(), bytes, 1316);
        Assert.Equal(source.Describe(), back.Describe());
        Assert.Equal(source.Tracks!, back.Tracks!, (a, b) => a.IsCompatibleWith(b) && a.DefaultDuration == b.DefaultDuration);

        // A viewer joining at the second join point: ffmpeg reads it without a "Packet mismatch", from a keyframe.
        var joins = chunks.Select((c, i) => (c, i)).Where(x => x.c.IsJoinPoint).Select(x => x.i).ToList();
        Assert.True(joins.Count >= 2, $"{joins.Count} join points");
        string later = Path.Combine(FlvFixtures.TempDirectory, $"join-{name}");
        File.WriteAllBytes(later, MuxedOutput.Concat(muxer.Header, chunks.Skip(joins[1])));
        Assert.Equal("", MediaTools.DecodeErrors(later));
        Assert.Equal(source.Packets.Count - joins[1], Ffprobe.Packets(later).Count);
        if (source.Tracks!.Any(t => t.Kind == MediaKind.Video))
        {
            var frames = MediaTools.Ffprobe("-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "frame=key_frame", "-show_frames", later);
            Assert.Equal(1, frames.GetProperty("frames").EnumerateArray().First().GetProperty("key_frame").GetInt32());
        }
    }

    [Fact]
    public void H264_and_AAC_from_Matroska_give_ffprobe_the_source_packets()
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), Fixtures.Bytes(Fixtures.H264Aac), int.MaxValue);
        var packets = MuxedOutput.WithDecodeTimes(source.Packets);
        var muxer = new FlvMuxer(source.Tracks!);
        string path = Path.Combine(FlvFixtures.TempDirectory, "from-matroska.flv");
        File.WriteAllBytes(path, MuxedOutput.Concat(muxer.Header, packets.Select(muxer.Write)));

        Assert.Equal(
            packets.Select(p => $"{p.Track} {p.Dts / 90} {p.Pts / 90} {p.Payload.Length} {p.IsKeyframe}"),
            Ffprobe.Packets(path).Select(p => $"{p.StreamIndex} {p.Dts} {p.Pts} {p.Size} {p.Keyframe}"));
        Assert.Equal("", MediaTools.DecodeErrors(path));
    }

    [Fact]
    public void H265_is_written_as_Enhanced_FLV_hvc1_and_read_back_with_its_hvcC()
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), FlvFixtures.Bytes(FlvFixtures.H265AacMkv), int.MaxValue);
        var packets = MuxedOutput.WithDecodeTimes(source.Packets);
        var muxer = new FlvMuxer(source.Tracks!);
        var chunks = packets.Select(muxer.Write).ToList();

        var tags = Tags(muxer.Header.ToArray(), 13);
        Assert.Equal("90" + "68766331", Convert.ToHexString(tags[1].Data, 0, 5)); // key frame, SequenceStart, 'hvc1'
        var firstVideo = chunks[packets.FindIndex(p => p.Track == 0)].Prefix.Span;
        Assert.Equal(0x91, firstVideo[11] & 0xFD); // key frame, CodedFrames or CodedFramesX
        Assert.Contains(chunks.Where((_, i) => packets[i].Track == 0), c => c.Prefix.Span[11] == 0xA1); // inter with composition time

        var demuxer = new FlvDemuxer();
        var back = Feeder.Feed(demuxer, MuxedOutput.Concat(muxer.Header, chunks), 1500);
        var video = back.Tracks![0];
        Assert.Equal(CodecId.H265, video.Codec);
        Assert.Equal("hvc1", video.ContainerCodecName);
        Assert.Equal((192, 108), (video.Width, video.Height));
        Assert.Equal(source.Tracks![0].CodecPrivate.ToArray(), video.CodecPrivate.ToArray());
        Assert.NotNull(HevcDecoderConfiguration.Parse(video.CodecPrivate.Span));
        Assert.Equal(
            packets.Select(p => $"{p.Track} {p.Dts} {p.Pts} {p.IsKeyframe} {Convert.ToHexString(p.Payload.Span)}"),
            back.Packets.Select(p => $"{p.Track} {p.Dts} {p.Pts} {p.IsKeyframe} {Convert.ToHexString(p.Payload.Span)}"));
        Assert.Equal(0, demuxer.DamagedTags + demuxer.UnsupportedTags + demuxer.UntrackedPackets + demuxer.PreviousTagSizeMismatches);
    }

    internal sealed record Tag(byte Type, int Offset, byte[] Data, int End);

    /// <summary>The tags of an FLV body from <paramref name="at"/> (after a PreviousTagSize), checking each tag's PreviousTagSize.</summary>
    internal static List<Tag> Tags(byte[] flv, int at)
    {
        var tags = new List<Tag>();
        while (at + 11 <= flv.Length)
        {
            int size = (flv[at + 1] << 16) | (flv[at + 2] << 8) | flv[at + 3];
            Assert.Equal(11 + size, (int)BinaryPrimitives.ReadUInt32BigEndian(flv.AsSpan(at + 11 + size)));
            tags.Add(new Tag(flv[at], at, flv.AsSpan(at + 11, size).ToArray(), at + 11 + size + 4));
            at += 11 + size + 4;
        }

        return tags;
    }

    private static string Get(System.Text.Json.JsonElement stream, string property) =>
        stream.TryGetProperty(property, out var value) ? value.ToString() : "-";
}
