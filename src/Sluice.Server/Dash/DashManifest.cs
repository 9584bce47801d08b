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
        var first = segments[0];
        var init = segments[^1].Init ?? first.Init;
        var tracks = init?.Tracks ?? [];
        var writers = init?.TrackWriters ?? [];

        // Each track's timeline is its own fragments' media times, in its own timescale (the audio's sample rate):
        // S@t is the tfdt of the track's fragment of that segment and S@d the length of its samples.
        var timelines = new List<(long Start, long Duration)>[tracks.Count];
        for (int t = 0; t < tracks.Count; t++)
        {
            timelines[t] = [];
            foreach (var segment in segments)
            {
                if (t < segment.TrackSpans.Count && segment.TrackSpans[t] is { Start: not long.MinValue } span
                    && segment.Init?.TrackWriters is { } own && t < own.Length)
                {
                    long start = own[t].TrackTime(0, span.Start);
                    timelines[t].Add((start, Math.Max(own[t].TrackTime(0, span.End) - start, 1)));
                }
            }
        }

        // The wall clock of media time 0, from the track that times the segments (its t is the segment's PDT).
        int timing = TimingTrack(tracks);
        var availabilityStart = first.ProgramDateTime;
        if (timing >= 0 && timing < writers.Length && timing < first.TrackSpans.Count && first.TrackSpans[timing].Start != long.MinValue)
        {
            availabilityStart -= TimeSpan.FromSeconds(writers[timing].TrackTime(0, first.TrackSpans[timing].Start) / (double)writers[timing].TimescaleOf(0));
        }
        else
        {
            availabilityStart -= TimeSpan.FromSeconds(first.StartTicks / 90000.0);
        }

        // The manifest's time is that of what it lists, the wall clock of the end of its newest segment: a manifest
        // fetched again with nothing new is the same manifest (ISO 23009-1: one publishTime, one content), and a feed
        // that stalls does not leave its listed segments behind the time-shift window of a publishTime that ran on.
        DateTimeOffset? newest = null;
        for (int t = 0; t < tracks.Count; t++)
        {
            if (timelines[t].Count > 0 && t < writers.Length && timelines[t][^1] is var last)
            {
                var end = availabilityStart + TimeSpan.FromSeconds((last.Start + last.Duration) / (double)writers[t].TimescaleOf(0));
                newest = newest is { } n && n >= end ? n : end;
            }
        }

        var publish = newest ?? now;

        // The time-shift window stays the same from the first manifest on: what the list can hold at its longest (each
        // segment at most the target duration) and the segment being made.
        double window = (segmenter.Settings.ListSize + 1) * (double)snapshot.TargetDuration;
        double target = segmenter.Settings.SegmentDuration;
        var b = new StringBuilder(2048);
        b.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        b.Append(CultureInfo.InvariantCulture,
            $"<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\" availabilityStartTime=\"{Time(availabilityStart)}\" publishTime=\"{Time(publish, up: true)}\" minimumUpdatePeriod=\"{Duration(target)}\" minBufferTime=\"{Duration(target)}\" timeShiftBufferDepth=\"{Duration(window)}\" suggestedPresentationDelay=\"{Duration(target * 1.5)}\">\n");
        b.Append("  <Period id=\"0\" start=\"PT0S\">\n");
        // One adaptation set a track (players such as ffmpeg's take one track a representation), all over the same
        // segments, each on its own times.
        for (int t = 0; t < tracks.Count; t++)
        {
            var track = tracks[t];
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
            int timescale = t < writers.Length ? writers[t].TimescaleOf(0) : 90000;
            b.Append(CultureInfo.InvariantCulture,
                $"        <SegmentTemplate timescale=\"{timescale}\" initialization=\"{MediaUrl.DashInit(epoch, init!.Generation, t)}\" media=\"{MediaUrl.DashTimeTemplate(epoch, t)}\">\n");
            b.Append("          <SegmentTimeline>\n");
            foreach (var (start, duration) in timelines[t])
            {
                b.Append(CultureInfo.InvariantCulture, $"            <S t=\"{start}\" d=\"{duration}\"/>\n");
            }

            b.Append("          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n    </AdaptationSet>\n");
        }

        b.Append("  </Period>\n</MPD>\n");
        return b.ToString();
    }

    /// <summary>The track the segments are cut on: the video, else the first.</summary>
    private static int TimingTrack(IReadOnlyList<TrackInfo> tracks)
    {
        for (int t = 0; t < tracks.Count; t++)
        {
            if (tracks[t].Kind == MediaKind.Video)
            {
                return t;
            }
        }

        return tracks.Count > 0 ? 0 : -1;
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
}
