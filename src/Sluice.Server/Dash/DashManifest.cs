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
        // Media time t of a segment is its decode time in 90 kHz ticks; the wall clock of t = 0 follows from the first.
        var availabilityStart = first.ProgramDateTime - TimeSpan.FromSeconds(first.StartTicks / 90000.0);
        var init = segments[^1].Init ?? first.Init;
        double window = segments.Sum(s => s.Duration);
        double target = segmenter.Settings.SegmentDuration;
        var b = new StringBuilder(2048);
        b.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        b.Append(CultureInfo.InvariantCulture,
            $"<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\" availabilityStartTime=\"{Time(availabilityStart)}\" publishTime=\"{Time(now)}\" minimumUpdatePeriod=\"{Duration(target)}\" minBufferTime=\"{Duration(target)}\" timeShiftBufferDepth=\"{Duration(window)}\" suggestedPresentationDelay=\"{Duration(target * 1.5)}\">\n");
        b.Append("  <Period id=\"0\" start=\"PT0S\">\n");
        // One adaptation set a track (players such as ffmpeg's take one track a representation), all over the same
        // segment numbers and times.
        var tracks = init?.Tracks ?? [];
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
            b.Append(CultureInfo.InvariantCulture,
                $"        <SegmentTemplate timescale=\"90000\" initialization=\"{MediaUrl.DashInit(epoch, init!.Generation, t)}\" media=\"{MediaUrl.DashTimeTemplate(epoch, t)}\">\n");
            b.Append("          <SegmentTimeline>\n");
            foreach (var segment in segments)
            {
                long duration = (long)Math.Round(segment.Duration * 90000);
                b.Append(CultureInfo.InvariantCulture, $"            <S t=\"{segment.StartTicks}\" d=\"{duration}\"/>\n");
            }

            b.Append("          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n    </AdaptationSet>\n");
        }

        b.Append("  </Period>\n</MPD>\n");
        return b.ToString();
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Duration(double seconds) => string.Create(CultureInfo.InvariantCulture, $"PT{seconds:0.###}S");
}
