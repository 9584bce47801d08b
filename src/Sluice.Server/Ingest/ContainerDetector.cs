using System.Buffers;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.MpegTs;

namespace Sluice.Server.Ingest;

/// <summary>Recognizes a feed's container from its first bytes.</summary>
internal static class ContainerDetector
{
    /// <summary>Bytes needed to decide.</summary>
    public const int ProbeSize = 4;

    public enum Result
    {
        NeedMore,
        Matroska,
        MpegTs,
        Flv,
        Unknown,
    }

    public static Result Detect(ReadOnlySequence<byte> input)
    {
        if (input.Length < ProbeSize)
        {
            return Result.NeedMore;
        }

        Span<byte> head = stackalloc byte[ProbeSize];
        input.Slice(0, ProbeSize).CopyTo(head);
        if (head is [0x1A, 0x45, 0xDF, 0xA3])
        {
            return Result.Matroska;
        }

        if (head[0] == 0x47)
        {
            return Result.MpegTs;
        }

        if (head is [(byte)'F', (byte)'L', (byte)'V', _])
        {
            return Result.Flv;
        }

        return Result.Unknown;
    }

    /// <summary>A demuxer for the container, or null with the reason.</summary>
    public static IDemuxer? CreateDemuxer(Result result, BlockPool buffers, out string? reason)
    {
        reason = result switch
        {
            Result.Unknown => "the feed is not a container Sluice reads (expected Matroska/WebM, MPEG-TS or FLV: ffmpeg -f matroska, -f webm, -f mpegts or -f flv)",
            _ => null,
        };
        return result switch
        {
            Result.Matroska => new MatroskaDemuxer(buffers),
            Result.MpegTs => new MpegTsDemuxer(buffers),
            Result.Flv => new FlvDemuxer(buffers),
            _ => null,
        };
    }
}
