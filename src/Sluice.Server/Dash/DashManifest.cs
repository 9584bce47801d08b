using System.Globalization;
using System.Security;
using System.Text;
using Sluice.Media;
using Sluice.Media.Formats.Mp4;
using Sluice.Server.Hls;

namespace Sluice.Server.Dash;

/// <summary>
/// The MPEG-DASH manifest (ISO 23009-1, live profile) of a stream with CMAF segments: one Period, one adaptation set a
/// track over the segments HLS lists, with a SegmentTimeline of their real durations and addressed by time
/// (<c>$Time$</c>, as most live DASH is). Addressed by <c>$Number$</c> with a <c>startNumber</c>, ffmpeg's dashdec
/// (5.1) mixes segment numbers with positions in the timeline at each manifest update and jumps back to the oldest
/// segment listed, playing several segments twice. The segments are the <see cref="HlsSegmenter"/>'s (in <c>Hls/</c>,
/// shared with HLS), and the names <see cref="MediaUrl"/>'s.
/// </summary>
internal static class DashManifest
{
    public static string Write(HlsSnapshot snapshot, HlsSegmenter segmenter, long epoch, long bandwidth, DateTimeOffset now)
    {
        var segments = snapshot.Segments;

        // One Period a publisher session (a segment with a discontinuity begins the next), its id the HLS
        // discontinuity sequence of its segments, so that it keeps its id as the list slides.
        var periods = new List<(int Id, int First, int Count)>();
        int discontinuity = snapshot.DiscontinuitySequence;
        for (int i = 0; i < segments.Count; i++)
        {
            if (i == 0 || segments[i].Discontinuity)
            {
                discontinuity += segments[i].Discontinuity ? 1 : 0;
                periods.Add((discontinuity, i, 0));
            }

            periods[^1] = periods[^1] with { Count = periods[^1].Count + 1 };
        }

        // availabilityStartTime is the wall clock of the first session's media time 0, for the server's life. That
        // session's Period starts at 0 with its tracks' own times; a later one starts at the wall clock of its first
        // segment, and its presentationTimeOffset is its tracks' times there.
        var origin = snapshot.DashOrigin?.Wall ?? segments[0].MediaOrigin() ?? segments[0].ProgramDateTime - TimeSpan.FromSeconds(segments[0].StartTicks / 90000.0);
        long originSession = snapshot.DashOrigin?.SessionTicks ?? segments[0].SessionTicks;
        var layouts = new List<PeriodLayout>(periods.Count);
        foreach (var (id, firstIndex, count) in periods)
        {
            var first = segments[firstIndex];
            var init = segments[firstIndex + count - 1].Init ?? first.Init;
            var tracks = init?.Tracks ?? [];
            var writers = init?.TrackWriters ?? [];
            var sessionOrigin = first.MediaOrigin() ?? origin;
            int timing = HlsSegment.TimingTrack(tracks);
            var offsets = new long[tracks.Count];
            double start = 0;
            if (first.SessionTicks != originSession && timing >= 0 && timing < writers.Length)
            {
                for (int t = 0; t < tracks.Count && t < writers.Length; t++)
                {
                    offsets[t] = writers[t].TrackTime(0, first.SessionTicks);
                }

                start = Math.Max(0, (sessionOrigin - origin).TotalSeconds + (offsets[timing] / (double)writers[timing].TimescaleOf(0)));
            }

            // Each track's timeline is its own fragments' media times, in its own timescale (the audio's sample
            // rate): S@t is the tfdt of the track's fragment of that segment and S@d the length of its samples.
            var timelines = new List<(long Start, long Duration)>[tracks.Count];
            for (int t = 0; t < tracks.Count; t++)
            {
                timelines[t] = [];
                for (int i = firstIndex; i < firstIndex + count; i++)
                {
                    var segment = segments[i];
                    if (t < segment.TrackSpans.Count && segment.TrackSpans[t] is { Start: not long.MinValue } span
                        && segment.Init?.TrackWriters is { } own && t < own.Length)
                    {
                        long begin = own[t].TrackTime(0, span.Start);
                        timelines[t].Add((begin, Math.Max(own[t].TrackTime(0, span.End) - begin, 1)));
                    }
                }
            }

            layouts.Add(new PeriodLayout(id, start, init, tracks, writers, offsets, timelines));
        }

        // The manifest's time is that of what it lists, the wall clock of the end of its newest segment: a manifest
        // fetched again with nothing new is the same manifest (ISO 23009-1: one publishTime, one content), and a feed
        // that stalls does not leave its listed segments behind the time-shift window of a publishTime that ran on.
        DateTimeOffset? newest = null;
        foreach (var period in layouts)
        {
            for (int t = 0; t < period.Tracks.Count && t < period.Writers.Length; t++)
            {
                if (period.Timelines[t].Count > 0 && period.Timelines[t][^1] is var last)
                {
                    var end = origin + TimeSpan.FromSeconds(period.Start + ((last.Start + last.Duration - period.Offsets[t]) / (double)period.Writers[t].TimescaleOf(0)));
                    newest = newest is { } n && n >= end ? n : end;
                }
            }
        }

        var publish = newest ?? now;

        // The time-shift window stays the same from the first manifest on: what the list can hold at its longest (each
        // segment at most the target duration) and the segment being made. A segment that ended before it (the list
        // spans a publisher's absence) is not listed, nor is a Period left with none.
        double window = (segmenter.Settings.ListSize + 1) * (double)snapshot.TargetDuration;
        var oldest = publish - TimeSpan.FromSeconds(window);
        foreach (var period in layouts)
        {
            for (int t = 0; t < period.Tracks.Count && t < period.Writers.Length; t++)
            {
                double ts = period.Writers[t].TimescaleOf(0);
                long offset = period.Offsets[t];
                period.Timelines[t].RemoveAll(s => origin + TimeSpan.FromSeconds(period.Start + ((s.Start + s.Duration - offset) / ts)) < oldest);
            }
        }

        layouts.RemoveAll(p => p.Timelines.All(t => t.Count == 0));
        double target = segmenter.Settings.SegmentDuration;
        var b = new StringBuilder(2048);
        b.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        b.Append(CultureInfo.InvariantCulture,
            $"<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\" availabilityStartTime=\"{Time(origin)}\" publishTime=\"{Time(publish, up: true)}\" minimumUpdatePeriod=\"{Duration(target)}\" minBufferTime=\"{Duration(target)}\" timeShiftBufferDepth=\"{Duration(window)}\" suggestedPresentationDelay=\"{Duration(target * 1.5)}\">\n");
        foreach (var period in layouts)
        {
            WritePeriod(b, period, epoch, bandwidth);
        }

        b.Append("</MPD>\n");
        return b.ToString();
    }

