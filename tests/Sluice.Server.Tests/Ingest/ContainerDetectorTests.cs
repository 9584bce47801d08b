using System.Buffers;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.MpegTs;
using Sluice.Server.Ingest;

namespace Sluice.Server.Tests.Ingest;

public sealed class ContainerDetectorTests
{
    // The expected result by name: a public test method cannot take the server's internal enum.
    public static TheoryData<string, byte[], string> Heads => new()
    {
        { "EBML header", [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86], nameof(ContainerDetector.Result.Matroska) },
        { "TS sync byte", [0x47, 0x40, 0x00, 0x10], nameof(ContainerDetector.Result.MpegTs) },
        { "TS sync byte, any continuation", [0x47, 0xFF, 0xFF, 0xFF, 0x00], nameof(ContainerDetector.Result.MpegTs) },
        { "FLV signature", [(byte)'F', (byte)'L', (byte)'V', 0x01, 0x05], nameof(ContainerDetector.Result.Flv) },
        { "FLV signature, other version", [(byte)'F', (byte)'L', (byte)'V', 0x02], nameof(ContainerDetector.Result.Flv) },
        { "EBML id with one byte wrong", [0x1A, 0x45, 0xDF, 0xA4], nameof(ContainerDetector.Result.Unknown) },
        { "lowercase flv", [(byte)'f', (byte)'l', (byte)'v', 0x01], nameof(ContainerDetector.Result.Unknown) },
        { "an HTTP request line", "POST / HTTP/1.1"u8.ToArray(), nameof(ContainerDetector.Result.Unknown) },
        { "RIFF (WAV, AVI)", "RIFF"u8.ToArray(), nameof(ContainerDetector.Result.Unknown) },
        { "MP4 box", [0x00, 0x00, 0x00, 0x20, (byte)'f', (byte)'t', (byte)'y', (byte)'p'], nameof(ContainerDetector.Result.Unknown) },
    };

    [Theory]
    [MemberData(nameof(Heads))]
    public void The_first_four_bytes_name_the_container(string what, byte[] head, string expected)
    {
        Assert.Equal(Enum.Parse<ContainerDetector.Result>(expected), ContainerDetector.Detect(new ReadOnlySequence<byte>(head)));
        _ = what;
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void The_same_bytes_one_a_segment_give_the_same_answer(string what, byte[] head, string expected)
    {
        Assert.Equal(Enum.Parse<ContainerDetector.Result>(expected), ContainerDetector.Detect(OneBytePerSegment(head)));
        _ = what;
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void Every_strict_prefix_of_the_probe_needs_more(string what, byte[] head, string expected)
    {
        for (int length = 0; length < ContainerDetector.ProbeSize; length++)
        {
            Assert.Equal(ContainerDetector.Result.NeedMore, ContainerDetector.Detect(new ReadOnlySequence<byte>(head, 0, length)));
        }

        _ = (what, expected);
    }

    [Fact]
    public void A_lone_sync_byte_is_not_enough_to_say_MPEG_TS() =>
        Assert.Equal(ContainerDetector.Result.NeedMore, ContainerDetector.Detect(new ReadOnlySequence<byte>([0x47])));

    [Fact]
    public void Each_recognized_container_gets_its_demuxer_and_no_reason()
    {
        var pool = new BlockPool();
        using (var demuxer = ContainerDetector.CreateDemuxer(ContainerDetector.Result.Matroska, pool, out string? reason))
        {
            Assert.IsType<MatroskaDemuxer>(demuxer);
            Assert.Equal("Matroska", demuxer!.FormatName);
            Assert.Null(reason);
        }

        using (var demuxer = ContainerDetector.CreateDemuxer(ContainerDetector.Result.MpegTs, pool, out string? reason))
        {
            Assert.IsType<MpegTsDemuxer>(demuxer);
            Assert.Equal("MPEG-TS", demuxer!.FormatName);
            Assert.Null(reason);
        }

        using (var demuxer = ContainerDetector.CreateDemuxer(ContainerDetector.Result.Flv, pool, out string? reason))
        {
            Assert.IsType<FlvDemuxer>(demuxer);
            Assert.Equal("FLV", demuxer!.FormatName);
            Assert.Null(reason);
        }
    }

    [Fact]
    public void An_unknown_container_gets_no_demuxer_and_a_reason_that_names_the_ffmpeg_options()
    {
        Assert.Null(ContainerDetector.CreateDemuxer(ContainerDetector.Result.Unknown, new BlockPool(), out string? reason));
        Assert.Equal(
            "the feed is not a container Sluice reads (expected Matroska/WebM, MPEG-TS or FLV: ffmpeg -f matroska, -f webm, -f mpegts or -f flv)",
            reason);
    }

    private static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1));
        var last = first;
        for (int i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
