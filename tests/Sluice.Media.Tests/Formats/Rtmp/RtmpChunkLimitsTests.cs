using System.Buffers;
using Sluice.Media.Formats.Rtmp;

namespace Sluice.Media.Tests.Formats.Rtmp;

/// <summary>What a peer may declare and hold: buffers follow the bytes that arrive, limits are the reader's.</summary>
public sealed class RtmpChunkLimitsTests
{
    /// <summary>A format-0 chunk header on chunk stream <paramref name="csid"/> (2 to 63) declaring a message of <paramref name="length"/> bytes.</summary>
    private static byte[] Header(int csid, int length, byte type = 9) =>
        [(byte)csid, 0, 0, 0, (byte)(length >> 16), (byte)(length >> 8), (byte)length, type, 1, 0, 0, 0];

    private static int Read(RtmpChunkReader chunks, byte[] input, List<byte[]>? messages = null, int step = int.MaxValue)
    {
        int count = 0;
        for (int at = 0; at < input.Length; at += step)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(input, at, Math.Min(step, input.Length - at)));
            while (chunks.TryRead(ref reader, out var message))
            {
                messages?.Add(message.Payload.ToArray());
                count++;
            }

            Assert.Equal(0, reader.Remaining); // every byte offered is taken (chunk data as it comes, headers whole)
        }

        return count;
    }

    [Fact]
    public void Untrusted_a_declared_8_MiB_message_is_refused_at_its_header()
    {
        var chunks = new RtmpChunkReader { Limits = RtmpChunkLimits.Untrusted };
        var error = Assert.Throws<MediaFormatException>(() => Read(chunks, Header(4, 8 << 20)));
        Assert.Contains("a message of 8388608 bytes on chunk stream 4 exceeds the limit of 65536 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, chunks.BufferedBytes);
    }

    [Fact]
    public void Untrusted_a_second_message_in_progress_is_refused()
    {
        var chunks = new RtmpChunkReader { Limits = RtmpChunkLimits.Untrusted };
        byte[] first = [.. Header(4, 1000), .. new byte[128]]; // one chunk of 128 (the default chunk size) of 1000
        Read(chunks, first);
        var error = Assert.Throws<MediaFormatException>(() => Read(chunks, Header(5, 1000)));
        Assert.Contains("the limit is 1 at once", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trusted_a_declared_8_MiB_message_holds_what_arrived_not_what_it_declared()
    {
        var chunks = new RtmpChunkReader();
        byte[] input = [.. Header(4, 8 << 20), .. new byte[128], .. Header(5, 8 << 20), .. new byte[128]];
        Assert.Equal(0, Read(chunks, input));
        Assert.InRange(chunks.BufferedBytes, 1, 16 * 1024); // 8 KiB for two chunks of 128 bytes, not 16 MiB
    }

    [Fact]
    public void Trusted_a_whole_8_MiB_message_in_odd_pieces_reads_byte_exact()
    {
        const int length = 8 << 20;
        const int chunkSize = 65536;
        var payload = new byte[length];
        new Random(7).NextBytes(payload);
        var input = new List<byte>();
        // Set Chunk Size 65536 on chunk stream 2, then the message in chunks of that size (format 3 after the first).
        input.AddRange([2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
        input.AddRange(Header(6, length));
        for (int at = 0; at < length; at += chunkSize)
        {
            if (at > 0)
            {
                input.Add(0xC0 | 6);
            }

            input.AddRange(payload.AsSpan(at, Math.Min(chunkSize, length - at)).ToArray());
        }

        var chunks = new RtmpChunkReader();
        var messages = new List<byte[]>();
        int step = 77_777;
        byte[] bytes = [.. input];
        for (int at = 0; at < bytes.Length; at += step)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, at, Math.Min(step, bytes.Length - at)));
            while (chunks.TryRead(ref reader, out var message))
            {
                if (message.Type == 1)
                {
                    chunks.ChunkSize = chunkSize;
                    continue;
                }

                messages.Add(message.Payload.ToArray());
            }

            // A header cut by the piece's end is left unread, as a caller's pipe keeps it: offered again with the next piece.
            at -= (int)reader.Remaining;
        }

        Assert.Equal(payload, Assert.Single(messages));
    }
}
