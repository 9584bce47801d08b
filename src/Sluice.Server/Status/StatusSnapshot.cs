using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Streams;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Status;

/// <summary>What the status page shows, as data: the JSON form and the source of the HTML form.</summary>
internal sealed record StatusSnapshot(
    string Server,
    DateTimeOffset Time,
    DateTimeOffset Started,
    int Connections,
    int MaxHTTPConnections,
    int Clients,
    int MaxClients,
    long BandwidthKbps,
    long MaxBandwidthKbps,
    IReadOnlyList<FeedStatus> Feeds,
    IReadOnlyList<StreamStatus> Streams,
    IReadOnlyList<EncoderStatus> Encoders,
    IReadOnlyList<ContainerFfmpegStatus> ContainerFfmpegs,
    IReadOnlyList<SkippedStream> SkippedStreams,
    IReadOnlyList<ConnectionStatus> ConnectionList,
    BufferStatus Buffers)
{
    /// <summary>Reads the server's state now from its parts.</summary>
    /// <param name="directory">The feeds and streams, with their RTMP outputs and segmenters.</param>
    /// <param name="transcoders">The feeds' encoders (what each stream is: encoded, passed through or idle).</param>
    /// <param name="limits">The connections and the counts held against the limits.</param>
    /// <param name="config">The limits' values (MaxHTTPConnections, MaxClients, MaxBandwidth).</param>
    /// <param name="buffers">The server's pool of blocks.</param>
    /// <param name="time">The server's clock: the snapshot's time.</param>
    /// <param name="started">When the server started.</param>
    public static StatusSnapshot Capture(
        StreamDirectory directory,
        IEnumerable<FeedTranscoder> transcoders,
        Limits limits,
        ServerConfig config,
        BlockPool buffers,
        TimeProvider time,
        DateTimeOffset started)
    {
        var feeds = directory.Feeds.Values.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f =>
        {
            var p = f.CurrentPublisher;
            return new FeedStatus(
                f.Name,
                p is null ? null : new PublisherStatus(p.Remote.ToString(), p.Via, p.Format, p.Since, p.BytesReceived),
                f.MeasuredBitRate / 1000,
                f.PacketsReceived,
                f.RingBytes,
                f.Tracks.Select(TrackStatus.Of).ToList(),
                f.File is { } file ? FeedFileStatus.Of(file) : null);
        }).ToList();

        var streams = directory.Streams.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => new StreamStatus(
            s.Name,
            s.Config.Feed ?? (s.Config.SourceFile is { } file ? $"file {file}" : ""),
            s.Format.Name,
            s.Format.ContentType,
            s.BitRateKbps,
            limits.Connections.Count(c => c.Kind == ClientKind.Viewer && c.Name == s.Name),
            s.ConnectionsServed + (directory.RtmpStreams.GetValueOrDefault(s.Name)?.ConnectionsServed ?? 0), // RTMP players too
            s.BytesSent + (directory.RtmpStreams.GetValueOrDefault(s.Name)?.BytesSent ?? 0),
            Mode(transcoders, s.Name),
            s.Output?.Tracks.Select(TrackStatus.Of).ToList() ?? [],
            directory.Segmenters.GetValueOrDefault(s.Name) is { } segmenter ? HlsStatus.Of(segmenter) : null)).ToList();

        var encoders = transcoders.OrderBy(t => t.Source.Name, StringComparer.Ordinal)
            .SelectMany(t => t.Encoders).ToList();

        // The streams whose container one ffmpeg each writes (mpeg, asf, swf, ismv).
        var containerFfmpegs = directory.Streams.Values.OrderBy(s => s.Name, StringComparer.Ordinal)
            .Select(s => s.FfmpegStatus).OfType<ContainerFfmpegStatus>().ToList();

        var connections = limits.Connections.OrderBy(c => c.Id).Select(c => new ConnectionStatus(
            c.Id,
            (c.Remote.IsIPv4MappedToIPv6 ? c.Remote.MapToIPv4() : c.Remote).ToString(),
            c.Method,
            c.Target,
            c.Kind.ToString().ToLowerInvariant(),
            c.State,
            c.BitRateKbps,
            c.BytesSent,
            c.BytesReceived,
            c.Start)).ToList();

        return new StatusSnapshot(
            "Sluice", time.GetUtcNow(), started,
            limits.HttpConnections, config.MaxHTTPConnections,
            limits.Clients, config.MaxClients,
            limits.BandwidthKbps, config.MaxBandwidth,
            feeds, streams, encoders, containerFfmpegs, config.SkippedStreams, connections,
            new BufferStatus(buffers.Rented, buffers.Created, buffers.FreeBytes));
    }

    private static string Mode(IEnumerable<FeedTranscoder> transcoders, string stream)
    {
        foreach (var transcoder in transcoders)
        {
            foreach (var rendition in transcoder.Renditions)
            {
                if (rendition.Name == stream)
                {
                    return rendition.Mode switch
                    {
                        RenditionMode.PassThrough => "pass-through",
                        RenditionMode.Encoded when rendition.Failure is { } failure => $"encoded ({failure})",
                        RenditionMode.Encoded => "encoded",
                        _ => "idle",
                    };
                }
            }
        }

        return "idle";
    }
}

