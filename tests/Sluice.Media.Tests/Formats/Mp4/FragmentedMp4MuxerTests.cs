using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Tests.Formats.Flv;
using Sluice.Media.Formats.Mp4;

namespace Sluice.Media.Tests.Formats.Mp4;

public sealed class FragmentedMp4MuxerTests
{
    /// <summary>The ffmpeg files whose codecs MP4 carries.</summary>
    public static TheoryData<string> Files => new([Fixtures.H264Aac, Fixtures.Opus, Fixtures.LiveVp9Opus]);

    private static readonly byte[] Avcc = [1, 0x64, 0x00, 0x1E, 0xFF, 0xE0, 0x00];
    private static readonly TrackInfo H264 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 64, Height = 48, CodecPrivate = Avcc };
    private static readonly TrackInfo Aac = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, Channels = 2, CodecPrivate = new byte[] { 0x11, 0x90 } };

    private static MediaPacket Video(long ms, bool key, long ctsMs = 0) => new(0, ms * 90, (ms + ctsMs) * 90, key, new byte[] { 0, 0, 0, 1, 0x65 });

    private static MediaPacket Audio(int track, long ms) => new(track, ms * 90, ms * 90, true, new byte[] { 4, 5, 6 });

    [Fact]
    public void Each_packet_is_one_moof_and_mdat_whose_payload_is_the_packet_memory()
    {
        var muxer = new FragmentedMp4Muxer([H264, Aac]);
        var packet = Video(40, key: false, ctsMs: 80);
        muxer.Write(Video(0, key: true));
        var chunk = muxer.Write(packet);

        Assert.Equal(FragmentedMp4Muxer.FragmentOverhead, chunk.Prefix.Length);
        Assert.Equal(112, FragmentedMp4Muxer.FragmentOverhead);
        Assert.True(MemoryMarshal.TryGetArray(chunk.Payload, out var a));
        Assert.True(MemoryMarshal.TryGetArray(packet.Payload, out var b));
        Assert.Same(b.Array, a.Array);
        Assert.False(chunk.IsJoinPoint);

        var p = chunk.Prefix.Span;
        Assert.Equal("moof", Type(p, 0));
        Assert.Equal(104u, BinaryPrimitives.ReadUInt32BigEndian(p));
        Assert.Equal("mfhd", Type(p, 8));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(p[20..])); // second fragment
        Assert.Equal("traf", Type(p, 24));
        Assert.Equal("tfhd", Type(p, 32));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(p[44..])); // track_ID
        Assert.Equal("tfdt", Type(p, 48));
        Assert.Equal(40UL * 90, BinaryPrimitives.ReadUInt64BigEndian(p[60..]));
        Assert.Equal("trun", Type(p, 68));
        Assert.Equal(1, p[76]); // version 1: signed composition offsets
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(p[80..])); // one sample
        Assert.Equal(112, BinaryPrimitives.ReadInt32BigEndian(p[84..])); // data offset: right after the mdat header
        Assert.Equal(40u * 90, BinaryPrimitives.ReadUInt32BigEndian(p[88..])); // duration: the last step
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32BigEndian(p[92..]));
        Assert.Equal(0x01010000u, BinaryPrimitives.ReadUInt32BigEndian(p[96..])); // non-sync
        Assert.Equal(80 * 90, BinaryPrimitives.ReadInt32BigEndian(p[100..]));
        Assert.Equal("mdat", Type(p, 104));
        Assert.Equal(13u, BinaryPrimitives.ReadUInt32BigEndian(p[104..]));
    }

    [Fact]
    public void Join_points_are_video_keyframes_or_every_audio_packet_without_video()
    {
        var muxer = new FragmentedMp4Muxer([H264, Aac]);
        var chunks = new[] { muxer.Write(Audio(1, 0)), muxer.Write(Video(0, true)), muxer.Write(Audio(1, 21)), muxer.Write(Video(40, false)), muxer.Write(Video(80, true)) };
        Assert.Equal([false, true, false, false, true], chunks.Select(c => c.IsJoinPoint));
        Assert.Equal("video/mp4", muxer.ContentType);

        var audioOnly = new FragmentedMp4Muxer([Aac with { Index = 0 }]);
        Assert.All(Enumerable.Range(0, 10).Select(i => audioOnly.Write(Audio(0, i * 21))), c => Assert.True(c.IsJoinPoint));
        Assert.Equal("audio/mp4", audioOnly.ContentType);
        Assert.Equal(48000, audioOnly.TimescaleOf(0));
    }

    [Fact]
    public void Audio_durations_come_from_the_codec_and_times_from_the_sample_rate()
    {
        var muxer = new FragmentedMp4Muxer([Aac with { Index = 0 }]);
        var p = muxer.Write(new MediaPacket(0, 1920 * 7, 1920 * 7, true, new byte[] { 1 })).Prefix.Span;
        Assert.Equal(1024UL * 7, BinaryPrimitives.ReadUInt64BigEndian(p[60..])); // 1920 ticks = 1024 samples at 48 kHz
        Assert.Equal(1024u, BinaryPrimitives.ReadUInt32BigEndian(p[88..]));
        Assert.Equal(0x02000000u, BinaryPrimitives.ReadUInt32BigEndian(p[96..]));
    }

    [Fact]
    public void A_negative_first_decode_time_moves_every_time_later()
    {
        var muxer = new FragmentedMp4Muxer([H264]);
        var first = muxer.Write(new MediaPacket(0, -3000, 0, true, new byte[] { 1 })).Prefix.Span;
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64BigEndian(first[60..]));
        Assert.Equal(3000, BinaryPrimitives.ReadInt32BigEndian(first[100..]));
        var second = muxer.Write(new MediaPacket(0, 0, 6000, false, new byte[] { 1 })).Prefix.Span;
        Assert.Equal(3000UL, BinaryPrimitives.ReadUInt64BigEndian(second[60..]));
    }

    [Fact]
    public void Codecs_MP4_cannot_carry_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new FragmentedMp4Muxer([new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8 }]));
        Assert.Throws<ArgumentException>(() => new FragmentedMp4Muxer([new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.Vorbis }]));
        Assert.Throws<ArgumentException>(() => new FragmentedMp4Muxer([H264 with { CodecPrivate = default }]));
        Assert.Throws<ArgumentException>(() => new FragmentedMp4Muxer([]));
        Assert.Throws<ArgumentException>(() => new FragmentedMp4Muxer([Aac]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FragmentedMp4Muxer([H264]).Write(Audio(1, 0)));
    }

    [Fact]
    public void Codecs_parameter_names_each_track()
    {
        Assert.Equal("avc1.64001e,mp4a.40.2", new FragmentedMp4Muxer([H264, Aac]).Codecs);
        Assert.Equal("opus", new FragmentedMp4Muxer([new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.Opus, SampleRate = 48000, Channels = 2 }]).Codecs);
        Assert.Equal("mp4a.6b", new FragmentedMp4Muxer([new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.MP3, SampleRate = 44100, Channels = 2 }]).Codecs);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Output_has_the_source_packets_for_ffprobe_and_decodes_cleanly_also_from_a_later_join_point(string name)
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), Fixtures.Bytes(name), int.MaxValue);
        CheckWithFfprobe(name, source.Tracks!, MuxedOutput.WithDecodeTimes(source.Packets));
    }

    /// <summary>The FLV fixtures but Sorenson H.263, which MP4 has no place for.</summary>
    public static TheoryData<string> FlvFiles => new(FlvFixtures.AllFlv.Where(n => n != FlvFixtures.Flv1Only));

    [Theory]
    [MemberData(nameof(FlvFiles))]
    public void Packets_from_ffmpeg_FLV_with_their_own_decode_times_give_ffprobe_the_same_packets(string name)
    {
        var source = Feeder.Feed(new FlvDemuxer(), FlvFixtures.Bytes(name), int.MaxValue);
        CheckWithFfprobe(name, source.Tracks!, source.Packets);
    }

    [Fact]
    public void H265_is_written_as_hvc1_with_its_hvcC()
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), FlvFixtures.Bytes(FlvFixtures.H265AacMkv), int.MaxValue);
        var muxer = new FragmentedMp4Muxer(source.Tracks!);
        Assert.StartsWith("hvc1.1.6.L", muxer.Codecs, StringComparison.Ordinal);
        CheckWithFfprobe(FlvFixtures.H265AacMkv, source.Tracks!, MuxedOutput.WithDecodeTimes(source.Packets));
        string path = Path.Combine(FlvFixtures.TempDirectory, $"fmp4-{FlvFixtures.H265AacMkv}.mp4");
        Assert.Equal("hvc1", Ffprobe.Streams(path)[0].GetProperty("codec_tag_string").GetString());
    }

    private static void CheckWithFfprobe(string name, IReadOnlyList<TrackInfo> tracks, List<MediaPacket> packets)
    {
        var muxer = new FragmentedMp4Muxer(tracks);
        var chunks = packets.Select(muxer.Write).ToList();
        string whole = Path.Combine(FlvFixtures.TempDirectory, $"fmp4-{name}.mp4");
        File.WriteAllBytes(whole, MuxedOutput.Concat(muxer.Header, chunks));

        Ffprobe.AssertStreamsMatch(tracks, Ffprobe.Streams(whole));

        // Per stream, ffprobe reads the packets we wrote: same sizes, keyframes, and times relative to the first.
        var probed = Ffprobe.Packets(whole);
        for (int t = 0; t < tracks.Count; t++)
        {
            int timescale = muxer.TimescaleOf(t);
            long Scale(long ticks) => (long)Math.Round(ticks * (double)timescale / MediaTime.TicksPerSecond, MidpointRounding.AwayFromZero);
            var expected = packets.Where(p => p.Track == t).ToList();
            var actual = probed.Where(p => p.StreamIndex == t).ToList();
            Assert.Equal(expected.Count, actual.Count);
            long offset = packets[0].Dts < 0 ? -packets[0].Dts : 0;
            long firstDts = Scale(expected[0].Dts + offset);
            Assert.Equal(
                expected.Select(p => $"{Scale(p.Pts + offset) - firstDts} {Scale(p.Dts + offset) - firstDts} {p.Payload.Length} {p.IsKeyframe || tracks[t].Kind == MediaKind.Audio}"),
                actual.Select(p => $"{p.Pts - actual[0].Dts} {p.Dts - actual[0].Dts} {p.Size} {p.Keyframe}"));
        }

        Assert.Equal("", MediaTools.DecodeErrors(whole));

        var joins = chunks.Select((c, i) => (c, i)).Where(x => x.c.IsJoinPoint).Select(x => x.i).ToList();
        Assert.True(joins.Count >= 2, $"{joins.Count} join points");
        string later = Path.Combine(FlvFixtures.TempDirectory, $"fmp4-join-{name}.mp4");
        File.WriteAllBytes(later, MuxedOutput.Concat(muxer.Header, chunks.Skip(joins[1])));
        Assert.Equal("", MediaTools.DecodeErrors(later));
        if (tracks.Any(t => t.Kind == MediaKind.Video))
        {
            var frames = MediaTools.Ffprobe("-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "frame=key_frame", "-show_frames", later);
            Assert.Equal(1, frames.GetProperty("frames").EnumerateArray().First().GetProperty("key_frame").GetInt32());
        }
    }

    private static string Type(ReadOnlySpan<byte> box, int at) => Encoding.ASCII.GetString(box.Slice(at + 4, 4));
}
