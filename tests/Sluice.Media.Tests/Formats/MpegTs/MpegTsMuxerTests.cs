using System.Runtime.InteropServices;
using Sluice.Media.Formats.Adts;
using Sluice.Media.Formats.MpegTs;

namespace Sluice.Media.Tests.Formats.MpegTs;

/// <summary>The writer: ffmpeg's TS read by our reader, written by our writer, checked with the real ffprobe and ffmpeg.</summary>
public sealed class MpegTsMuxerTests
{
    public static TheoryData<string> Names => TsFixtures.Names;

    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 64, Height = 48 };

    internal static (List<TrackInfo> Tracks, List<MediaPacket> Packets) Demux(string name)
    {
        var recorder = Feeder.Feed(new MpegTsDemuxer(), TsFixtures.Bytes(name), 4096);
        return ([.. recorder.Tracks!], recorder.Packets);
    }

    private static (byte[] Bytes, List<MuxedChunk> Chunks) Mux(IMuxer muxer, IEnumerable<MediaPacket> packets)
    {
        var output = new MemoryStream();
        output.Write(muxer.Header.Span);
        var chunks = new List<MuxedChunk>();
        foreach (var packet in packets)
        {
            var chunk = muxer.Write(packet);
            chunks.Add(chunk);
            output.Write(chunk.Prefix.Span);
            output.Write(chunk.Payload.Span);
        }

        return (output.ToArray(), chunks);
    }

    private static long Relative(long value, long first)
    {
        const long wrap = 1L << 33;
        long d = value - first;
        while (d < -wrap / 2)
        {
            d += wrap;
        }

        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Round_trip_keeps_what_ffprobe_sees_and_decodes_clean(string name)
    {
        var (tracks, packets) = Demux(name);
        var muxer = new MpegTsMuxer(tracks);
        var (bytes, chunks) = Mux(muxer, packets);
        Assert.All(chunks, c => Assert.True(c.Payload.IsEmpty));
        Assert.Equal(0, bytes.Length % 188);
        string path = TsFixtures.TempFile($"roundtrip-{name}.ts");
        File.WriteAllBytes(path, bytes);

        Assert.Equal("", MediaTools.DecodeErrors(path));
        var source = Ffprobe.Packets(TsFixtures.Path_(name));
        var ours = Ffprobe.Packets(path);
        var sourceStreams = Ffprobe.Streams(TsFixtures.Path_(name));
        var ourStreams = Ffprobe.Streams(path);
        Assert.Equal(sourceStreams.Count, ourStreams.Count);
        for (int t = 0; t < tracks.Count; t++)
        {
            foreach (string property in new[] { "codec_name", "width", "height", "sample_rate", "channels", "profile" })
            {
                Assert.Equal(
                    sourceStreams[t].TryGetProperty(property, out var a) ? a.ToString() : null,
                    ourStreams[t].TryGetProperty(property, out var b) ? b.ToString() : null);
            }

            var expected = source.Where(p => p.StreamIndex == t).ToList();
            var actual = ours.Where(p => p.StreamIndex == t).ToList();
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                string what = $"track {t} packet {i}";
                Assert.True(Relative(expected[i].Pts, expected[0].Dts) == Relative(actual[i].Pts, actual[0].Dts), $"{what}: pts {actual[i].Pts}, source {expected[i].Pts}");
                Assert.True(Relative(expected[i].Dts, expected[0].Dts) == Relative(actual[i].Dts, actual[0].Dts), $"{what}: dts {actual[i].Dts}, source {expected[i].Dts}");
                Assert.True(expected[i].Keyframe == actual[i].Keyframe, $"{what}: keyframe {actual[i].Keyframe}, source {expected[i].Keyframe}");
                if (tracks[t].Kind == MediaKind.Audio)
                {
                    Assert.True(expected[i].Size == actual[i].Size, $"{what}: {actual[i].Size} bytes, source {expected[i].Size}");
                }
            }
        }

        // And our reader reads our output back to the same packets (per track: a video PES of unknown length
        // is complete only when the next one starts, so tracks interleave differently). Opus start trims are
        // not written, so the OpusHead read back has no pre-skip.
        var again = Feeder.Feed(new MpegTsDemuxer(), bytes, 1316);
        static string Line(MediaPacket p) => $"{p.Dts} {p.Pts} {p.IsKeyframe} {p.Duration} {Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(p.Payload.Span))}";
        for (int t = 0; t < tracks.Count; t++)
        {
            Assert.Equal(packets.Where(p => p.Track == t).Select(Line), again.Packets.Where(p => p.Track == t).Select(Line));
        }

        static TrackInfo Comparable(TrackInfo t) => t.Codec == CodecId.Opus
            ? t with { ContainerCodecName = null, CodecPrivate = t.CodecPrivate[..10], CodecDelayNs = 0 }
            : t with { ContainerCodecName = null };
        Assert.Equal(tracks.Select(Comparable).Select(Describe), again.Tracks!.Select(Comparable).Select(Describe));
    }

    private static string Describe(TrackInfo t) => $"{t} {Convert.ToHexString(t.CodecPrivate.Span)} {t.CodecDelayNs} {t.SeekPreRollNs}";

    [Theory]
    [MemberData(nameof(Names))]
    public void A_viewer_joining_at_any_join_point_decodes_clean(string name)
    {
        var (tracks, packets) = Demux(name);
        var muxer = new MpegTsMuxer(tracks);
        var chunks = packets.Select(muxer.Write).ToList();
        var joins = Enumerable.Range(0, chunks.Count).Where(i => chunks[i].IsJoinPoint).ToList();
        Assert.True(joins.Count >= 2, $"{joins.Count} join points");
        bool video = tracks.Exists(t => t.Kind == MediaKind.Video);
        foreach (int i in joins)
        {
            Assert.True(!video || (tracks[packets[i].Track].Kind == MediaKind.Video && packets[i].IsKeyframe));
            Assert.Equal(Convert.ToHexString(muxer.Header.Span), Convert.ToHexString(chunks[i].Prefix.Span[..376]));
        }

        if (!video)
        {
            for (int k = 1; k < joins.Count; k++)
            {
                Assert.InRange(packets[joins[k]].Dts - packets[joins[k - 1]].Dts, MpegTsMuxer.AudioJoinIntervalTicks, MpegTsMuxer.AudioJoinIntervalTicks + 9000);
            }
        }

        int join = joins[1];
        var output = new MemoryStream();
        output.Write(muxer.Header.Span);
        foreach (var chunk in chunks.Skip(join))
        {
            output.Write(chunk.Prefix.Span);
        }

        string path = TsFixtures.TempFile($"join-{name}.ts");
        File.WriteAllBytes(path, output.ToArray());
        Assert.Equal("", MediaTools.DecodeErrors(path));
        var probed = Ffprobe.Packets(path);
        Assert.True(probed[0].Keyframe);
    }

    [Fact]
    public void Only_ts_codecs_are_accepted()
    {
        Assert.Throws<ArgumentException>(() => new MpegTsMuxer([Vp8]));
        Assert.Throws<ArgumentException>(() => new MpegTsMuxer([]));
        Assert.Throws<ArgumentException>(() => new MpegTsMuxer([new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, CodecPrivate = new byte[] { 1, 2, 3 } }]));
        Assert.Throws<ArgumentException>(() => new MpegTsMuxer([new TrackInfo { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.MP3 }]));
        Assert.Equal("video/mp2t", new MpegTsMuxer([new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.MP3, SampleRate = 44100, Channels = 2 }]).ContentType);
    }

    [Fact]
    public void Packets_after_a_keyframe_carry_no_parameter_sets_and_chunks_stay_immutable()
    {
        var (tracks, packets) = Demux("h264-aac");
        var muxer = new MpegTsMuxer(tracks);
        var first = muxer.Write(packets[0]);
        byte[] copy = first.Prefix.ToArray();
        foreach (var packet in packets.Skip(1))
        {
            muxer.Write(packet);
        }

        Assert.Equal(Convert.ToHexString(copy), Convert.ToHexString(first.Prefix.Span));
    }

    [Fact]
    public void Adts_writer_keeps_the_frames_and_does_not_copy_them()
    {
        var (tracks, packets) = Demux("aac-only");
        var muxer = new AdtsMuxer(tracks);
        Assert.Equal("audio/aac", muxer.ContentType);
        var (bytes, chunks) = Mux(muxer, packets);
        Assert.All(chunks, c => Assert.True(c.IsJoinPoint));
        Assert.True(MemoryMarshal.TryGetArray(chunks[3].Payload, out var a));
        Assert.True(MemoryMarshal.TryGetArray(packets[3].Payload, out var b));
        Assert.Same(b.Array, a.Array);

        string path = TsFixtures.TempFile("out.aac");
        File.WriteAllBytes(path, bytes);
        Assert.Equal("", MediaTools.DecodeErrors(path));
        var probed = Ffprobe.Packets(path);
        Assert.Equal(packets.Count, probed.Count);
        Assert.Equal(packets.Select(p => p.Payload.Length + 7), probed.Select(p => p.Size));
        Assert.Throws<ArgumentException>(() => new AdtsMuxer([Vp8]));
        var (videoTracks, _) = Demux("h264-aac");
        Assert.Throws<ArgumentException>(() => new AdtsMuxer(videoTracks));
    }
}
