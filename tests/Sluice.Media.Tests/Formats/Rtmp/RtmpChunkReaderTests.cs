using Sluice.Media.Formats.Rtmp;

namespace Sluice.Media.Tests.Formats.Rtmp;

public sealed class RtmpChunkReaderTests
{
    public static TheoryData<RtmpCase, int> Cases()
    {
        var data = new TheoryData<RtmpCase, int>();
        foreach (var c in RtmpCases.All)
        {
            foreach (int step in (int[])[int.MaxValue, 1, 7, 129])
            {
                data.Add(c, step);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_case_gives_its_messages_or_its_error_whatever_the_pieces(RtmpCase c, int step)
    {
        var parser = new RtmpCases.Parser();
        byte[] input = [.. RtmpCases.PlainHandshake(), .. c.Input];
        if (c.Error is not null)
        {
            var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(parser, input, step));
            Assert.Contains(c.Error, error.Message, StringComparison.Ordinal);
            return;
        }

        Feeder.Feed(parser, input, step);

        Assert.Equal(c.Messages.Length, parser.Messages.Count);
        for (int i = 0; i < c.Messages.Length; i++)
        {
            var (expected, actual) = (c.Messages[i], parser.Messages[i]);
            Assert.Equal((expected.ChunkStream, expected.Type, expected.StreamId, expected.Timestamp), (actual.ChunkStream, actual.Type, actual.StreamId, actual.Timestamp));
            Assert.Equal(expected.Payload, actual.Payload);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_strict_prefix_asks_for_more_bytes(RtmpCase c, int step)
    {
        if (c.Error is not null || step != 1)
        {
            return;
        }

        byte[] input = [.. RtmpCases.PlainHandshake(), .. c.Input];
        for (int length = 0; length < input.Length; length += Math.Max(1, input.Length / 97))
        {
            var parser = new RtmpCases.Parser();
            Feeder.Feed(parser, input[..length], int.MaxValue, complete: false);
            Assert.True(parser.Messages.Count <= c.Messages.Length);
        }
    }

    [Fact]
    public void The_writer_s_chunks_read_back_as_the_same_messages()
    {
        foreach (var (chunkSize, time, length) in new[] { (128, 0u, 0), (128, 5u, 128), (128, 7u, 129), (4096, 0xFFFFFFu, 10000), (60, 0x12345678u, 1000) })
        {
            byte[] payload = RtmpCases.Payload(length, 3);
            var bytes = new byte[RtmpChunkWriter.MaxLength(length, chunkSize)];
            int written = RtmpChunkWriter.Write(bytes, 5, 9, 1, time, payload[..Math.Min(3, length)], payload[Math.Min(3, length)..], chunkSize);
            var parser = new RtmpCases.Parser();
            parser.Chunks.ChunkSize = chunkSize;
            Feeder.Feed(parser, [.. RtmpCases.PlainHandshake(), .. bytes[..written]], 1);
            var message = Assert.Single(parser.Messages);
            Assert.Equal((5, (byte)9, 1u, time), (message.ChunkStream, message.Type, message.StreamId, message.Timestamp));
            Assert.Equal(payload, message.Payload);
        }
    }

    [Fact]
    public void Messages_in_progress_on_many_chunk_streams_are_bounded_by_the_bytes_they_hold()
    {
        // Three messages of 7 MiB, 6 MiB of each arrived: more than MaxBufferedBytes in progress (declaring them is not).
        var parser = new RtmpCases.Parser();
        parser.Chunks.ChunkSize = 6 << 20; // each message's first chunk carries 6 MiB
        byte[] input = [.. RtmpCases.PlainHandshake(), .. Enumerable.Range(3, 3).SelectMany(cs => RtmpCases.Chunk(0, cs, 0, 7 << 20, 9, 1, data: new byte[6 << 20]))];
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(parser, input, int.MaxValue, complete: false));
        Assert.Contains("would hold more than", error.Message, StringComparison.Ordinal);
    }
}
