using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Formats.MpegTs;

namespace Sluice.Media.Tests.Formats.MpegTs;

/// <summary>The reader against streams the real ffmpeg wrote, checked against ffprobe.</summary>
public sealed class MpegTsDemuxerTests
{
    public static TheoryData<string> Names => TsFixtures.Names;

    public static TheoryData<string, int> NamesAndChunkSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var c in TsFixtures.All)
        {
            foreach (int size in new[] { 1, 188, 1316, 1500, 4096 })
            {
                data.Add(c.Name, size);
            }
        }

        return data;
    }

    /// <summary>ffprobe's packets of a file in decode order per stream (the order our reader emits them may interleave differently).</summary>
    private static List<Ffprobe.Packet> ProbeStream(string path, int stream) =>
        [.. Ffprobe.Packets(path).Where(p => p.StreamIndex == stream)];

    [Theory]
    [MemberData(nameof(Names))]
    public void Tracks_match_ffprobe(string name)
    {
        var recorder = Feeder.Feed(new MpegTsDemuxer(), TsFixtures.Bytes(name), int.MaxValue);
        var streams = Ffprobe.Streams(TsFixtures.Path_(name));
        Assert.Single(recorder.TrackCalls);
        var tracks = recorder.Tracks!;
        Assert.Equal(TsFixtures.Get(name).Codecs, tracks.Select(t => CodecIds.FfmpegName(t.Codec)));
        Assert.Equal(streams.Count, tracks.Count);
        for (int i = 0; i < tracks.Count; i++)
        {
            var stream = streams[i];
            var track = tracks[i];
            Assert.Equal(i, track.Index);
            if (track.Kind == MediaKind.Video)
            {
                Assert.Equal(stream.GetProperty("width").GetInt32(), track.Width);
                Assert.Equal(stream.GetProperty("height").GetInt32(), track.Height);
                if (track.Codec is CodecId.H264 or CodecId.H265)
                {
                    int lengthSize = track.Codec == CodecId.H264
                        ? AvcDecoderConfiguration.Parse(track.CodecPrivate.Span)!.LengthSize
                        : HevcDecoderConfiguration.Parse(track.CodecPrivate.Span)!.LengthSize;
                    Assert.Equal(4, lengthSize);
                }
                else
                {
                    // MPEG-4 Part 2, MPEG-2 video: the headers of the first keyframe, which start with a start code.
                    Assert.True(Sluice.Media.Codecs.AnnexB.StartsWithStartCode(track.CodecPrivate.Span));
                }
            }
            else
            {
                Assert.Equal(int.Parse(stream.GetProperty("sample_rate").GetString()!, System.Globalization.CultureInfo.InvariantCulture), track.SampleRate);
                Assert.Equal(stream.GetProperty("channels").GetInt32(), track.Channels);
                if (track.Codec == CodecId.AAC)
                {
                    Assert.Equal((track.SampleRate, track.Channels), AudioSpecificConfig.ReadRateAndChannels(track.CodecPrivate.Span));
                }
                else if (track.Codec == CodecId.Opus)
                {
                    Assert.Equal("OpusHead", System.Text.Encoding.ASCII.GetString(track.CodecPrivate.Span[..8]));
                    Assert.True(track.CodecDelayNs > 0);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Packets_match_ffprobe(string name)
    {
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, TsFixtures.Bytes(name), int.MaxValue);
        string path = TsFixtures.Path_(name);
        var tracks = recorder.Tracks!;
        Assert.Equal(0, demuxer.ContinuityErrors + demuxer.DroppedPes + demuxer.DroppedFrames + demuxer.SkippedBytes + demuxer.BadSections + demuxer.DroppedTracks);
        for (int t = 0; t < tracks.Count; t++)
        {
            var probed = ProbeStream(path, t);
            var ours = recorder.Packets.Where(p => p.Track == t).ToList();
            Assert.Equal(probed.Count, ours.Count);
            long first = probed[0].Dts;
            for (int i = 0; i < probed.Count; i++)
            {
                var expected = probed[i];
                var actual = ours[i];
                string what = $"track {t} packet {i}";
                Assert.True(Unwrapped(expected.Pts, first) == actual.Pts - ours[0].Dts + first, $"{what}: pts {actual.Pts}, ffprobe says {expected.Pts}");
                Assert.True(Unwrapped(expected.Dts, first) == actual.Dts - ours[0].Dts + first, $"{what}: dts {actual.Dts}, ffprobe says {expected.Dts}");
                Assert.True(expected.Keyframe == actual.IsKeyframe, $"{what}: keyframe {actual.IsKeyframe}, ffprobe says {expected.Keyframe}");
                int expectedSize = tracks[t].Codec switch
                {
                    CodecId.AAC => expected.Size - AdtsHeader.Size,
                    _ => expected.Size,
                };
                if (tracks[t].Kind == MediaKind.Audio)
                {
                    Assert.True(expectedSize == actual.Payload.Length, $"{what}: {actual.Payload.Length} bytes, ffprobe says {expected.Size}");
                    Assert.True(actual.Duration > 0);
                }
            }
        }
    }

    /// <summary>ffprobe's times wrap to small values or continue above 2^33 depending on its guess; put them after the first.</summary>
    private static long Unwrapped(long value, long first)
    {
        const long wrap = 1L << 33;
        while (value < first - wrap / 2)
        {
            value += wrap;
        }

        return value;
    }

    [Fact]
    public void Times_are_continuous_across_the_33_bit_wrap()
    {
        var recorder = Feeder.Feed(new MpegTsDemuxer(), TsFixtures.Bytes("h264-aac-wrap"), 1316);
        foreach (int track in new[] { 0, 1 })
        {
            var packets = recorder.Packets.Where(p => p.Track == track).ToList();
            Assert.True(packets[0].Dts < 1L << 33, "starts before the wrap");
            Assert.True(packets[^1].Dts > 1L << 33, "ends after the wrap, on the same timeline");
            for (int i = 1; i < packets.Count; i++)
            {
                long step = packets[i].Dts - packets[i - 1].Dts;
                Assert.InRange(step, 0, 9000);
            }
        }
    }

    [Theory]
    [MemberData(nameof(NamesAndChunkSizes))]
    public void Chunked_feeding_gives_the_same_packets(string name, int chunkSize)
    {
        byte[] data = TsFixtures.Bytes(name);
        var whole = Feeder.Feed(new MpegTsDemuxer(), data, int.MaxValue);
        var chunked = Feeder.Feed(new MpegTsDemuxer(), data, chunkSize);
        Assert.Single(chunked.TrackCalls);
        Assert.Equal(whole.Describe(), chunked.Describe());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_strict_prefix_asks_for_more_and_a_cut_packet_is_refused(string name)
    {
        byte[] data = TsFixtures.Bytes(name);
        var random = new Random(name.Length);
        int[] cuts = [.. Enumerable.Range(0, 40).Select(_ => random.Next(1, data.Length)), 1, 187, 189, 376 + 5, data.Length - 1];
        foreach (int cut in cuts)
        {
            var demuxer = new MpegTsDemuxer();
            Feeder.Feed(demuxer, data[..cut], 4096, complete: false);
            if (cut % 188 != 0)
            {
                var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new MpegTsDemuxer(), data[..cut], 4096));
                Assert.Equal("MPEG-TS", error.Format);
            }
        }
    }
}
