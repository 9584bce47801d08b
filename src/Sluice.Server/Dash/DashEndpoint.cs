using Microsoft.AspNetCore.Http;
using Sluice.Media;
using Sluice.Server.Delivery;
using Sluice.Server.Hls;
using Sluice.Server.Streams;

namespace Sluice.Server.Dash;

/// <summary>
/// The DASH part of GET /&lt;stream&gt;/... (routed here by <see cref="HlsEndpoint"/>, which owns the names): the
/// manifest, and the one-track init segments and segments it lists, made from the segments HLS lists.
/// </summary>
internal sealed class DashEndpoint
{
    private readonly SegmentedResponses _responses;
    private readonly TimeProvider _time;

    public DashEndpoint(SegmentedResponses responses, TimeProvider time)
    {
        _responses = responses;
        _time = time;
    }

    public async Task ManifestAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, CancellationToken aborted)
    {
        if (!segmenter.IsCmaf)
        {
            await Responses.TextAsync(context, 404, $"Stream {segmenter.Name} has MPEG-TS segments (HLSFormat ts); DASH needs HLSFormat fmp4 ({segmenter.Config.Location}).").ConfigureAwait(false);
            return;
        }

        if (await _responses.WaitAsync(segmenter, 0, () => segmenter.SegmentsMade > 0 ? segmenter : null, aborted, TimeSpan.FromSeconds(15)).ConfigureAwait(false) is null)
        {
            await Responses.TextAsync(context, 503, $"Stream {segmenter.Name} has no DASH yet: {segmenter.Unavailable ?? "its first segment is not complete"}.").ConfigureAwait(false);
            return;
        }

        var snapshot = segmenter.Snapshot();
        string manifest = DashManifest.Write(snapshot, segmenter, _responses.Epoch, SegmentedResponses.BandwidthOf(stream, segmenter), _time.GetUtcNow());
        await SegmentedResponses.TextAsync(context, "application/dash+xml", manifest, SegmentedResponses.Short).ConfigureAwait(false);
    }

    /// <summary>A <see cref="MediaUrlKind.DashInit"/>: the init segment of one track.</summary>
    public Task InitAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, MediaUrl url, string resource)
    {
        int generation = (int)url.Number, track = url.Index;
        var init = segmenter.FindInit(generation);
        var data = init is not null && track < init.TrackData.Count ? init.TrackData[track] : null;
        return _responses.MediaAsync(context, stream, data, init?.Created, new BodyTag('d', generation, track), TypeOfTrack(init, track), resource);
    }

    /// <summary>A <see cref="MediaUrlKind.DashSegment"/>: one track of the segment that starts at a time.</summary>
    public async Task SegmentAsync(HttpContext context, LiveStream stream, HlsSegmenter segmenter, MediaUrl url, string resource, CancellationToken aborted)
    {
        // The segment being made is waited for (dashdec asks for the next one as soon as the last is listed).
        int track = url.Index;
        var complete = segmenter.FindSegmentOfTrackAt(track, url.Number) is { } found
            ? await _responses.CompleteSegmentAsync(segmenter, found.Sequence, aborted).ConfigureAwait(false)
            : null;
        var data = complete is null ? null : segmenter.FindTrackSegment(complete.Sequence, track);
        await _responses.MediaAsync(context, stream, data, complete?.Completed, new BodyTag('t', complete?.Sequence ?? -1, track), TypeOfTrack(complete?.Init, track), resource).ConfigureAwait(false);
    }

    private static string TypeOfTrack(HlsInit? init, int track) =>
        init is not null && track < init.Tracks.Count && init.Tracks[track].Kind == MediaKind.Audio ? "audio/mp4" : "video/mp4";
}