/// <summary>
/// The server's pooled blocks (packet payloads, muxer framing): lent so far, made so far (the rest were lent again
/// after their last holder let go), and bytes free in the pool now.
/// </summary>
internal sealed record BufferStatus(long BlocksLent, long BlocksMade, long FreeBytes);

internal sealed record FeedStatus(string Name, PublisherStatus? Publisher, long BitRateKbps, long Packets, long BufferedBytes, IReadOnlyList<TrackStatus> Tracks, FeedFileStatus? File = null);

/// <summary>
/// A feed's file: where, how big, the feed times (90 kHz ticks) and wall-clock times of its oldest and newest GOP
/// starts, its state (writing, stopped and why, read-only), its tracks, the packets a reader can read, and the
/// packets not written (its queue was full; writing had stopped).
/// </summary>
internal sealed record FeedFileStatus(
    string Path, long Size, string State, string? StopReason, IReadOnlyList<TrackStatus> Tracks, long Packets, long Written,
    long? OldestDts, long? NewestDts, DateTimeOffset? Oldest, DateTimeOffset? Newest, long QueueDropped, long Skipped)
{
    public static FeedFileStatus Of(Feeds.FeedFile f)
    {
        var (oldest, newest) = (f.Oldest, f.Newest);
        return new FeedFileStatus(f.Path, f.Size, f.State.ToString().ToLowerInvariant(), f.StopReason, f.Tracks.Select(TrackStatus.Of).ToList(),
            f.Packets, f.Written, oldest?.Dts, newest?.Dts, oldest?.Received, newest?.Received, f.QueueDropped, f.Skipped);
    }
}

internal sealed record PublisherStatus(string Address, string Via, string? Format, DateTimeOffset Since, long BytesReceived);

internal sealed record StreamStatus(string Name, string Feed, string Format, string ContentType, long BitRateKbps, int Viewers, long ConnectionsServed, long BytesSent, string Mode, IReadOnlyList<TrackStatus> Tracks, HlsStatus? Hls);

/// <summary>A stream's HLS and DASH: its segments, and what players asked of them (players: distinct addresses with a playlist request in the last 30 s).</summary>
internal sealed record HlsStatus(string SegmentFormat, string? Unavailable, long Segments, long NewestSegment, int TargetDuration, int Players, long Playlists, long SegmentsServed, long PartsServed, long BytesSent)
{
    public static HlsStatus Of(Hls.HlsSegmenter segmenter)
    {
        var audience = segmenter.Audience;
        return new HlsStatus(segmenter.IsCmaf ? "fmp4" : "ts", segmenter.Unavailable, segmenter.SegmentsMade, segmenter.NextSequence - 1, segmenter.TargetDuration,
            audience.Players(), audience.Playlists, audience.Segments, audience.Parts, audience.BytesSent);
    }
}

internal sealed record TrackStatus(int Index, string Kind, string Codec, int Width, int Height, int SampleRate, int Channels)
{
    public static TrackStatus Of(TrackInfo t) =>
        new(t.Index, t.Kind.ToString().ToLowerInvariant(), CodecIds.FfmpegName(t.Codec), t.Width, t.Height, t.SampleRate, t.Channels);

    public override string ToString() => Kind switch
    {
        "video" => $"{Codec} {Width}x{Height}",
        "audio" => $"{Codec} {SampleRate} Hz {Channels} ch",
        _ => Codec,
    };
}

internal sealed record ConnectionStatus(long Id, string Address, string Method, string Url, string Kind, string State, long BitRateKbps, long BytesSent, long BytesReceived, DateTimeOffset Since);
