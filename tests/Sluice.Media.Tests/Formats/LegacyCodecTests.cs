using System.Text.Json;
using Sluice.Media.Codecs.H263;
using Sluice.Media.Codecs.Mpeg4Visual;
using Sluice.Media.Codecs.MpegVideo;
using Sluice.Media.Formats;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.MpegTs;
using Sluice.Media.Tests.Support;

namespace Sluice.Media.Tests.Formats;

/// <summary>
/// The codecs ffserver configs name that are older than H.264 (Sorenson H.263, MPEG-4 Part 2, MPEG-1/2 video,
/// H.263, MS-MPEG-4, WMV, MP2, WMA): each made by ffmpeg in every container it writes them to that Sluice reads, demuxed, then written by
/// every Sluice muxer whose format carries it, and read back by ffprobe and decoded by ffmpeg.
/// </summary>
public sealed class LegacyCodecTests
{
    /// <summary>A source file ffmpeg makes, and the codecs of its tracks in Sluice's order (video first).</summary>
    private sealed record Source(string Name, CodecId[] Codecs, string[] Arguments);

    private const string Picture = "testsrc=size=320x240:rate=25";
    private const string Cif = "testsrc=size=352x288:rate=25";
    private const string Tone = "sine=frequency=440:sample_rate=48000";

    private static readonly Source[] Sources =
    [
        Video("flv1.mkv", CodecId.FLV1, Picture, "flv", "matroska"),
        Video("flv1.flv", CodecId.FLV1, Picture, "flv", "flv"),
        Video("mpeg4.mkv", CodecId.MPEG4, Picture, "mpeg4", "matroska"),
        Video("mpeg4.ts", CodecId.MPEG4, Picture, "mpeg4", "mpegts"),
        Video("mpeg1video.mkv", CodecId.MPEG1Video, Picture, "mpeg1video", "matroska"),
        Video("mpeg1video.ts", CodecId.MPEG1Video, Picture, "mpeg1video", "mpegts"),
        Video("mpeg2video.mkv", CodecId.MPEG2Video, Picture, "mpeg2video", "matroska"),
        Video("mpeg2video.ts", CodecId.MPEG2Video, Picture, "mpeg2video", "mpegts"),
        Video("h263.mkv", CodecId.H263, Cif, "h263", "matroska"),
        Video("h263p.mkv", CodecId.H263, Picture, "h263p", "matroska"),
        Video("msmpeg4v2.mkv", CodecId.MSMPEG4V2, Picture, "msmpeg4v2", "matroska"),
        Video("msmpeg4v3.mkv", CodecId.MSMPEG4V3, Picture, "msmpeg4", "matroska"),
        Video("wmv1.mkv", CodecId.WMV1, Picture, "wmv1", "matroska"),
        Video("wmv2.mkv", CodecId.WMV2, Picture, "wmv2", "matroska"),
        new("mp2.mkv", [CodecId.MP2], ["-f", "lavfi", "-i", Tone, "-t", "2", "-ac", "2", "-c:a", "mp2", "-b:a", "128k", "-f", "matroska"]),
        new("wmav1.mkv", [CodecId.WMAV1], ["-f", "lavfi", "-i", Tone, "-t", "2", "-ac", "2", "-c:a", "wmav1", "-f", "matroska"]),
        new("wmav2.mkv", [CodecId.WMAV2], ["-f", "lavfi", "-i", Tone, "-t", "2", "-ac", "1", "-c:a", "wmav2", "-b:a", "64k", "-f", "matroska"]),
        new("mp2.ts", [CodecId.MP2], ["-f", "lavfi", "-i", Tone, "-t", "2", "-ac", "2", "-c:a", "mp2", "-b:a", "128k", "-f", "mpegts"]),
        new("mpeg2video-mp2.ts", [CodecId.MPEG2Video, CodecId.MP2], [
            "-f", "lavfi", "-i", Picture, "-f", "lavfi", "-i", Tone, "-t", "2", "-c:v", "mpeg2video", "-g", "10",
            "-c:a", "mp2", "-ac", "2", "-f", "mpegts"]),
        new("mpeg4-mp2.mkv", [CodecId.MPEG4, CodecId.MP2], [
            "-f", "lavfi", "-i", Picture, "-f", "lavfi", "-i", Tone, "-t", "2", "-c:v", "mpeg4", "-g", "10",
            "-c:a", "mp2", "-ac", "2", "-f", "matroska"]),
        new("flv1-mp3.flv", [CodecId.FLV1, CodecId.MP3], [
            "-f", "lavfi", "-i", Picture, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2",
            "-c:v", "flv", "-g", "10", "-c:a", "libmp3lame", "-ac", "2", "-f", "flv"]),
    ];

