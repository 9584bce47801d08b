using System.Globalization;
using System.Text;

namespace Sluice.Server.Hls;

/// <summary>
/// Writes the playlists (RFC 8216 and its successor draft with LL-HLS): the multivariant playlist of a stream and
/// its siblings from the same feed, and the media playlist of one stream, with parts, preload hint and server
/// control when its segments are CMAF.
/// </summary>
internal static class HlsPlaylist
{
    /// <summary>Parts are listed for the segments of the last this many target durations (the draft asks for 3).</summary>
    private const int PartWindowTargets = 3;

    public static string Multivariant(IEnumerable<(string Uri, HlsSegmenter Variant, long Bandwidth)> variants)
    {
        var b = new StringBuilder("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
        foreach (var (uri, variant, bandwidth) in variants)
        {
            b.Append(CultureInfo.InvariantCulture, $"#EXT-X-STREAM-INF:BANDWIDTH={Math.Max(bandwidth, 1)}");
            if (variant.Codecs.Length > 0)
            {
                b.Append(CultureInfo.InvariantCulture, $",CODECS=\"{variant.Codecs}\"");
            }

            if (variant.Width > 0 && variant.Height > 0)
            {
                b.Append(CultureInfo.InvariantCulture, $",RESOLUTION={variant.Width}x{variant.Height}");
            }

            b.Append('\n').Append(uri).Append('\n');
        }

        return b.ToString();
    }

    public static string Media(HlsSnapshot snapshot, HlsSegmenter segmenter, long epoch)
    {
        var settings = segmenter.Settings;
        bool parts = segmenter.IsCmaf;
        var b = new StringBuilder(2048);
        b.Append("#EXTM3U\n");
        b.Append(CultureInfo.InvariantCulture, $"#EXT-X-VERSION:{(parts ? 9 : 3)}\n");
        b.Append(CultureInfo.InvariantCulture, $"#EXT-X-TARGETDURATION:{snapshot.TargetDuration}\n");
        if (parts)
        {
            b.Append(CultureInfo.InvariantCulture, $"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={F(Math.Max(snapshot.PartHoldBack, 3 * settings.PartDuration))}\n");
            b.Append(CultureInfo.InvariantCulture, $"#EXT-X-PART-INF:PART-TARGET={F(settings.PartDuration)}\n");
        }
        else
        {
            b.Append("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n");
        }

        long first = snapshot.Segments.Count > 0 ? snapshot.Segments[0].Sequence : snapshot.Open?.Sequence ?? 0;
        b.Append(CultureInfo.InvariantCulture, $"#EXT-X-MEDIA-SEQUENCE:{first}\n");
        b.Append(CultureInfo.InvariantCulture, $"#EXT-X-DISCONTINUITY-SEQUENCE:{snapshot.DiscontinuitySequence}\n");

        // Parts are listed for the segments that end within the last three target durations, and the open one.
        double partWindow = PartWindowTargets * snapshot.TargetDuration;
        double fromEnd = snapshot.OpenParts.Sum(p => p.Duration);
        int firstWithParts = snapshot.Segments.Count;
        for (int i = snapshot.Segments.Count - 1; i >= 0 && fromEnd < partWindow; i--)
        {
            fromEnd += snapshot.Segments[i].Duration;
            firstWithParts = i;
        }

        HlsInit? map = null;
        for (int i = 0; i < snapshot.Segments.Count; i++)
        {
            var segment = snapshot.Segments[i];
            SegmentHead(b, segment, ref map, epoch);
            if (parts && i >= firstWithParts)
            {
                foreach (var part in segment.Parts)
                {
                    Part(b, part, epoch);
                }
            }

            b.Append(CultureInfo.InvariantCulture, $"#EXTINF:{F(segment.Duration)},\n{MediaUrl.Segment(epoch, segment.Sequence, parts)}\n");
        }

        if (snapshot.Open is { } open && parts)
        {
            SegmentHead(b, open, ref map, epoch);
            foreach (var part in snapshot.OpenParts)
            {
                Part(b, part, epoch);
            }

            b.Append(CultureInfo.InvariantCulture, $"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{MediaUrl.Part(epoch, open.Sequence, snapshot.OpenParts.Count)}\"\n");
        }

        return b.ToString();
    }

    private static void SegmentHead(StringBuilder b, HlsSegment segment, ref HlsInit? map, long epoch)
    {
        if (segment.Discontinuity)
        {
            b.Append("#EXT-X-DISCONTINUITY\n");
        }

        if (segment.Init is { } init && !ReferenceEquals(init, map))
        {
            map = init;
            b.Append(CultureInfo.InvariantCulture, $"#EXT-X-MAP:URI=\"{MediaUrl.Init(epoch, init.Generation)}\"\n");
        }

        b.Append(CultureInfo.InvariantCulture, $"#EXT-X-PROGRAM-DATE-TIME:{segment.ProgramDateTime.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}Z\n");
    }

    private static void Part(StringBuilder b, HlsPart part, long epoch)
    {
        b.Append(CultureInfo.InvariantCulture, $"#EXT-X-PART:DURATION={F(part.Duration)},URI=\"{MediaUrl.Part(epoch, part.Sequence, part.Index)}\"");
        b.Append(part.Independent ? ",INDEPENDENT=YES\n" : "\n");
    }

    private static string F(double seconds) => seconds.ToString("0.00###", CultureInfo.InvariantCulture);
}
