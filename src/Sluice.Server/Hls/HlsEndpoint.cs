using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Delivery;
using Sluice.Server.Streams;

namespace Sluice.Server.Hls;

/// <summary>
/// GET /&lt;stream&gt;/...: the HLS playlists, the DASH manifest, and the segments, parts and init segments they list,
/// from memory. Segments, parts and init segments never change once made: a CDN may keep them for a year. Playlists
/// change every part: cached for a second. A request for a segment or part about to exist (or a playlist with
/// <c>_HLS_msn</c>) waits for it.
/// </summary>
internal sealed class HlsEndpoint
{
    private const string PlaylistType = "application/vnd.apple.mpegurl";
    private const string Short = "public, max-age=1";

    /// <summary>How far ahead of the newest segment a blocking request may ask (the draft says 2 segments).</summary>
    private const int MaxSegmentsAhead = 2;

    /// <summary>The highest _HLS_part a blocking request may wait for.</summary>
    private const int MaxPart = 1000;

    /// <summary>A live playlist offers a player its start point this many segments from the end (RFC 8216 6.3.3).</summary>
    private const int StartSegments = 3;

    private readonly SluiceServer _server;
    private readonly ImmutableResponse _immutable;
    private readonly Func<HlsSnapshot, HlsSegmenter, string> _renderMedia;

    public HlsEndpoint(SluiceServer server)
    {
        _server = server;
        // Part of every segment's name: after a restart the same numbers are other bytes, and a cache must not mix them.
        Epoch = server.Started.ToUnixTimeSeconds();
        // The epoch begins every ETag too: after a restart the same numbers are other bytes.
        _immutable = new ImmutableResponse(MediaUrl.EpochText(Epoch));
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
        if (!stream.Config.Acl.Allows(connection.Remote))
        {
            await Responses.TextAsync(context, 403, $"Stream {stream.Name} is not available to {connection.Remote} (the stream's ACL, {stream.Config.Location}).").ConfigureAwait(false);
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
                await ManifestAsync(context, segmenter, aborted).ConfigureAwait(false);
                return;
            case MediaUrlKind.Init:
            {
                int generation = (int)url.Number;
                var init = segmenter.FindInit(generation);
                await MediaAsync(context, stream, init?.Data, init?.Created, new Tag('i', generation), media, resource).ConfigureAwait(false);
                return;
            }

            case MediaUrlKind.DashInit:
            {
                int generation = (int)url.Number, track = url.Index;
                var init = segmenter.FindInit(generation);
                var data = init is not null && track < init.TrackData.Count ? init.TrackData[track] : null;
                await MediaAsync(context, stream, data, init?.Created, new Tag('d', generation, track), TypeOfTrack(init, track), resource).ConfigureAwait(false);
                return;
            }

            case MediaUrlKind.DashSegment when segmenter.IsCmaf:
            {
                // The segment being made is waited for (dashdec asks for the next one as soon as the last is listed).
                int track = url.Index;
                var complete = segmenter.FindSegmentStartingAt(url.Number) is { } found
                    ? await CompleteSegmentAsync(segmenter, found.Sequence, aborted).ConfigureAwait(false)
                    : null;
                var data = complete is null ? null : segmenter.FindTrackSegment(complete.Sequence, track);
                await MediaAsync(context, stream, data, complete?.Completed, new Tag('t', complete?.Sequence ?? -1, track), TypeOfTrack(complete?.Init, track), resource).ConfigureAwait(false);
                return;
            }

            case MediaUrlKind.Segment when segmenter.IsCmaf:
            case MediaUrlKind.TsSegment when !segmenter.IsCmaf:
            {
                var segment = await CompleteSegmentAsync(segmenter, url.Number, aborted).ConfigureAwait(false);
                string type = url.Kind == MediaUrlKind.TsSegment ? "video/mp2t" : media;
                await MediaAsync(context, stream, segment?.Data, segment?.Completed, new Tag('s', url.Number), type, resource).ConfigureAwait(false);
                return;
            }

            case MediaUrlKind.Part when segmenter.IsCmaf:
            {
                var part = await PartAsync(segmenter, url.Number, url.Index, aborted).ConfigureAwait(false);
                await MediaAsync(context, stream, part?.Data, part?.Created, new Tag('p', url.Number, url.Index), media, resource).ConfigureAwait(false);
                return;
            }
        }

        await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {Responses.Quote(resource)}.").ConfigureAwait(false);
    }

