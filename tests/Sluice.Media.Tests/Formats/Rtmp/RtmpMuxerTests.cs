using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Rtmp;
using Sluice.Media.Tests.Formats.Flv;

namespace Sluice.Media.Tests.Formats.Rtmp;

public sealed class RtmpMuxerTests
{
    public static TheoryData<string> Files => FlvFixtures.AllFlvNames;

    /// <summary>
    /// Real FLV from ffmpeg: its packets muxed into RTMP messages, read back by the chunk reader and the publisher's
    /// message reader, come out the same (the path of a stream relayed from one Sluice to another over RTMP).
    /// </summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Packets_muxed_into_RTMP_read_back_the_same(string file)
    {
        var source = Feeder.Feed(new FlvDemuxer(), FlvFixtures.Bytes(file), 4096);
        var muxer = new RtmpMuxer(source.Tracks!);
        byte[] output = [.. muxer.Header.ToArray(), .. source.Packets.SelectMany(p =>
        {
            var chunk = muxer.Write(p);
            Assert.True(chunk.Payload.IsEmpty);
            return chunk.Prefix.ToArray();
        })];

        var (parser, recorder) = ReadBack(output, 1500);
        Assert.All(parser.Messages, m => Assert.Equal(1u, m.StreamId));

        Assert.Equal(source.Tracks!.Select(t => (t.Codec, t.Width, t.Height, t.SampleRate, t.Channels)), recorder.Tracks!.Select(t => (t.Codec, t.Width, t.Height, t.SampleRate, t.Channels)));
        Assert.Equal(source.Describe(), recorder.Describe());
    }

    [Fact]
    public void H265_goes_out_as_Enhanced_RTMP_hvc1_and_reads_back()
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), FlvFixtures.Bytes(FlvFixtures.H265AacMkv), int.MaxValue);
        var muxer = new RtmpMuxer(source.Tracks!);
        byte[] output = [.. muxer.Header.ToArray(), .. source.Packets.SelectMany(p => muxer.Write(p).Prefix.ToArray())];

        var (parser, recorder) = ReadBack(output, 4096);

        // The video sequence start is an ExVideoTagHeader: IsExHeader, keyframe, PacketType 0, FourCC 'hvc1'.
        Assert.Contains(parser.Messages, m => m.Type == 9 && m.Payload.Length > 5 && m.Payload[0] == 0x90 && m.Payload.AsSpan(1, 4).SequenceEqual("hvc1"u8));
        Assert.Equal([CodecId.H265, CodecId.AAC], recorder.Tracks!.Select(t => t.Codec));
        Assert.Equal(source.Packets.Count, recorder.Packets.Count);
        Assert.All(source.Packets.Zip(recorder.Packets), pair =>
        {
            Assert.Equal((pair.First.Track, pair.First.IsKeyframe, MediaTime.ToMilliseconds(pair.First.Pts)), (pair.Second.Track, pair.Second.IsKeyframe, MediaTime.ToMilliseconds(pair.Second.Pts)));
            Assert.True(pair.First.Payload.Span.SequenceEqual(pair.Second.Payload.Span));
        });
    }

    [Fact]
    public void Each_message_starts_with_a_format_0_header_and_keyframes_are_join_points()
    {
        var source = Feeder.Feed(new FlvDemuxer(), FlvFixtures.Bytes(FlvFixtures.H264Aac), 4096);
        var muxer = new RtmpMuxer(source.Tracks!);
        foreach (var packet in source.Packets.Take(50))
        {
            var chunk = muxer.Write(packet);
            var bytes = chunk.Prefix.Span;
            bool video = source.Tracks![packet.Track].Kind == MediaKind.Video;
            Assert.Equal(video ? 6 : 4, bytes[0]); // format 0 on the video or audio chunk stream
            Assert.Equal(video ? 9 : 8, bytes[7]);
            Assert.Equal(video && packet.IsKeyframe, chunk.IsJoinPoint);
        }
    }

    /// <summary>Reads a player's bytes (after a handshake) as a publisher's would be: chunks, then messages into packets.</summary>
    private static (RtmpCases.Parser Parser, PacketRecorder Recorder) ReadBack(byte[] output, int step)
    {
        var parser = new RtmpCases.Parser();
        parser.Chunks.ChunkSize = global::Sluice.Media.Formats.Rtmp.Rtmp.OutgoingChunkSize;
        Feeder.Feed(parser, [.. RtmpCases.PlainHandshake(), .. output], step);
        var reader = new RtmpMediaReader();
        var recorder = new PacketRecorder();
        foreach (var message in parser.Messages)
        {
            reader.Read(new RtmpMessage(message.ChunkStream, message.Type, message.StreamId, message.Timestamp, message.Payload), recorder);
        }

        return (parser, recorder);
    }
}
