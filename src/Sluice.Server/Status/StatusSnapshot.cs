using Sluice.Media;
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
    IReadOnlyList<ConnectionStatus> ConnectionList,
    BufferStatus Buffers)
{
    public static StatusSnapshot Capture(SluiceServer server)
    {
        var feeds = server.Feeds.Values.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f =>
        {
            var p = f.CurrentPublisher;
            return new FeedStatus(
                f.Name,
                p is null ? null : new PublisherStatus(p.Remote.ToString(), p.Via, p.Format, p.Since, p.BytesReceived),
                f.MeasuredBitRate / 1000,
                f.PacketsReceived,
                f.RingBytes,
                f.Tracks.Select(TrackStatus.Of).ToList());
        }).ToList();

        var streams = server.Streams.Values.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => new StreamStatus(
            s.Name,
            s.Config.Feed ?? "",
            s.Format.Name,
            s.Format.ContentType,
            s.BitRateKbps,
            server.Limits.Connections.Count(c => c.Kind == ClientKind.Viewer && c.Name == s.Name),
            s.ConnectionsServed + (server.RtmpStreams.GetValueOrDefault(s.Name)?.ConnectionsServed ?? 0), // RTMP players too
            s.BytesSent + (server.RtmpStreams.GetValueOrDefault(s.Name)?.BytesSent ?? 0),
            Mode(server, s.Name),
            s.Output?.Tracks.Select(TrackStatus.Of).ToList() ?? [],
            server.Segmenters.GetValueOrDefault(s.Name) is { } segmenter ? HlsStatus.Of(segmenter) : null)).ToList();

        var encoders = server.Transcoders.Values.OrderBy(t => t.Source.Name, StringComparer.Ordinal)
            .SelectMany(t => t.Encoders).ToList();

        var connections = server.Limits.Connections.OrderBy(c => c.Id).Select(c => new ConnectionStatus(
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
            "Sluice", server.Time.GetUtcNow(), server.Started,
            server.Limits.HttpConnections, server.Config.MaxHTTPConnections,
            server.Limits.Clients, server.Config.MaxClients,
            server.Limits.BandwidthKbps, server.Config.MaxBandwidth,
            feeds, streams, encoders, connections,
            new BufferStatus(server.Buffers.Rented, server.Buffers.Created, server.Buffers.FreeBytes));
    }

    private static string Mode(SluiceServer server, string stream)
    {
        foreach (var transcoder in server.Transcoders.Values)
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

internal sealed record FeedStatus(string Name, PublisherStatus? Publisher, long BitRateKbps, long Packets, long BufferedBytes, IReadOnlyList<TrackStatus> Tracks);

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