    private async Task MultivariantAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, CancellationToken aborted)
    {
        // A player needs the codecs and size before it starts: wait for the first segment (a few seconds at most).
        if (await WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > 0 ? segmenter : null, aborted, TimeSpan.FromSeconds(15)).ConfigureAwait(false) is null)
        {
            await Responses.TextAsync(context, 503, $"Stream {stream.Name} has no HLS yet: {segmenter.Unavailable ?? "its first segment is not complete"}.").ConfigureAwait(false);
            return;
        }

        // Variants: this stream first, then every other stream of the same feed served in the same segment form.
        var variants = new List<(string, HlsSegmenter, long)> { (MediaUrl.MediaPlaylistName, segmenter, BandwidthOf(stream, segmenter)) };
        foreach (var (name, other) in _server.Segmenters)
        {
            if (other != segmenter && other.Config.Feed == stream.Config.Feed && other.IsCmaf == segmenter.IsCmaf
                && other.SegmentsMade > 0 && other.Unavailable is null && _server.Streams.TryGetValue(name, out var sibling)
                && !variants.Any(v => SameRendition(v.Item2, other))
                && sibling.Config.Acl.Allows(context.Connection.RemoteIpAddress ?? System.Net.IPAddress.None))
            {
                variants.Add(($"../{Uri.EscapeDataString(name)}/{MediaUrl.MediaPlaylistName}", other, BandwidthOf(sibling, other)));
            }
        }

        await TextAsync(context, PlaylistType, HlsPlaylist.Multivariant(variants), Short).ConfigureAwait(false);
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

        await BytesAsync(context, PlaylistType, segmenter.MediaPlaylist(_renderMedia), Short).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>_HLS_msn</c> (and <c>_HLS_part</c>): waits until the playlist has what was asked for; false when the numbers
    /// were refused (answered with a 400).
    /// </summary>
    private static async Task<bool> BlockingReloadAsync(HttpContext context, HlsSegmenter segmenter, IQueryCollection query, CancellationToken aborted)
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
        if (msn > newest + MaxSegmentsAhead)
        {
            await Responses.TextAsync(context, 400, $"_HLS_msn={msn} is too far ahead: the newest segment is {newest}, and a request may wait for at most {MaxSegmentsAhead} more.").ConfigureAwait(false);
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
        await WaitAsync(segmenter, msn, () => Ready() ? segmenter : null, aborted, BlockingLimit(segmenter)).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A stream that has just begun: the first playlist waits until it offers a start point three segments from the
    /// end (RFC 8216 6.3.3). Served with one or two, Chromium's own HLS loads them all while still paused, then finds
    /// nothing newer to resume at and fails (DEMUXER_ERROR_COULD_NOT_PARSE). A publisher that stops sending meanwhile
    /// (no new segment in three target durations): what there is.
    /// </summary>
    private static async Task WaitForStartAsync(HlsSegmenter segmenter, CancellationToken aborted)
    {
        int wanted = Math.Min(StartSegments, segmenter.Settings.ListSize);
        for (long made = segmenter.SegmentsMade; made < wanted && segmenter.NextSequence > 0; made = segmenter.SegmentsMade)
        {
            if (await WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > made ? segmenter : null, aborted, BlockingLimit(segmenter)).ConfigureAwait(false) is null)
            {
                break;
            }
        }
    }

    private async Task ManifestAsync(HttpContext context, HlsSegmenter segmenter, CancellationToken aborted)
    {
        if (!segmenter.IsCmaf)
        {
            await Responses.TextAsync(context, 404, $"Stream {segmenter.Name} has MPEG-TS segments (HLSFormat ts); DASH needs HLSFormat fmp4 ({segmenter.Config.Location}).").ConfigureAwait(false);
            return;
        }

        if (await WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > 0 ? segmenter : null, aborted, TimeSpan.FromSeconds(15)).ConfigureAwait(false) is null)
        {
            await Responses.TextAsync(context, 503, $"Stream {segmenter.Name} has no DASH yet: {segmenter.Unavailable ?? "its first segment is not complete"}.").ConfigureAwait(false);
            return;
        }

        var snapshot = segmenter.Snapshot();
        var stream = _server.Streams[segmenter.Name];
        await TextAsync(context, "application/dash+xml", DashManifest.Write(snapshot, segmenter, Epoch, BandwidthOf(stream, segmenter), _server.Time.GetUtcNow()), Short).ConfigureAwait(false);
    }

    private static TimeSpan BlockingLimit(HlsSegmenter segmenter) =>
        TimeSpan.FromSeconds(3 * Math.Max(segmenter.Settings.SegmentDuration, segmenter.MaxSegmentDuration));

    /// <summary>A complete segment, or waits for it (without a closure when it is there already).</summary>
    private static ValueTask<HlsSegment?> CompleteSegmentAsync(HlsSegmenter segmenter, long sequence, CancellationToken aborted) =>
        segmenter.FindSegment(sequence) is { IsComplete: true } ready ? new(ready) : new(WaitForSegmentAsync(segmenter, sequence, aborted));

    private static Task<HlsSegment?> WaitForSegmentAsync(HlsSegmenter segmenter, long sequence, CancellationToken aborted) =>
        WaitAsync(segmenter, sequence, () => segmenter.FindSegment(sequence) is { IsComplete: true } s ? s : null, aborted);

    /// <summary>A part, or waits for it (without a closure when it is there already).</summary>
    private static ValueTask<HlsPart?> PartAsync(HlsSegmenter segmenter, long sequence, int index, CancellationToken aborted) =>
        segmenter.FindPart(sequence, index) is { } ready ? new(ready) : new(WaitForPartAsync(segmenter, sequence, index, aborted));

    private static Task<HlsPart?> WaitForPartAsync(HlsSegmenter segmenter, long sequence, int index, CancellationToken aborted) =>
        WaitAsync(segmenter, sequence, () => segmenter.FindPart(sequence, index), aborted);

    /// <summary>
    /// Waits for something about to exist: until <paramref name="find"/> gives it, for at most three target durations
    /// (or <paramref name="limit"/>); immediately null when <paramref name="sequence"/> is past, gone or too far ahead.
    /// </summary>
    private static async Task<T?> WaitAsync<T>(HlsSegmenter segmenter, long sequence, Func<T?> find, CancellationToken aborted, TimeSpan? limit = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (limit ?? BlockingLimit(segmenter));
        while (true)
        {
            var changed = segmenter.Changed;
            if (find() is { } found)
            {
                return found;
            }

            long next = segmenter.NextSequence;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || (limit is null && (sequence < next - 1 || sequence > next + MaxSegmentsAhead)))
            {
                return null;
            }

            await changed.WaitAsync(left, aborted).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            aborted.ThrowIfCancellationRequested();
        }
    }

    private async Task MediaAsync(HttpContext context, LiveStream stream, byte[]? data, DateTimeOffset? modified, Tag tag, string type, string resource)
    {
        if (data is null)
        {
            await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {Responses.Quote(resource)} (any more): reload the playlist.").ConfigureAwait(false);
            return;
        }

        await _immutable.WriteAsync(context, data, tag, modified, type, resource, static (s, bytes) => s.AddBytesSent(bytes), stream).ConfigureAwait(false);
    }

    /// <summary>Streams of one feed that carry the same thing (two pass-through streams in other Formats) are one variant.</summary>
    private static bool SameRendition(HlsSegmenter a, HlsSegmenter b) =>
        a.Codecs == b.Codecs && a.Width == b.Width && a.Height == b.Height
        && Math.Abs(a.PeakBitRate - b.PeakBitRate) <= Math.Max(a.PeakBitRate, b.PeakBitRate) / 10;

    private static string TypeOfTrack(HlsInit? init, int track) =>
        init is not null && track < init.Tracks.Count && init.Tracks[track].Kind == Sluice.Media.MediaKind.Audio ? "audio/mp4" : "video/mp4";

    private long BandwidthOf(LiveStream stream, HlsSegmenter segmenter) =>
        segmenter.PeakBitRate > 0 ? segmenter.PeakBitRate : stream.BitRateKbps * 1000;

    private static Task TextAsync(HttpContext context, string type, string text, string cacheControl) =>
        BytesAsync(context, type, Encoding.UTF8.GetBytes(text), cacheControl);

    private static async Task BytesAsync(HttpContext context, string type, byte[] body, string cacheControl)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = type;
        response.Headers.CacheControl = cacheControl;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>What an ETag names: an init segment (i), a DASH init segment (d), a segment (s), a segment's track (t), a part (p).</summary>
    private readonly record struct Tag(char Kind, long Number, int Sub = 0)
    {
        public override string ToString() => Kind switch
        {
            'i' => string.Create(CultureInfo.InvariantCulture, $"i{Number}"),
            'd' => string.Create(CultureInfo.InvariantCulture, $"d{Number}-{Sub}"),
            't' => string.Create(CultureInfo.InvariantCulture, $"s{Number}.t{Sub}"),
            'p' => string.Create(CultureInfo.InvariantCulture, $"p{Number}.{Sub}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"s{Number}"),
        };
    }

    private sealed record Validators(Tag Tag, string ETag, string? LastModified);
}