    /// <summary>One publisher session's Period: its init, tracks, writers, each track's time at the Period's start, and timelines.</summary>
    private sealed record PeriodLayout(int Id, double Start, HlsInit? Init, IReadOnlyList<TrackInfo> Tracks, FragmentedMp4Muxer[] Writers, long[] Offsets, List<(long Start, long Duration)>[] Timelines);

    private static void WritePeriod(StringBuilder b, PeriodLayout period, long epoch, long bandwidth)
    {
        b.Append(CultureInfo.InvariantCulture, $"  <Period id=\"{period.Id}\" start=\"{PreciseDuration(period.Start)}\">\n");
        // One adaptation set a track (players such as ffmpeg's take one track a representation), all over the same
        // segments, each on its own times.
        for (int t = 0; t < period.Tracks.Count; t++)
        {
            var track = period.Tracks[t];
            bool video = track.Kind == MediaKind.Video;
            b.Append(CultureInfo.InvariantCulture, $"    <AdaptationSet id=\"{t}\" contentType=\"{(video ? "video" : "audio")}\" mimeType=\"{(video ? "video/mp4" : "audio/mp4")}\" segmentAlignment=\"true\" startWithSAP=\"1\">\n");
            long share = video ? bandwidth * 9 / 10 : Math.Max(bandwidth / 10, 32_000);
            b.Append(CultureInfo.InvariantCulture, $"      <Representation id=\"{t}\" bandwidth=\"{Math.Max(share, 1)}\" codecs=\"{FragmentedMp4Muxer.CodecsParameter(track)}\"");
            if (video)
            {
                b.Append(CultureInfo.InvariantCulture, $" width=\"{track.Width}\" height=\"{track.Height}\"");
            }
            else
            {
                b.Append(CultureInfo.InvariantCulture, $" audioSamplingRate=\"{track.SampleRate}\"");
            }

            b.Append(">\n");
            int timescale = t < period.Writers.Length ? period.Writers[t].TimescaleOf(0) : 90000;
            b.Append(CultureInfo.InvariantCulture, $"        <SegmentTemplate timescale=\"{timescale}\"");
            if (period.Offsets[t] != 0)
            {
                b.Append(CultureInfo.InvariantCulture, $" presentationTimeOffset=\"{period.Offsets[t]}\"");
            }

            b.Append(CultureInfo.InvariantCulture, $" initialization=\"{MediaUrl.DashInit(epoch, period.Init!.Generation, t)}\" media=\"{MediaUrl.DashTimeTemplate(epoch, t)}\">\n");
            b.Append("          <SegmentTimeline>\n");
            foreach (var (start, duration) in period.Timelines[t])
            {
                b.Append(CultureInfo.InvariantCulture, $"            <S t=\"{start}\" d=\"{duration}\"/>\n");
            }

            b.Append("          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n    </AdaptationSet>\n");
        }

        b.Append("  </Period>\n");
    }

    /// <summary>An xs:dateTime to the millisecond, truncated, or with <paramref name="up"/> rounded up (a publishTime never before what it covers).</summary>
    private static string Time(DateTimeOffset time, bool up = false)
    {
        var utc = time.UtcDateTime;
        long rest = utc.Ticks % TimeSpan.TicksPerMillisecond;
        if (up && rest != 0)
        {
            utc = utc.AddTicks(TimeSpan.TicksPerMillisecond - rest);
        }

        return utc.ToString("yyyy-MM-ddTHH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    private static string Duration(double seconds) => string.Create(CultureInfo.InvariantCulture, $"PT{seconds:0.###}S");

    /// <summary>A Period's start, to the microsecond: its segments' wall clock is availabilityStartTime + start + (S@t - presentationTimeOffset) / timescale.</summary>
    private static string PreciseDuration(double seconds) => string.Create(CultureInfo.InvariantCulture, $"PT{seconds:0.######}S");
}
