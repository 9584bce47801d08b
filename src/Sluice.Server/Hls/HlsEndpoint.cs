using System.Globalization;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Dash;
using Sluice.Server.Delivery;
using Sluice.Server.Streams;

namespace Sluice.Server.Hls;

/// <summary>
/// GET /&lt;stream&gt;/...: the HLS playlists, the DASH manifest, and the segments, parts and init segments they list,
/// from memory. Segments, parts and init segments never change once made: a CDN may keep them for a year. Playlists
/// change every part: cached for a second. A request for a segment or part about to exist (or a playlist with
/// <c>_HLS_msn</c>) waits for it. The names are <see cref="MediaUrl"/>'s; the DASH ones are answered by
/// <see cref="DashEndpoint"/>.
/// </summary>
internal sealed class HlsEndpoint
{
    private const string PlaylistType = "application/vnd.apple.mpegurl";

    /// <summary>The highest _HLS_part a blocking request may wait for.</summary>
    private const int MaxPart = 1000;

    /// <summary>A live playlist offers a player its start point this many segments from the end (RFC 8216 6.3.3).</summary>
    private const int StartSegments = 3;

    private readonly StreamDirectory _directory;
    private readonly SegmentedResponses _responses;
    private readonly DashEndpoint _dash;
    private readonly Func<HlsSnapshot, HlsSegmenter, string> _renderMedia;

    /// <param name="directory">The streams whose segmenters a multivariant playlist lists as variants of each other.</param>
    /// <param name="started">When the server started: part of every body's name.</param>
    /// <param name="time">The server's clock, for the waits of blocking requests.</param>
    public HlsEndpoint(StreamDirectory directory, DateTimeOffset started, TimeProvider time)
    {
        _directory = directory;
        // Part of every segment's name: after a restart the same numbers are other bytes, and a cache must not mix them.
        Epoch = started.ToUnixTimeSeconds();
        _responses = new SegmentedResponses(Epoch, time);
        _dash = new DashEndpoint(_responses, time);
        _renderMedia = (snapshot, segmenter) => HlsPlaylist.Media(snapshot, segmenter, Epoch);
    }

    /// <summary>Part of every body's name (<see cref="MediaUrl.Epoch"/>): the Unix seconds of the server's start.</summary>
    public long Epoch { get; }

