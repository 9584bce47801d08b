using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Delivery;
using Sluice.Server.Streams;

namespace Sluice.Server.Hls;

/// <summary>
/// What the HLS endpoint and the DASH endpoint (<c>Dash/DashEndpoint.cs</c>) share, so it sits with the segmenter they
/// share: waiting for a segment or part about to exist, and answering with a playlist or a body from memory.
/// </summary>
internal sealed class SegmentedResponses
{
    /// <summary>How far ahead of the newest segment a blocking request may ask (the draft says 2 segments).</summary>
    public const int MaxSegmentsAhead = 2;

    /// <summary>Playlists and manifests change every part: cached for a second.</summary>
    public const string Short = "public, max-age=1";

    private readonly TimeProvider _time;
    private readonly ImmutableResponse _immutable;

    public SegmentedResponses(long epoch, TimeProvider time)
    {
        Epoch = epoch;
        _time = time;
        // The epoch begins every ETag too: after a restart the same numbers are other bytes.
        _immutable = new ImmutableResponse(MediaUrl.EpochText(epoch));
    }

    /// <summary>Part of every body's name (<see cref="MediaUrl.Epoch"/>): the Unix seconds of the server's start.</summary>
    public long Epoch { get; }

    public static TimeSpan BlockingLimit(HlsSegmenter segmenter) =>
        TimeSpan.FromSeconds(3 * Math.Max(segmenter.Settings.SegmentDuration, segmenter.MaxSegmentDuration));

    /// <summary>A complete segment, or waits for it (without a closure when it is there already).</summary>
    public ValueTask<HlsSegment?> CompleteSegmentAsync(HlsSegmenter segmenter, long sequence, CancellationToken aborted) =>
        segmenter.FindSegment(sequence) is { IsComplete: true } ready ? new(ready) : new(WaitForSegmentAsync(segmenter, sequence, aborted));

    private Task<HlsSegment?> WaitForSegmentAsync(HlsSegmenter segmenter, long sequence, CancellationToken aborted) =>
        WaitAsync(segmenter, sequence, () => segmenter.FindSegment(sequence) is { IsComplete: true } s ? s : null, aborted);

    /// <summary>A part, or waits for it (without a closure when it is there already).</summary>
    public ValueTask<HlsPart?> PartAsync(HlsSegmenter segmenter, long sequence, int index, CancellationToken aborted) =>
        segmenter.FindPart(sequence, index) is { } ready ? new(ready) : new(WaitForPartAsync(segmenter, sequence, index, aborted));

    private Task<HlsPart?> WaitForPartAsync(HlsSegmenter segmenter, long sequence, int index, CancellationToken aborted) =>
        WaitAsync(segmenter, sequence, () => segmenter.FindPart(sequence, index), aborted);

    /// <summary>
    /// Waits for something about to exist: until <paramref name="find"/> gives it, for at most three target durations
    /// (or <paramref name="limit"/>); immediately null when <paramref name="sequence"/> is past, gone or too far ahead.
    /// </summary>
    public async Task<T?> WaitAsync<T>(HlsSegmenter segmenter, long sequence, Func<T?> find, CancellationToken aborted, TimeSpan? limit = null)
        where T : class
    {
        var wait = limit ?? BlockingLimit(segmenter);
        long start = _time.GetTimestamp();
        while (true)
        {
            var changed = segmenter.Changed;
            if (find() is { } found)
            {
                return found;
            }

            long next = segmenter.NextSequence;
            var left = wait - _time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero || (limit is null && (sequence < next - 1 || sequence > next + MaxSegmentsAhead)))
            {
                return null;
            }

            await changed.WaitAsync(left, _time, aborted).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            aborted.ThrowIfCancellationRequested();
        }
    }

    /// <summary>A segment, part or init segment (immutable), or a 404 when it is not (any more) there.</summary>
    public async Task MediaAsync(HttpContext context, LiveStream stream, byte[]? data, DateTimeOffset? modified, BodyTag tag, string type, string resource)
    {
        if (data is null)
        {
            await Responses.TextAsync(context, 404, $"Stream {stream.Name} has no {Responses.Quote(resource)} (any more): reload the playlist.").ConfigureAwait(false);
            return;
        }

        await _immutable.WriteAsync(context, data, tag, modified, type, resource, static (s, bytes) => s.AddBytesSent(bytes), stream).ConfigureAwait(false);
    }

    /// <summary>
    /// BANDWIDTH (and DASH's bandwidth): the peak segment bit rate, which of a live stream is known only so far; a
    /// quarter more than the peak measured, and at least the stream's configured rate, so that a later segment with a
    /// little more motion does not exceed what the playlist said.
    /// </summary>
    public static long BandwidthOf(LiveStream stream, HlsSegmenter segmenter) =>
        Math.Max(segmenter.PeakBitRate * 5 / 4, stream.BitRateKbps * 1000);

    public static Task TextAsync(HttpContext context, string type, string text, string cacheControl) =>
        BytesAsync(context, type, Encoding.UTF8.GetBytes(text), cacheControl);

    public static async Task BytesAsync(HttpContext context, string type, byte[] body, string cacheControl)
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
}

/// <summary>What an ETag names: an init segment (i), a DASH init segment (d), a segment (s), a segment's track (t), a part (p).</summary>
internal readonly record struct BodyTag(char Kind, long Number, int Sub = 0)
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
