using System.Buffers;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Formats.Flv;

namespace Sluice.Media.Tests.Formats.Flv;

/// <summary>The demuxer against FLV the real ffmpeg wrote, checked against ffprobe.</summary>
public sealed class FlvDemuxerFfmpegTests
{
    public static TheoryData<string> Files => FlvFixtures.AllFlvNames;

    public static TheoryData<string, int> FilesAndChunkSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in FlvFixtures.AllFlv)
        {
            foreach (int size in new[] { 1, 188, 1316, 1500, 4096 })
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
        var demuxer = new FlvDemuxer();
        var recorder = Feeder.Feed(demuxer, FlvFixtures.Bytes(name), int.MaxValue);
        var probed = Ffprobe.Packets(FlvFixtures.Path(name)).Where(p => p.Size > 0).ToList();

        Assert.Single(recorder.TrackCalls);
        Assert.Equal(
            probed.Select(p => $"{p.StreamIndex} {p.Dts} {p.Pts} {p.Size} {p.Keyframe}"),
            recorder.Packets.Select(p => $"{p.Track} {p.Dts / 90} {p.Pts / 90} {p.Payload.Length} {p.IsKeyframe}"));
        Assert.All(recorder.Packets, p => Assert.Equal(0, p.Dts % 90));
        Assert.Equal(0, demuxer.DamagedTags);
        Assert.Equal(0, demuxer.UnsupportedTags);
        Assert.Equal(0, demuxer.UntrackedPackets);
        Assert.Equal(0, demuxer.PreviousTagSizeMismatches);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Tracks_match_ffprobe(string name)
    {
        var recorder = Feeder.Feed(new FlvDemuxer(), FlvFixtures.Bytes(name), int.MaxValue);
        var streams = Ffprobe.Streams(FlvFixtures.Path(name));
        Ffprobe.AssertStreamsMatch(recorder.Tracks!, streams, (i, track, _) =>
        {
            Assert.Equal(i, track.Index);
            if (track.Kind == MediaKind.Video)
            {
                // Sorenson H.263 has no decoder configuration: its picture headers describe it.
                Assert.Equal(track.Codec == CodecId.H264, AvcDecoderConfiguration.Parse(track.CodecPrivate.Span) is not null);
                Assert.Equal(track.Codec == CodecId.FLV1, track.CodecPrivate.IsEmpty);
                Assert.True(track.DefaultDuration is 3000 or 3600, $"DefaultDuration {track.DefaultDuration}");
            }
            else
            {
                Assert.Equal(track.Codec == CodecId.AAC, !track.CodecPrivate.IsEmpty);
            }
        });
    }

    [Fact]
    public void Width_and_height_come_from_the_SPS_with_its_cropping()
    {
        var demuxer = new FlvDemuxer();
        var tracks = Feeder.Feed(demuxer, FlvFixtures.Bytes(FlvFixtures.H264Only), 4096).Tracks!;
        var video = Assert.Single(tracks);
        Assert.Equal((322, 182), (video.Width, video.Height));
        Assert.Equal(3000, video.DefaultDuration);
        Assert.True(demuxer.HeaderHasVideo);
        Assert.False(demuxer.HeaderHasAudio);
        Assert.Equal(322, demuxer.Metadata!.Width);
    }

    [Theory]
    [MemberData(nameof(FilesAndChunkSizes))]
    public void Chunked_input_gives_the_same_packets_as_whole_input(string name, int chunkSize)
    {
        byte[] data = FlvFixtures.Bytes(name);
        var whole = Feeder.Feed(new FlvDemuxer(), data, int.MaxValue);
        var demuxer = new FlvDemuxer();
        var chunked = Feeder.Feed(demuxer, data, chunkSize);

        Assert.Equal(whole.Describe(), chunked.Describe());
        Assert.Equal(whole.Tracks, chunked.Tracks, (a, b) => a.IsCompatibleWith(b) && a.DefaultDuration == b.DefaultDuration);
        Assert.Single(chunked.TrackCalls);
        Assert.Equal(data.Length, demuxer.Position);
    }

    [Fact]
    public void Prefixes_need_more_and_end_cleanly_only_at_tag_boundaries()
    {
        byte[] data = FlvFixtures.Bytes(FlvFixtures.H264Aac);
        var full = Feeder.Feed(new FlvDemuxer(), data, int.MaxValue).Describe();
        var boundaries = TagBoundaries(data);
        var random = new Random(4321);
        var lengths = Enumerable.Range(0, 400).Concat(Enumerable.Range(0, 200).Select(_ => random.Next(data.Length))).Append(data.Length - 1);
        int clean = 0;
        foreach (int length in lengths)
        {
            var demuxer = new FlvDemuxer();
            var recorder = new PacketRecorder();
            var input = new ReadOnlySequence<byte>(data, 0, length);
            var rest = input.Slice(demuxer.Read(input, recorder));
            if (boundaries.Contains(length))
            {
                demuxer.Complete(rest);
                clean++;
            }
            else
            {
                var error = Assert.Throws<MediaFormatException>(() => demuxer.Complete(rest));
                Assert.Contains("input ended", error.Reason);
                Assert.Equal("FLV", error.Format);
            }

            Assert.Equal(full.Take(recorder.Packets.Count), recorder.Describe());
        }

        Assert.InRange(clean, 1, 100);
    }

    /// <summary>Offsets right after each PreviousTagSize: where a stream may end.</summary>
    internal static HashSet<int> TagBoundaries(byte[] flv)
    {
        var boundaries = new HashSet<int>();
        int at = 9 + 4;
        boundaries.Add(at);
        while (at + 11 <= flv.Length)
        {
            int size = (flv[at + 1] << 16) | (flv[at + 2] << 8) | flv[at + 3];
            at += 11 + size + 4;
            boundaries.Add(at);
        }

        return boundaries;
    }
}