    public async Task HandleAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, string resource, ClientConnection connection)
    {
        // Parsed in place: a player asks for a segment or part several times a second.
        MediaUrl? url = MediaUrl.TryParse(resource, out var parsed) ? parsed : null;
        await RouteAsync(context, stream, segmenter, resource, url, connection).ConfigureAwait(false);
        var response = context.Response;
        if (response.StatusCode is 200 or 206 && url is { } served)
        {
            long bytes = response.ContentLength ?? 0;
            if (served.IsPlaylist)
            {
                segmenter.Audience.Playlist(connection.Remote, bytes);
            }
            else
            {
                segmenter.Audience.Media(bytes, served.Kind == MediaUrlKind.Part);
            }
        }
    }

    private async Task RouteAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, string resource, MediaUrl? parsed, ClientConnection connection)
    {
        connection.Name = stream.Name;
        if (Admission.Allows(stream.Config, connection.Remote) is { } refusal)
        {
            await Responses.TextAsync(context, refusal.StatusCode, refusal.Reason).ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.Headers.AccessControlAllowOrigin = "*";
        var aborted = context.RequestAborted;
        if (parsed is not { } url || (!url.IsPlaylist && url.Epoch != Epoch))
        {
            string reason = parsed is null && MediaUrl.HasEpoch(resource, Epoch)
                ? $"Stream {stream.Name} has no {Responses.Quote(resource)}."
                : $"Stream {stream.Name} has no {Responses.Quote(resource)}: its HLS starts at /{stream.Name}/{MediaUrl.MultivariantName} and its DASH at /{stream.Name}/{MediaUrl.ManifestName}.";
            await Responses.TextAsync(context, 404, reason).ConfigureAwait(false);
            return;
        }

        string media = segmenter.Width > 0 ? "video/mp4" : "audio/mp4";
        switch (url.Kind)
        {
            case MediaUrlKind.Multivariant:
                await MultivariantAsync(context, stream, segmenter, aborted).ConfigureAwait(false);
                return;
            case MediaUrlKind.MediaPlaylist:
                await MediaPlaylistAsync(context, segmenter, aborted).ConfigureAwait(false);
                return;
            case MediaUrlKind.DashManifest:
                await _dash.ManifestAsync(context, stream, segmenter, aborted).ConfigureAwait(false);
                return;
            case MediaUrlKind.Init:
            {
                int generation = (int)url.Number;
                var init = segmenter.FindInit(generation);
                await _responses.MediaAsync(context, stream, init?.Data, init?.Created, new BodyTag('i', generation), media, resource).ConfigureAwait(false);
                return;
            }

            case MediaUrlKind.DashInit:
                await _dash.InitAsync(context, stream, segmenter, url, resource).ConfigureAwait(false);
                return;
            case MediaUrlKind.DashSegment when segmenter.IsCmaf:
                await _dash.SegmentAsync(context, stream, segmenter, url, resource, aborted).ConfigureAwait(false);
                return;
            case MediaUrlKind.Segment when segmenter.IsCmaf:
            case MediaUrlKind.TsSegment when !segmenter.IsCmaf:
            {
                var segment = await _responses.CompleteSegmentAsync(segmenter, url.Number, aborted).ConfigureAwait(false);
                string type = url.Kind == MediaUrlKind.TsSegment ? "video/mp2t" : media;
                await _responses.MediaAsync(context, stream, segment?.Data, segment?.Completed, new BodyTag('s', url.Number), type, resource).ConfigureAwait(false);
                return;
            }

            case MediaUrlKind.Part when segmenter.IsCmaf:
            {
                var part = await _responses.PartAsync(segmenter, url.Number, url.Index, aborted).ConfigureAwait(false);
                await _responses.MediaAsync(context, stream, part?.Data, part?.Created, new BodyTag('p', url.Number, url.Index), media, resource).ConfigureAwait(false);
                return;
            }
        }

        await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {Responses.Quote(resource)}.").ConfigureAwait(false);
    }

    private async Task MultivariantAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, CancellationToken aborted)
    {
        // A player needs the codecs and size before it starts: wait for the first segment (a few seconds at most).
        if (await _responses.WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > 0 ? segmenter : null, aborted, TimeSpan.FromSeconds(15)).ConfigureAwait(false) is null)
        {
            await Responses.TextAsync(context, 503, $"Stream {stream.Name} has no HLS yet: {segmenter.Unavailable ?? "its first segment is not complete"}.").ConfigureAwait(false);
            return;
        }

        // Variants: this stream first, then every other stream of the same feed served in the same segment form.
        // Relative to this playlist (so a proxy's path prefix is kept): one "../" for each part of this stream's name.
        string root = string.Concat(Enumerable.Repeat("../", stream.Name.Count(c => c == '/') + 1));
        var variants = new List<(string, HlsSegmenter, long)> { (MediaUrl.MediaPlaylistName, segmenter, SegmentedResponses.BandwidthOf(stream, segmenter)) };
        foreach (var (name, other) in _directory.Segmenters)
        {
            if (other != segmenter && other.Config.Feed is { } feed && feed == stream.Config.Feed && other.IsCmaf == segmenter.IsCmaf
                && other.SegmentsMade > 0 && other.Unavailable is null && _directory.Streams.TryGetValue(name, out var sibling)
                && !variants.Any(v => SameRendition(v.Item2, other))
                && sibling.Config.Acl.Allows(context.Connection.RemoteIpAddress ?? System.Net.IPAddress.None))
            {
                variants.Add(($"{root}{sibling.Config.UrlPath[1..]}/{MediaUrl.MediaPlaylistName}", other, SegmentedResponses.BandwidthOf(sibling, other)));
            }
        }

        await SegmentedResponses.TextAsync(context, PlaylistType, HlsPlaylist.Multivariant(variants), SegmentedResponses.Short).ConfigureAwait(false);
    }

    private async Task MediaPlaylistAsync(HttpContext context, HlsSegmenter segmenter, CancellationToken aborted)
    {
        if (context.Request.QueryString.HasValue && context.Request.Query.ContainsKey("_HLS_msn"))
        {
            if (!await BlockingReloadAsync(context, segmenter, context.Request.Query, aborted).ConfigureAwait(false))
            {
                return;
            }
        }
        else if (segmenter.SegmentsMade < Math.Min(StartSegments, segmenter.Settings.ListSize) && segmenter.NextSequence > 0)
        {
            await WaitForStartAsync(segmenter, aborted).ConfigureAwait(false);
        }

        if (segmenter.NextSequence == 0)
        {
            await Responses.TextAsync(context, 503, $"Stream {segmenter.Name} has no HLS yet: {segmenter.Unavailable ?? "its first segment is not complete"}.").ConfigureAwait(false);
            return;
        }

        await SegmentedResponses.BytesAsync(context, PlaylistType, segmenter.MediaPlaylist(_renderMedia), SegmentedResponses.Short).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>_HLS_msn</c> (and <c>_HLS_part</c>): waits until the playlist has what was asked for; false when the numbers
    /// were refused (answered with a 400).
    /// </summary>
    private async Task<bool> BlockingReloadAsync(HttpContext context, HlsSegmenter segmenter, IQueryCollection query, CancellationToken aborted)
    {
        if (!long.TryParse(query["_HLS_msn"], NumberStyles.None, CultureInfo.InvariantCulture, out long msn))
        {
            await Responses.TextAsync(context, 400, "_HLS_msn must be a whole number (a media sequence number of the playlist).").ConfigureAwait(false);
            return false;
        }

        int part = -1;
        if (query.ContainsKey("_HLS_part") && !int.TryParse(query["_HLS_part"], NumberStyles.None, CultureInfo.InvariantCulture, out part))
        {
            await Responses.TextAsync(context, 400, "_HLS_part must be a whole number (a part of the segment _HLS_msn names).").ConfigureAwait(false);
            return false;
        }

        long newest = segmenter.NextSequence - 1;
        if (msn > newest + SegmentedResponses.MaxSegmentsAhead)
        {
            await Responses.TextAsync(context, 400, $"_HLS_msn={msn} is too far ahead: the newest segment is {newest}, and a request may wait for at most {SegmentedResponses.MaxSegmentsAhead} more.").ConfigureAwait(false);
            return false;
        }

        if (part > MaxPart)
        {
            await Responses.TextAsync(context, 400, $"_HLS_part={part} is out of range: a segment has at most {MaxPart + 1} parts.").ConfigureAwait(false);
            return false;
        }

        // Ready when segment msn is complete, or (with _HLS_part) has that part.
        bool Ready() => segmenter.FindSegment(msn) is { } s && (s.IsComplete || (part >= 0 && part < s.Parts.Count))
            || (msn < newest && segmenter.FindSegment(msn) is null && msn < segmenter.NextSequence);
        // Not ready in three target durations (the publisher has gone, or not come back yet): the playlist as it
        // is. Players ask again with the same numbers and wait again, rather than giving up on a 503.
        await _responses.WaitAsync(segmenter, msn, () => Ready() ? segmenter : null, aborted, SegmentedResponses.BlockingLimit(segmenter)).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A stream that has just begun: the first playlist waits until it offers a start point three segments from the
    /// end (RFC 8216 6.3.3). Served with one or two, Chromium's own HLS loads them all while still paused, then finds
    /// nothing newer to resume at and fails (DEMUXER_ERROR_COULD_NOT_PARSE). A publisher that stops sending meanwhile
    /// (no new segment in three target durations): what there is.
    /// </summary>
    private async Task WaitForStartAsync(HlsSegmenter segmenter, CancellationToken aborted)
    {
        int wanted = Math.Min(StartSegments, segmenter.Settings.ListSize);
        for (long made = segmenter.SegmentsMade; made < wanted && segmenter.NextSequence > 0; made = segmenter.SegmentsMade)
        {
            if (await _responses.WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > made ? segmenter : null, aborted, SegmentedResponses.BlockingLimit(segmenter)).ConfigureAwait(false) is null)
            {
                break;
            }
        }
    }

    /// <summary>Streams of one feed that carry the same thing (two pass-through streams in other Formats) are one variant.</summary>
    private static bool SameRendition(HlsSegmenter a, HlsSegmenter b) =>
        a.Codecs == b.Codecs && a.Width == b.Width && a.Height == b.Height
        && Math.Abs(a.PeakBitRate - b.PeakBitRate) <= Math.Max(a.PeakBitRate, b.PeakBitRate) / 10;
}
