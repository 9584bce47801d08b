using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Ogg;

namespace Sluice.Media.Tests.Formats.Ogg;

public sealed class OggMuxerTests
{
    /// <summary>The sources every round-trip test runs on.</summary>
    public static TheoryData<string> Sources => new(MuxerSources.Vorbis, MuxerSources.Opus, MuxerSources.TheoraVorbis, MuxerSources.TheoraLarge);

    private static readonly TrackInfo OpusTrack = new()
    {
        Index = 0,
        Kind = MediaKind.Audio,
        Codec = CodecId.Opus,
        SampleRate = 48000,
        Channels = 2,
        CodecPrivate = MakeOpusHead(channels: 2, preSkip: 312),
    };

    internal sealed record Muxed(IReadOnlyList<TrackInfo> Tracks, List<MediaPacket> Packets, OggMuxer Muxer, List<MuxedChunk> Chunks, byte[] Bytes, string Path);

    internal static Muxed Mux(string source)
    {
        var recorder = Feeder.Feed(new MatroskaDemuxer(), MuxerSources.Bytes(source), int.MaxValue);
        var muxer = new OggMuxer(recorder.Tracks!);
        var chunks = recorder.Packets.Select(muxer.Write).ToList();
        byte[] bytes = MuxedOutput.Concat(muxer.Header, chunks);
        string path = MuxerSources.Output($"{source}.ogg");
        File.WriteAllBytes(path, bytes);
        return new Muxed(recorder.Tracks!, recorder.Packets, muxer, chunks, bytes, path);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Ffmpeg_reads_the_same_streams_and_packets_and_decodes_them_cleanly(string source)
    {
        var m = Mux(source);
        Assert.Equal("", MediaTools.DecodeErrors(m.Path));

        var streams = Ffprobe.Streams(m.Path);
        Assert.Equal(m.Tracks.Count, streams.Count);
        for (int i = 0; i < m.Tracks.Count; i++)
        {
            // Ogg has no track order of its own: ffmpeg numbers streams in the order of their first pages (video first)
            var stream = streams.Single(s => s.GetProperty("codec_name").GetString() == CodecIds.FfmpegName(m.Tracks[i].Codec));
            if (m.Tracks[i].Kind == MediaKind.Video)
            {
                Assert.Equal(m.Tracks[i].Width, stream.GetProperty("width").GetInt32());
                Assert.Equal(m.Tracks[i].Height, stream.GetProperty("height").GetInt32());
            }
            else
            {
                Assert.Equal(m.Tracks[i].Channels, stream.GetProperty("channels").GetInt32());
                Assert.Equal(m.Tracks[i].SampleRate.ToString(CultureInfo.InvariantCulture), stream.GetProperty("sample_rate").GetString());
            }
        }

        // every packet, in order per track, same size and the same time (packet times are milliseconds; Opus's
        // CodecDelay of 6.5 ms is rounded to 7 ms in the source; Theora times are whole frames)
        var probed = ProbePackets(m.Path);
        for (int i = 0; i < m.Tracks.Count; i++)
        {
            string codec = CodecIds.FfmpegName(m.Tracks[i].Codec);
            var ours = probed.Where(p => p.Codec == codec).ToList();
            var source1 = m.Packets.Where(p => p.Track == i).ToList();
            Assert.Equal(source1.Select(p => p.Payload.Length), ours.Select(p => p.Size));
            double tolerance = m.Tracks[i].Kind == MediaKind.Video ? FrameTicks(m.Tracks[i]) / 2 : 90;
            for (int k = 0; k < ours.Count; k++)
            {
                Assert.True(Math.Abs((ours[k].Seconds * 90_000) - source1[k].Pts) <= tolerance, $"{codec} packet {k}: {ours[k].Seconds} s, source {source1[k].Pts / 90_000.0} s");
            }
        }

        double sourceDuration = FormatDuration(MuxerSources.PathOf(source));
        double duration = FormatDuration(m.Path);
        Assert.True(Math.Abs(duration - sourceDuration) < 0.03, $"duration {duration} s, source {sourceDuration} s");
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Pages_are_well_formed_one_packet_each_with_the_source_payloads(string source)
    {
        var m = Mux(source);
        var pages = OggPageReader.Pages(m.Bytes);
        Assert.All(pages, p => Assert.True(p.CrcValid, $"CRC of page {p.Sequence} of {p.Serial:X8} at byte {p.Offset}"));

        // beginning-of-stream pages first, one per track, video first; sequence numbers count from 0 per stream
        int streams = m.Tracks.Count;
        Assert.All(pages.Take(streams), p => Assert.True(p.BeginsStream));
        Assert.All(pages.Skip(streams), p => Assert.False(p.BeginsStream));
        Assert.Equal(
            m.Tracks.OrderBy(t => t.Kind == MediaKind.Video ? 0 : 1).Select(t => m.Muxer.SerialNumberOf(t.Index)),
            pages.Take(streams).Select(p => p.Serial));
        foreach (var group in pages.GroupBy(p => p.Serial))
        {
            Assert.Equal([.. Enumerable.Range(0, group.Count()).Select(i => (uint)i)], group.Select(p => p.Sequence));
        }

        // header pages hold the header packets with granule 0; then one packet a page (or continued pages) in the source's order
        var packets = OggPageReader.Packets(pages);
        int headerPackets = m.Tracks.Sum(t => t.Codec == CodecId.Opus ? 2 : 3);
        Assert.All(packets.Take(headerPackets), p => Assert.Equal(0, p.PageGranule));
        var data = packets.Skip(headerPackets).ToList();
        Assert.Equal(m.Packets.Count, data.Count);
        for (int k = 0; k < data.Count; k++)
        {
            Assert.Equal(m.Muxer.SerialNumberOf(m.Packets[k].Track), data[k].Serial);
            Assert.True(m.Packets[k].Payload.Span.SequenceEqual(data[k].Data), $"packet {k}");
            Assert.True(data[k].LastOnPage);
        }

        foreach (var group in data.GroupBy(p => p.Serial))
        {
            var granules = group.Select(p => p.PageGranule).ToList();
            Assert.All(granules.Zip(granules.Skip(1)), g => Assert.True(g.First < g.Second, $"granule {g.Second} after {g.First}"));
        }

        // the payload of a packet that fits one page is the packet's own memory; a larger one is written into the slab
        for (int k = 0; k < m.Chunks.Count; k++)
        {
            if (m.Packets[k].Payload.Length <= OggPage.MaxSinglePagePacket)
            {
                Assert.True(MemoryMarshal.TryGetArray(m.Chunks[k].Payload, out var a));
                Assert.True(MemoryMarshal.TryGetArray(m.Packets[k].Payload, out var b));
                Assert.Same(b.Array, a.Array);
                Assert.Equal(b.Offset, a.Offset);
            }
            else
            {
                Assert.True(m.Chunks[k].Payload.IsEmpty);
                Assert.True(m.Chunks[k].Prefix.Length > m.Packets[k].Payload.Length);
            }
        }

        if (source == MuxerSources.TheoraLarge)
        {
            Assert.Contains(pages, p => p.Continued);
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void A_viewer_joining_late_gets_a_stream_that_decodes_cleanly(string source)
    {
        var m = Mux(source);
        var joins = m.Chunks.Select((c, i) => (c, i)).Where(x => x.c.IsJoinPoint).Select(x => x.i).ToList();
        Assert.True(joins.Count >= 3, $"{joins.Count} join points");
        if (m.Tracks.Any(t => t.Kind == MediaKind.Video))
        {
            Assert.All(joins, j => Assert.True(m.Packets[j].IsKeyframe && m.Tracks[m.Packets[j].Track].Kind == MediaKind.Video));
        }
        else
        {
            Assert.Equal(m.Chunks.Count, joins.Count);
        }

        int from = joins[joins.Count / 2];
        string path = MuxerSources.Output($"join-{source}.ogg");
        File.WriteAllBytes(path, MuxedOutput.Concat(m.Muxer.Header, m.Chunks.Skip(from)));
        Assert.Equal("", MediaTools.DecodeErrors(path));
        Assert.Equal(m.Chunks.Count - from, ProbePackets(path).Count);
    }

    [Theory]
    [InlineData(MuxerSources.Vorbis)]
    [InlineData(MuxerSources.TheoraVorbis)]
    public void Vorbis_granule_steps_are_the_block_sizes_ffmpeg_finds(string source)
    {
        var m = Mux(source);
        int vorbis = m.Tracks.Single(t => t.Codec == CodecId.Vorbis).Index;
        var granules = OggPageReader.Packets(OggPageReader.Pages(m.Bytes))
            .Where(p => p.Serial == m.Muxer.SerialNumberOf(vorbis) && p.PageGranule > 0)
            .Select(p => p.PageGranule).ToList();
        var durations = ProbePackets(m.Path).Where(p => p.Codec == "vorbis").Select(p => p.Duration).ToList();

        Assert.Equal(durations.Count, granules.Count);
        Assert.Equal(durations.Skip(1), granules.Zip(granules.Skip(1)).Select(g => g.Second - g.First));
        Assert.True(durations.Distinct().Count() >= 3, string.Join(" ", durations.Distinct())); // short-short, short-long, long-long
        Assert.Equal(granules[0], durations[0]); // the first packet counts from 0
    }

    [Fact]
    public void Theora_granules_carry_the_keyframe_and_the_frames_since_it()
    {
        var m = Mux(MuxerSources.TheoraVorbis);
        int theora = m.Tracks.Single(t => t.Codec == CodecId.Theora).Index;
        int shift = KeyframeShift(m.Tracks[theora]);
        var granules = OggPageReader.Packets(OggPageReader.Pages(m.Bytes))
            .Where(p => p.Serial == m.Muxer.SerialNumberOf(theora) && p.PageGranule > 0)
            .Select(p => p.PageGranule).ToList();
        var frames = m.Packets.Where(p => p.Track == theora).ToList();

        Assert.Equal(frames.Count, granules.Count);
        for (int k = 0; k < frames.Count; k++)
        {
            long keyframe = granules[k] >> shift;
            long since = granules[k] & ((1L << shift) - 1);
            Assert.Equal(k + 1, keyframe + since); // frame numbers count from 1
            Assert.Equal(frames[k].IsKeyframe, since == 0);
        }
    }

    [Fact]
    public void Opus_granules_count_48_kHz_samples_from_the_pre_skip()
    {
        var muxer = new OggMuxer([OpusTrack]);
        byte[] twenty = [0xFC, 0xAA]; // CELT 20 ms, one frame
        var chunks = new[]
        {
            muxer.Write(new MediaPacket(0, -585, -585, true, twenty)), // -6.5 ms: starts at granule 0
            muxer.Write(new MediaPacket(0, 1215, 1215, true, twenty)),
            muxer.Write(new MediaPacket(0, 3015, 3015, true, new byte[] { 0x18, 0 })), // SILK NB 60 ms
            muxer.Write(new MediaPacket(0, 8415, 8415, true, twenty)),
            muxer.Write(new MediaPacket(0, 18000, 18000, true, twenty)), // 100 ms lost before: the count jumps
            muxer.Write(new MediaPacket(0, 17000, 17000, true, twenty)), // back in time: the count goes on
            muxer.Write(new MediaPacket(0, 20000, 20000, true, new byte[] { 0xFF, 0x03, 0 })), // 3 CELT frames of 20 ms
        };

        var packets = OggPageReader.Packets(OggPageReader.Pages(MuxedOutput.Concat(muxer.Header, chunks)));
        Assert.Equal([0L, 0, 960, 1920, 4800, 5760, 9600 + 312 + 960, 9600 + 312 + 1920, 9600 + 312 + 1920 + 2880], packets.Select(p => p.PageGranule));
        Assert.All(chunks, c => Assert.True(c.IsJoinPoint));
        Assert.Equal("audio/ogg", muxer.ContentType);
    }

    [Fact]
    public void Opus_header_pages_hold_the_OpusHead_and_an_OpusTags()
    {
        var muxer = new OggMuxer([OpusTrack]);
        var pages = OggPageReader.Pages(muxer.Header.Span);
        var packets = OggPageReader.Packets(pages);

        Assert.Equal(2, pages.Count);
        Assert.True(pages[0].BeginsStream);
        Assert.Equal(OpusTrack.CodecPrivate.ToArray(), packets[0].Data);
        Assert.StartsWith("OpusTags", System.Text.Encoding.ASCII.GetString(packets[1].Data));
        int vendor = BinaryPrimitives.ReadInt32LittleEndian(packets[1].Data.AsSpan(8));
        Assert.Equal(8 + 4 + vendor + 4, packets[1].Data.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(packets[1].Data.AsSpan(12 + vendor)));
    }

    [Fact]
    public void Opus_without_an_OpusHead_gets_one_from_the_track()
    {
        var muxer = new OggMuxer([OpusTrack with { CodecPrivate = default, Channels = 1, SampleRate = 24000, CodecDelayNs = 6_500_000 }]);
        var head = OggPageReader.Packets(OggPageReader.Pages(muxer.Header.Span))[0].Data;

        Assert.Equal(Convert.ToHexString(MakeOpusHead(channels: 1, preSkip: 312, inputRate: 24000)), Convert.ToHexString(head));
    }

    [Fact]
    public void Chunks_already_handed_out_never_change()
    {
        var muxer = new OggMuxer([OpusTrack]);
        var payload = new byte[] { 0xFC, 1, 2, 3 };
        var first = Enumerable.Range(0, 50).Select(i => muxer.Write(new MediaPacket(0, i * 1800, i * 1800, true, payload))).ToList();
        var snapshot = first.Select(c => c.Prefix.ToArray()).ToList();
        for (int i = 50; i < 20_000; i++)
        {
            muxer.Write(new MediaPacket(0, i * 1800, i * 1800, true, payload));
        }

        Assert.Equal(snapshot, first.Select(c => c.Prefix.ToArray()));
    }

    [Fact]
    public void Tracks_Ogg_cannot_carry_or_broken_headers_are_refused_with_the_reason()
    {
        var h264 = new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264 };
        Assert.Contains("h264", Assert.Throws<ArgumentException>(() => new OggMuxer([h264])).Message);
        Assert.Throws<ArgumentException>(() => new OggMuxer([]));
        Assert.Throws<ArgumentException>(() => new OggMuxer([OpusTrack with { Index = 1 }]));
        Assert.Contains("OpusHead", Assert.Throws<ArgumentException>(() => new OggMuxer([OpusTrack with { CodecPrivate = new byte[19] }])).Message);
        Assert.Contains("channel mapping", Assert.Throws<ArgumentException>(() => new OggMuxer([OpusTrack with { CodecPrivate = MakeOpusHead(6, 312, family: 1) }])).Message);

        var vorbis = new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, CodecPrivate = new byte[] { 2, 30, 10, 1, 2 } };
        Assert.Contains("do not fit", Assert.Throws<ArgumentException>(() => new OggMuxer([vorbis])).Message);
        Assert.Contains("Xiph", Assert.Throws<ArgumentException>(() => new OggMuxer([vorbis with { CodecPrivate = default }])).Message);
        var real = Feeder.Feed(new MatroskaDemuxer(), MuxerSources.Bytes(MuxerSources.Vorbis), int.MaxValue).Tracks![0];
        var broken = real.CodecPrivate.ToArray();
        broken[^1] = 0; // the setup header loses its framing bit and last modes
        broken[^2] = 0;
        Assert.Contains("setup header", Assert.Throws<ArgumentException>(() => new OggMuxer([real with { CodecPrivate = broken }])).Message);
        var theora = new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.Theora, CodecPrivate = real.CodecPrivate };
        Assert.Contains("Theora identification header", Assert.Throws<ArgumentException>(() => new OggMuxer([theora])).Message);

        var muxer = new OggMuxer([OpusTrack]);
        Assert.Throws<ArgumentOutOfRangeException>(() => muxer.Write(new MediaPacket(1, 0, 0, true, new byte[] { 0xFC })));
        Assert.True(OggMuxer.CanCarry(CodecId.Theora) && !OggMuxer.CanCarry(CodecId.VP8));
    }

    [Fact]
    public void Content_type_is_video_when_a_track_is_Theora()
    {
        Assert.Equal("video/ogg", Mux(MuxerSources.TheoraVorbis).Muxer.ContentType);
        Assert.Equal("audio/ogg", Mux(MuxerSources.Vorbis).Muxer.ContentType);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 }, 480)]        // SILK NB 10 ms
    [InlineData(new byte[] { 0x18 }, 2880)]       // SILK WB 60 ms
    [InlineData(new byte[] { 0x08 }, 960)]        // SILK NB 20 ms
    [InlineData(new byte[] { 0x20 }, 480)]        // SILK MB 10 ms
    [InlineData(new byte[] { 0x60 }, 480)]        // Hybrid SWB 10 ms
    [InlineData(new byte[] { 0x78 }, 960)]        // Hybrid FB 20 ms
    [InlineData(new byte[] { 0x80 }, 120)]        // CELT NB 2.5 ms
    [InlineData(new byte[] { 0xF8 }, 960)]        // CELT FB 20 ms
    [InlineData(new byte[] { 0xF9 }, 1920)]       // two frames, equal sizes
    [InlineData(new byte[] { 0xFA }, 1920)]       // two frames, different sizes
    [InlineData(new byte[] { 0xFB, 0x06 }, 5760)] // six frames of 20 ms: 120 ms
    [InlineData(new byte[] { 0xFB, 0x07 }, 0)]    // 140 ms: more than a packet may hold
    [InlineData(new byte[] { 0xFB }, 0)]          // frame count missing
    [InlineData(new byte[] { }, 0)]
    public void Opus_sample_counts_come_from_the_TOC(byte[] packet, int samples)
    {
        Assert.Equal(samples, OpusMapping.SampleCount(packet));
    }

    internal static byte[] MakeOpusHead(int channels, int preSkip, int inputRate = 48000, int family = 0)
    {
        var head = new byte[19];
        "OpusHead"u8.CopyTo(head);
        head[8] = 1;
        head[9] = (byte)channels;
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(10), (ushort)preSkip);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), (uint)inputRate);
        head[18] = (byte)family;
        return head;
    }

    private static double FrameTicks(TrackInfo theora)
    {
        var id = OggPageReader.Packets(OggPageReader.Pages(new OggMuxer([theora with { Index = 0 }]).Header.Span))[0].Data;
        return 90_000.0 * BinaryPrimitives.ReadUInt32BigEndian(id.AsSpan(26)) / BinaryPrimitives.ReadUInt32BigEndian(id.AsSpan(22));
    }

    private static int KeyframeShift(TrackInfo theora)
    {
        var id = OggPageReader.Packets(OggPageReader.Pages(new OggMuxer([theora with { Index = 0 }]).Header.Span))[0].Data;
        return ((id[40] & 0x03) << 3) | (id[41] >> 5);
    }

    private static double FormatDuration(string path) =>
        double.Parse(MediaTools.Ffprobe("-show_entries", "format=duration", path).GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);

    internal sealed record ProbedPacket(string Codec, double Seconds, long Duration, int Size, bool Keyframe);

    internal static List<ProbedPacket> ProbePackets(string path)
    {
        var json = MediaTools.Ffprobe("-show_entries", "packet=stream_index,pts_time,duration,size,flags:stream=index,codec_name", "-show_packets", "-show_streams", path);
        var codecs = json.GetProperty("streams").EnumerateArray().ToDictionary(s => s.GetProperty("index").GetInt32(), s => s.GetProperty("codec_name").GetString()!);
        var packets = new List<ProbedPacket>();
        foreach (var p in json.GetProperty("packets").EnumerateArray())
        {
            packets.Add(new ProbedPacket(
                codecs[p.GetProperty("stream_index").GetInt32()],
                double.Parse(p.GetProperty("pts_time").GetString()!, CultureInfo.InvariantCulture),
                p.TryGetProperty("duration", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt64() : -1,
                int.Parse(p.GetProperty("size").GetString()!, CultureInfo.InvariantCulture),
                p.GetProperty("flags").GetString()!.Contains('K')));
        }

        return packets;
    }
}
