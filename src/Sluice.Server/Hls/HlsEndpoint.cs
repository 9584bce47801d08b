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
public sealed class HlsEndpoint
{
    public const string MultivariantName = "index.m3u8";
    public const string MediaPlaylistName = "media.m3u8";
    public const string ManifestName = "manifest.mpd";

    private const string PlaylistType = "application/vnd.apple.mpegurl";
    private const string Immutable = "public, max-age=31536000, immutable";
    private const string Short = "public, max-age=1";

    /// <summary>How far ahead of the newest segment a blocking request may ask (the draft says 2 segments).</summary>
    private const int MaxSegmentsAhead = 2;

    /// <summary>A live playlist offers a player its start point this many segments from the end (RFC 8216 6.3.3).</summary>
    private const int StartSegments = 3;

    private readonly SluiceServer _server;

    public HlsEndpoint(SluiceServer server)
    {
        _server = server;
        // Part of every segment's name: after a restart the same numbers are other bytes, and a cache must not mix them.
        Epoch = Base36(server.Started.ToUnixTimeSeconds());
    }

    public string Epoch { get; }

    public async Task HandleAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, string resource, ClientConnection connection)
    {
        await RouteAsync(context, stream, segmenter, resource, connection).ConfigureAwait(false);
        var response = context.Response;
        if (response.StatusCode is 200 or 206)
        {
            long bytes = response.ContentLength ?? 0;
            if (resource is MultivariantName or MediaPlaylistName or ManifestName)
            {
                segmenter.Audience.Playlist(connection.Remote, bytes);
            }
            else
            {
                segmenter.Audience.Media(bytes, IsPart(resource));
            }
        }
    }

    /// <summary>An LL-HLS part: <c>&lt;id&gt;-&lt;n&gt;.&lt;p&gt;.m4s</c>, the only name with a number between two dots.</summary>
    private static bool IsPart(string resource)
    {
        int first = resource.IndexOf('.');
        int second = first < 0 ? -1 : resource.IndexOf('.', first + 1);
        return second > first + 1 && char.IsAsciiDigit(resource[first + 1]);
    }

    private async Task RouteAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, string resource, ClientConnection connection)
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
        switch (resource)
        {
            case MultivariantName:
                await MultivariantAsync(context, stream, segmenter, aborted).ConfigureAwait(false);
                return;
            case MediaPlaylistName:
                await MediaPlaylistAsync(context, segmenter, aborted).ConfigureAwait(false);
                return;
            case ManifestName:
                await ManifestAsync(context, segmenter, aborted).ConfigureAwait(false);
                return;
        }

        if (!resource.StartsWith(Epoch + "-", StringComparison.Ordinal))
        {
            await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {resource}: its HLS starts at /{stream.Name}/{MultivariantName} and its DASH at /{stream.Name}/{ManifestName}.").ConfigureAwait(false);
            return;
        }

        string name = resource[(Epoch.Length + 1)..];
        if (name.StartsWith("init", StringComparison.Ordinal) && name.EndsWith(".mp4", StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(4, name.Length - 8), NumberStyles.None, CultureInfo.InvariantCulture, out int generation))
        {
            var init = segmenter.FindInit(generation);
            await MediaAsync(context, stream, init?.Data, init?.Created, $"i{generation}", segmenter.Width > 0 ? "video/mp4" : "audio/mp4", resource).ConfigureAwait(false);
            return;
        }

        if (name.StartsWith("dash", StringComparison.Ordinal) && name.EndsWith(".mp4", StringComparison.Ordinal) && name[4..^4].Split('-') is [var g, var t]
            && int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out int dashGeneration)
            && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int initTrack))
        {
            var init = segmenter.FindInit(dashGeneration);
            var data = init is not null && initTrack < init.TrackData.Count ? init.TrackData[initTrack] : null;
            await MediaAsync(context, stream, data, init?.Created, $"d{dashGeneration}-{initTrack}", TypeOfTrack(init, initTrack), resource).ConfigureAwait(false);
            return;
        }

        // DASH media by track and time: <epoch>-t<track>-<time>.m4s
        if (segmenter.IsCmaf && name.Length > 5 && name[0] == 't' && name.EndsWith(".m4s", StringComparison.Ordinal)
            && name.AsSpan(1, name.Length - 5) is var address && address.IndexOf('-') is int dash and > 0
            && int.TryParse(address[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int timeTrack)
            && long.TryParse(address[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out long startTicks))
        {
            // The segment being made is waited for (dashdec asks for the next one as soon as the last is listed).
            var complete = segmenter.FindSegmentStartingAt(startTicks) is { } found
                ? await WaitAsync(segmenter, found.Sequence, () => segmenter.FindSegment(found.Sequence) is { IsComplete: true } s ? s : null, aborted).ConfigureAwait(false)
                : null;
            var data = complete is null ? null : segmenter.FindTrackSegment(complete.Sequence, timeTrack);
            await MediaAsync(context, stream, data, complete?.Completed, $"s{complete?.Sequence}.t{timeTrack}", TypeOfTrack(complete?.Init, timeTrack), resource).ConfigureAwait(false);
            return;
        }

        var parts = name.Split('.');
        if (parts.Length is 2 or 3 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
        {
            string type = parts[^1] == "ts" ? "video/mp2t" : segmenter.Width > 0 ? "video/mp4" : "audio/mp4";
            if (parts.Length == 2 && parts[1] == (segmenter.IsCmaf ? "m4s" : "ts"))
            {
                var segment = await WaitAsync(segmenter, sequence, () => segmenter.FindSegment(sequence) is { IsComplete: true } s ? s : null, aborted).ConfigureAwait(false);
                await MediaAsync(context, stream, segment?.Data, segment?.Completed, $"s{sequence}", type, resource).ConfigureAwait(false);
                return;
            }

            if (parts.Length == 3 && parts[2] == "m4s" && segmenter.IsCmaf && parts[1].StartsWith('t')
                && int.TryParse(parts[1].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int track))
            {
                var complete = await WaitAsync(segmenter, sequence, () => segmenter.FindSegment(sequence) is { IsComplete: true } s ? s : null, aborted).ConfigureAwait(false);
                var data = complete is null ? null : segmenter.FindTrackSegment(sequence, track);
                await MediaAsync(context, stream, data, complete?.Completed, $"s{sequence}.t{track}", TypeOfTrack(complete?.Init, track), resource).ConfigureAwait(false);
                return;
            }

            if (parts.Length == 3 && parts[2] == "m4s" && segmenter.IsCmaf && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                var part = await WaitAsync(segmenter, sequence, () => segmenter.FindPart(sequence, index), aborted).ConfigureAwait(false);
                await MediaAsync(context, stream, part?.Data, part?.Created, $"p{sequence}.{index}", type, resource).ConfigureAwait(false);
                return;
            }
        }

        await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {resource}.").ConfigureAwait(false);
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
        var variants = new List<(string, HlsSegmenter, long)> { (MediaPlaylistName, segmenter, BandwidthOf(stream, segmenter)) };
        foreach (var (name, other) in _server.Segmenters)
        {
            if (other != segmenter && other.Config.Feed == stream.Config.Feed && other.IsCmaf == segmenter.IsCmaf
                && other.SegmentsMade > 0 && other.Unavailable is null && _server.Streams.TryGetValue(name, out var sibling)
                && !variants.Any(v => SameRendition(v.Item2, other))
                && sibling.Config.Acl.Allows(context.Connection.RemoteIpAddress ?? System.Net.IPAddress.None))
            {
                variants.Add(($"../{Uri.EscapeDataString(name)}/{MediaPlaylistName}", other, BandwidthOf(sibling, other)));
            }
        }

        await TextAsync(context, PlaylistType, HlsPlaylist.Multivariant(variants), Short).ConfigureAwait(false);
    }

    private async Task MediaPlaylistAsync(HttpContext context, HlsSegmenter segmenter, CancellationToken aborted)
    {
        var query = context.Request.Query;
        if (query.ContainsKey("_HLS_msn"))
        {
            if (!long.TryParse(query["_HLS_msn"], NumberStyles.None, CultureInfo.InvariantCulture, out long msn)
                || (query.ContainsKey("_HLS_part") && !int.TryParse(query["_HLS_part"], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                await Responses.TextAsync(context, 400, "_HLS_msn and _HLS_part must be whole numbers.").ConfigureAwait(false);
                return;
            }

            int part = query.ContainsKey("_HLS_part") ? int.Parse(query["_HLS_part"]!, CultureInfo.InvariantCulture) : -1;
            long newest = segmenter.NextSequence - 1;
            if (msn > newest + MaxSegmentsAhead || part > 1000)
            {
                await Responses.TextAsync(context, 400, $"_HLS_msn={msn} is too far ahead: the newest segment is {newest}, and a request may wait for at most {MaxSegmentsAhead} more.").ConfigureAwait(false);
                return;
            }

            // Ready when segment msn is complete, or (with _HLS_part) has that part.
            bool Ready() => segmenter.FindSegment(msn) is { } s && (s.IsComplete || (part >= 0 && part < s.Parts.Count))
                || (msn < newest && segmenter.FindSegment(msn) is null && msn < segmenter.NextSequence);
            // Not ready in three target durations (the publisher has gone, or not come back yet): the playlist as it
            // is. Players ask again with the same numbers and wait again, rather than giving up on a 503.
            await WaitAsync(segmenter, msn, () => Ready() ? segmenter : null, aborted, BlockingLimit(segmenter)).ConfigureAwait(false);
        }
        else
        {
            // A stream that has just begun: the first playlist waits until it offers a start point three segments from
            // the end (RFC 8216 6.3.3). Served with one or two, Chromium's own HLS loads them all while still paused,
            // then finds nothing newer to resume at and fails (DEMUXER_ERROR_COULD_NOT_PARSE).
            // A publisher that stops sending meanwhile (no new segment in three target durations): what there is.
            int wanted = Math.Min(StartSegments, segmenter.Settings.ListSize);
            for (long made = segmenter.SegmentsMade; made < wanted && segmenter.NextSequence > 0; made = segmenter.SegmentsMade)
            {
                if (await WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > made ? segmenter : null, aborted, BlockingLimit(segmenter)).ConfigureAwait(false) is null)
                {
                    break;
                }
            }
        }

        if (segmenter.NextSequence == 0)
        {
            await Responses.TextAsync(context, 503, $"Stream {segmenter.Name} has no HLS yet: {segmenter.Unavailable ?? "its first segment is not complete"}.").ConfigureAwait(false);
            return;
        }

        await BytesAsync(context, PlaylistType, segmenter.MediaPlaylist(snapshot => HlsPlaylist.Media(snapshot, segmenter, Epoch)), Short).ConfigureAwait(false);
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

    private async Task MediaAsync(HttpContext context, LiveStream stream, byte[]? data, DateTimeOffset? modified, string tag, string type, string resource)
    {
        if (data is null)
        {
            await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {resource} (any more): reload the playlist.").ConfigureAwait(false);
            return;
        }

        var request = context.Request;
        var response = context.Response;
        string etag = $"\"{Epoch}-{tag}\"";
        response.Headers.CacheControl = Immutable;
        response.Headers.ETag = etag;
        response.Headers.AcceptRanges = "bytes";
        if (modified is { } time)
        {
            response.Headers.LastModified = time.ToString("R", CultureInfo.InvariantCulture);
        }

        if (request.Headers.IfNoneMatch == etag)
        {
            response.StatusCode = 304;
            return;
        }

        int offset = 0, length = data.Length;
        if (request.Headers.Range.ToString() is { Length: > 0 } range)
        {
            if (!TryRange(range, data.Length, out offset, out length))
            {
                response.Headers.ContentRange = $"bytes */{data.Length}";
                await Responses.TextAsync(context, 416, $"Range {range} is not within the {data.Length} bytes of {resource}.").ConfigureAwait(false);
                return;
            }

            response.StatusCode = 206;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{data.Length}");
        }
        else
        {
            response.StatusCode = 200;
        }

        response.ContentType = type;
        response.ContentLength = length;
        if (!HttpMethods.IsHead(request.Method))
        {
            stream.AddBytesSent(length);
            await response.Body.WriteAsync(data.AsMemory(offset, length), context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>One range of "bytes=a-b", "bytes=a-" or "bytes=-n"; false when it is not satisfiable or not one range.</summary>
    public static bool TryRange(string header, int size, out int offset, out int length)
    {
        offset = 0;
        length = 0;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }

        var spec = header.AsSpan(6).Trim();
        int dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        var from = spec[..dash];
        var to = spec[(dash + 1)..];
        if (from.IsEmpty)
        {
            if (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out long suffix) || suffix == 0 || size == 0)
            {
                return false;
            }

            length = (int)Math.Min(suffix, size);
            offset = size - length;
            return true;
        }

        if (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out long first) || first >= size)
        {
            return false;
        }

        long last = size - 1;
        if (!to.IsEmpty && (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out last) || last < first))
        {
            return false;
        }

        offset = (int)first;
        length = (int)(Math.Min(last, size - 1) - first + 1);
        return true;
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

    private static string Base36(long value)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var b = new StringBuilder();
        do
        {
            b.Insert(0, digits[(int)(value % 36)]);
            value /= 36;
        }
        while (value > 0);
        return b.ToString();
    }
}