    private static readonly TempFolder Folder = new("sluice-legacy-codecs");

    private static readonly FixtureCache<string> Files = new(name =>
    {
        string path = Folder.File(name);
        MediaTools.Ffmpeg([.. Sources.Single(s => s.Name == name).Arguments, "-y", path]);
        return path;
    });

    /// <summary>Every source with every format Sluice writes progressively that carries all of its codecs.</summary>
    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var source in Sources)
        {
            foreach (var format in OutputFormat.Configurable.Where(f => !f.IsSegmentedOnly && f.MuxedByFfmpeg is null && source.Codecs.All(f.CanCarry)))
            {
                cases.Add(source.Name, format.Name);
            }
        }

        return cases;
    }

    public static TheoryData<string> SourceNames => new(Sources.Select(s => s.Name));

    [Fact]
    public void Every_legacy_codec_has_a_format_that_carries_it_and_ffmpegs_containers_for_it()
    {
        var carried = Cases().Select(c => ((string)c[0], (string)c[1])).ToList();
        Assert.Contains(("flv1.flv", "flv"), carried);
        Assert.Contains(("flv1.mkv", "matroska"), carried);
        Assert.Contains(("mpeg4.mkv", "mpegts"), carried);
        Assert.Contains(("mpeg4.ts", "mp4"), carried);
        Assert.Contains(("mpeg4.ts", "matroska"), carried);
        Assert.Contains(("mpeg2video.ts", "mp4"), carried);
        Assert.Contains(("mpeg1video.mkv", "mpegts"), carried);
        Assert.Contains(("h263.mkv", "matroska"), carried);
        Assert.Contains(("mp2.mkv", "mpegts"), carried);
        Assert.Contains(("mp2.ts", "matroska"), carried);
        Assert.DoesNotContain(carried, c => c.Item1.StartsWith("h263", StringComparison.Ordinal) && c.Item2 != "matroska");
        Assert.DoesNotContain(("mp2.ts", "mp4"), carried); // ffmpeg reads MPEG audio in MP4 as mp3
        Assert.DoesNotContain(("mp2.ts", "flv"), carried); // FLV has no Layer II
    }

    [Theory]
    [MemberData(nameof(SourceNames))]
    public void A_demuxed_source_has_ffprobes_codecs_sizes_rates_packets_and_keyframes(string name)
    {
        var source = Sources.Single(s => s.Name == name);
        string path = Files.Get(name);
        var demuxed = Demux(name, File.ReadAllBytes(path), chunkSize: 1000);
        var tracks = demuxed.Tracks!;
        Assert.Equal(source.Codecs, tracks.Select(t => t.Codec));
        AssertMatches(tracks, path);

        var probed = Ffprobe.Packets(path);
        var streams = ByKind(Ffprobe.Streams(path));
        for (int t = 0; t < tracks.Count; t++)
        {
            int index = streams[t].GetProperty("index").GetInt32();
            var expected = probed.Where(p => p.StreamIndex == index).ToList();
            var actual = demuxed.Packets.Where(p => p.Track == t).ToList();
            Assert.Equal(expected.Select(p => p.Size), actual.Select(p => p.Payload.Length));
            if (tracks[t].Codec == CodecId.H263)
            {
                // ffmpeg's Matroska reader flags every V_MS/VFW/FOURCC block a keyframe; the file flags the intra
                // pictures (-g 10), and so does Sluice.
                Assert.Equal(actual.Select((_, i) => i % 10 == 0), actual.Select(p => p.IsKeyframe));
            }
            else
            {
                Assert.Equal(expected.Select(p => p.Keyframe), actual.Select(p => p.IsKeyframe || tracks[t].Kind == MediaKind.Audio));
            }
        }

        // Read whole, and in small odd pieces, the same.
        Assert.Equal(demuxed.Describe(), Demux(name, File.ReadAllBytes(path), chunkSize: int.MaxValue).Describe());
        Assert.Equal(demuxed.Describe(), Demux(name, File.ReadAllBytes(path), chunkSize: 333).Describe());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Written_by_Sluice_it_is_read_by_ffprobe_with_its_codec_and_decoded_cleanly_also_from_a_later_join_point(string name, string formatName)
    {
        var format = OutputFormat.Find(formatName)!;
        var demuxed = Demux(name, File.ReadAllBytes(Files.Get(name)), chunkSize: 4096);
        var tracks = demuxed.Tracks!;
        var packets = name.EndsWith(".mkv", StringComparison.Ordinal) ? MuxedOutput.WithDecodeTimes(demuxed.Packets) : demuxed.Packets;
        using var muxer = format.CreateMuxer(tracks);
        var chunks = packets.Select(muxer.Write).ToList();

        string whole = Folder.File($"{name}-as{format.Extensions[0]}");
        File.WriteAllBytes(whole, MuxedOutput.Concat(muxer.Header, chunks));
        AssertMatches(tracks, whole);
        Assert.Equal(packets.Count(p => p.Track == 0), Ffprobe.Packets(whole).Count(p => p.StreamIndex == ByKind(Ffprobe.Streams(whole))[0].GetProperty("index").GetInt32()));
        Assert.Equal("", MediaTools.DecodeErrors(whole));

        var joins = chunks.Select((c, i) => (c, i)).Where(x => x.c.IsJoinPoint).Select(x => x.i).ToList();
        Assert.True(joins.Count >= 2, $"{joins.Count} join points");
        string later = Folder.File($"{name}-joined{format.Extensions[0]}");
        File.WriteAllBytes(later, MuxedOutput.Concat(muxer.Header, chunks.Skip(joins[1])));
        Assert.Equal("", MediaTools.DecodeErrors(later));
    }

    [Fact]
    public void Mpeg4_from_Matroska_gets_its_video_object_layer_before_every_keyframe_in_MPEG_TS()
    {
        var demuxed = Demux("mpeg4.mkv", File.ReadAllBytes(Files.Get("mpeg4.mkv")), chunkSize: 4096);
        var track = demuxed.Tracks![0];
        Assert.True(Mpeg4VideoObjectLayer.TryParse(track.CodecPrivate.Span, out var layer));
        Assert.Equal((320, 240), (layer.Width, layer.Height));
        Assert.Equal(0, Mpeg4VideoObjectLayer.HeaderLength(demuxed.Packets[0].Payload.Span)); // ffmpeg's Matroska keeps it out of the frames

        using var muxer = new MpegTsMuxer([track]);
        var packets = MuxedOutput.WithDecodeTimes(demuxed.Packets);
        var output = MuxedOutput.Concat(muxer.Header, packets.Select(muxer.Write).ToList());
        var again = Feeder.Feed(new MpegTsDemuxer(), output, 1316);
        Assert.Equal(CodecId.MPEG4, again.Tracks![0].Codec);
        Assert.Equal(track.CodecPrivate.ToArray(), again.Tracks[0].CodecPrivate.ToArray());
        var keyframes = again.Packets.Where(p => p.IsKeyframe).ToList();
        Assert.Equal(packets.Count(p => p.IsKeyframe), keyframes.Count);
        Assert.All(keyframes, k => Assert.True(k.Payload.Span.StartsWith(track.CodecPrivate.Span)));
        Assert.All(again.Packets.Where(p => !p.IsKeyframe), p => Assert.Equal(0, Mpeg4VideoObjectLayer.HeaderLength(p.Payload.Span)));
    }

    [Fact]
    public void Matroska_writes_Sorenson_H263_H263_and_WMV_as_Video_for_Windows_with_their_FourCC_and_data()
    {
        foreach (var (name, fourCc) in new[] { ("flv1.flv", "FLV1"), ("h263.mkv", "H263") })
        {
            var tracks = Demux(name, File.ReadAllBytes(Files.Get(name)), chunkSize: 4096).Tracks!;
            var stored = MatroskaCodecs.CodecPrivateOf(tracks[0]);
            Assert.Equal(MatroskaCodecs.VideoForWindows, MatroskaCodecs.ToMatroska(tracks[0].Codec));
            Assert.Equal(fourCc, System.Text.Encoding.ASCII.GetString(stored.Span.Slice(16, 4)));
            Assert.Equal(tracks[0].Codec, MatroskaCodecs.FromVideoForWindows(stored.Span, out var own));
            Assert.True(own.IsEmpty);
        }

        // WMV2 has 4 bytes of its own after the header, which biSize counts.
        var wmv2 = Demux("wmv2.mkv", File.ReadAllBytes(Files.Get("wmv2.mkv")), chunkSize: 4096).Tracks![0];
        Assert.Equal(4, wmv2.CodecPrivate.Length);
        Assert.Equal(44, BitConverter.ToInt32(MatroskaCodecs.CodecPrivateOf(wmv2).Span));

        Assert.Equal(CodecId.Unknown, MatroskaCodecs.FromVideoForWindows(new byte[39], out _));
    }

    [Fact]
    public void The_first_frame_of_each_names_its_size_and_no_prefix_of_it_throws()
    {
        var flv1 = Demux("flv1.flv", File.ReadAllBytes(Files.Get("flv1.flv")), chunkSize: 4096).Packets[0].Payload.ToArray();
        Assert.True(SorensonPictureHeader.TryParse(flv1, out var picture));
        Assert.Equal((320, 240, true), (picture.Width, picture.Height, picture.IsIntra));

        var mpeg2 = Demux("mpeg2video.ts", File.ReadAllBytes(Files.Get("mpeg2video.ts")), chunkSize: 4096).Packets[0].Payload.ToArray();
        Assert.True(MpegVideoSequence.TryParse(mpeg2, out var sequence));
        Assert.Equal((320, 240, CodecId.MPEG2Video), (sequence.Width, sequence.Height, sequence.Codec));
        Assert.True(MpegVideoSequence.IsIntra(mpeg2));

        var mpeg1 = Demux("mpeg1video.ts", File.ReadAllBytes(Files.Get("mpeg1video.ts")), chunkSize: 4096).Packets[0].Payload.ToArray();
        Assert.True(MpegVideoSequence.TryParse(mpeg1, out sequence));
        Assert.Equal(CodecId.MPEG1Video, sequence.Codec);

        var mpeg4 = Demux("mpeg4.ts", File.ReadAllBytes(Files.Get("mpeg4.ts")), chunkSize: 4096).Packets[0].Payload.ToArray();
        Assert.True(Mpeg4VideoObjectLayer.HeaderLength(mpeg4) > 0);
        Assert.True(Mpeg4VideoObjectLayer.IsIntra(mpeg4));

        foreach (var frame in new[] { flv1, mpeg2, mpeg1, mpeg4 })
        {
            for (int n = 0; n < Math.Min(frame.Length, 200); n++)
            {
                var prefix = frame.AsSpan(0, n);
                SorensonPictureHeader.TryParse(prefix, out _);
                MpegVideoSequence.TryParse(prefix, out _);
                MpegVideoSequence.IsIntra(prefix);
                Mpeg4VideoObjectLayer.TryParse(prefix, out _);
                Mpeg4VideoObjectLayer.IsIntra(prefix);
                Assert.InRange(Mpeg4VideoObjectLayer.HeaderLength(prefix), 0, n);
                Assert.InRange(MpegVideoSequence.HeaderLength(prefix), 0, n);
            }
        }
    }

    [Theory]
    [InlineData("mpeg2video-mp2.ts")]
    [InlineData("mpeg4.ts")]
    public void Demuxing_and_muxing_MPEG_TS_allocates_nothing_per_packet_once_warm(string name)
    {
        byte[] input = File.ReadAllBytes(Files.Get(name));
        var tracks = Demux(name, input, chunkSize: 4096).Tracks!;
        using var muxer = new MpegTsMuxer(tracks);
        var sink = new MuxingSink(muxer);
        var demuxer = new MpegTsDemuxer();
        Feeder.Feed(demuxer, input, input.Length, sink, complete: false); // warm: tracks announced, buffers grown

        long before = GC.GetAllocatedBytesForCurrentThread();
        Feeder.Feed(demuxer, input, input.Length, sink, complete: false); // the same stream again, on the same reader
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(sink.Packets > 50, $"{sink.Packets} packets");
        Assert.True(allocated < 1024, $"{allocated} bytes for {sink.Packets / 2} packets (the feeder's own segment is the only allocation)");
    }

    private sealed class MuxingSink(IMuxer muxer) : IPacketSink
    {
        public int Packets { get; private set; }

        public void OnTracks(IReadOnlyList<TrackInfo> tracks)
        {
        }

        public void Accept(MediaPacket packet)
        {
            Packets++;
            muxer.Write(packet).Release();
            packet.Release();
        }
    }

    private static Source Video(string name, CodecId codec, string picture, string encoder, string format) =>
        new(name, [codec], ["-f", "lavfi", "-i", picture, "-t", "2", "-c:v", encoder, "-g", "10", "-f", format]);

    private static PacketRecorder Demux(string name, byte[] bytes, int chunkSize)
    {
        IDemuxer demuxer = Path.GetExtension(name) switch
        {
            ".ts" => new MpegTsDemuxer(),
            ".flv" => new FlvDemuxer(),
            _ => new MatroskaDemuxer(),
        };
        return Feeder.Feed(demuxer, bytes, chunkSize);
    }

    /// <summary>ffprobe's streams, video first (Sluice's FLV and MPEG-TS readers put video first too).</summary>
    private static List<JsonElement> ByKind(List<JsonElement> streams) =>
        [.. streams.OrderBy(s => s.GetProperty("codec_type").GetString() == "video" ? 0 : 1)];

    private static void AssertMatches(IReadOnlyList<TrackInfo> tracks, string path) =>
        Ffprobe.AssertStreamsMatch(tracks, ByKind(Ffprobe.Streams(path)));
}
