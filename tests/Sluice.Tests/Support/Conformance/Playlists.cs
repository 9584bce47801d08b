using System.Globalization;
using System.Xml.Linq;

namespace Sluice.Tests.Support.Conformance;

/// <summary>An EXT-X-PART line: its URI, DURATION and INDEPENDENT.</summary>
public sealed record HlsPart(string Uri, double Duration, bool Independent);

/// <summary>One segment of a media playlist, with what precedes its URI line.</summary>
public sealed record HlsSegmentEntry(long Sequence, string Uri, double Duration, DateTimeOffset? ProgramDateTime, string? Map, bool Discontinuity, IReadOnlyList<HlsPart> Parts);

/// <summary>A media playlist as listed at one reload: its complete segments, and the open segment's parts and hint.</summary>
public sealed record HlsMediaPlaylist(
    int TargetDuration, double? PartTarget, long MediaSequence, IReadOnlyList<HlsSegmentEntry> Segments,
    long OpenSequence, IReadOnlyList<HlsPart> OpenParts, DateTimeOffset? OpenProgramDateTime, string? PreloadHint, IReadOnlyList<string> Errors,
    double? PartHoldBack = null)
{
    /// <summary>Reads a media playlist (RFC 8216 section 4.3 and the LL-HLS tags); what it cannot read is in <see cref="Errors"/>.</summary>
    public static HlsMediaPlaylist Parse(string text)
    {
        var errors = new List<string>();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0 || lines[0] != "#EXTM3U")
        {
            errors.Add("the first line is not #EXTM3U");
        }

        int target = -1;
        double? partTarget = null, partHoldBack = null;
        long sequence = -1, mediaSequence = -1;
        double extinf = -1;
        DateTimeOffset? date = null;
        string? map = null, hint = null;
        bool discontinuity = false;
        var parts = new List<HlsPart>();
        var segments = new List<HlsSegmentEntry>();
        foreach (string line in lines)
        {
            if (Tag(line, "#EXT-X-TARGETDURATION:") is { } t)
            {
                target = int.Parse(t, CultureInfo.InvariantCulture);
            }
            else if (Tag(line, "#EXT-X-PART-INF:") is { } partInf)
            {
                partTarget = double.Parse(Attributes(partInf)["PART-TARGET"], CultureInfo.InvariantCulture);
            }
            else if (Tag(line, "#EXT-X-SERVER-CONTROL:") is { } control && Attributes(control).TryGetValue("PART-HOLD-BACK", out string? holdBack))
            {
                partHoldBack = double.Parse(holdBack, CultureInfo.InvariantCulture);
            }
            else if (Tag(line, "#EXT-X-MEDIA-SEQUENCE:") is { } ms)
            {
                mediaSequence = sequence = long.Parse(ms, CultureInfo.InvariantCulture);
            }
            else if (Tag(line, "#EXT-X-MAP:") is { } m)
            {
                map = Attributes(m)["URI"];
            }
            else if (Tag(line, "#EXT-X-PROGRAM-DATE-TIME:") is { } pdt)
            {
                date = DateTimeOffset.Parse(pdt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            }
            else if (line == "#EXT-X-DISCONTINUITY")
            {
                discontinuity = true;
            }
            else if (Tag(line, "#EXT-X-PART:") is { } part)
            {
                var a = Attributes(part);
                parts.Add(new HlsPart(a["URI"], double.Parse(a["DURATION"], CultureInfo.InvariantCulture), a.GetValueOrDefault("INDEPENDENT") == "YES"));
            }
            else if (Tag(line, "#EXT-X-PRELOAD-HINT:") is { } h)
            {
                hint = Attributes(h).GetValueOrDefault("URI");
            }
            else if (Tag(line, "#EXTINF:") is { } inf)
            {
                extinf = double.Parse(inf.Split(',')[0], CultureInfo.InvariantCulture);
            }
            else if (!line.StartsWith('#'))
            {
                if (extinf < 0)
                {
                    errors.Add($"{line} has no EXTINF");
                }

                segments.Add(new HlsSegmentEntry(sequence, line, extinf, date, map, discontinuity, [.. parts]));
                sequence++;
                extinf = -1;
                date = null;
                discontinuity = false;
                parts.Clear();
            }
        }

        if (target < 0 || mediaSequence < 0)
        {
            errors.Add("no EXT-X-TARGETDURATION or EXT-X-MEDIA-SEQUENCE");
        }

        return new HlsMediaPlaylist(target, partTarget, mediaSequence, segments, sequence, [.. parts], date, hint, errors, partHoldBack);
    }

    private static string? Tag(string line, string name) => line.StartsWith(name, StringComparison.Ordinal) ? line[name.Length..] : null;

    /// <summary>An attribute list (RFC 8216 section 4.2): NAME=value pairs, quoted strings may hold commas.</summary>
    public static Dictionary<string, string> Attributes(string list)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        int i = 0;
        while (i < list.Length)
        {
            int eq = list.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            string name = list[i..eq].Trim();
            int end;
            string value;
            if (eq + 1 < list.Length && list[eq + 1] == '"')
            {
                end = list.IndexOf('"', eq + 2);
                value = list[(eq + 2)..end];
                end++;
            }
            else
            {
                end = list.IndexOf(',', eq + 1);
                end = end < 0 ? list.Length : end;
                value = list[(eq + 1)..end];
            }

            result[name] = value;
            i = end + 1;
        }

        return result;
    }
}

/// <summary>One EXT-X-STREAM-INF of a multivariant playlist.</summary>
public sealed record HlsVariant(string Uri, long Bandwidth, string? Codecs)
{
    public static List<HlsVariant> Parse(string text)
    {
        var variants = new List<HlsVariant>();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            if (lines[i].StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal))
            {
                var a = HlsMediaPlaylist.Attributes(lines[i][18..]);
                variants.Add(new HlsVariant(lines[i + 1], long.Parse(a["BANDWIDTH"], CultureInfo.InvariantCulture), a.GetValueOrDefault("CODECS")));
            }
        }

        return variants;
    }
}

/// <summary>One S of a SegmentTimeline, its repeats expanded.</summary>
public readonly record struct DashS(ulong T, ulong D);

/// <summary>One Representation of an MPD: its Period, its SegmentTemplate and its timeline, S@r expanded.</summary>
public sealed record DashRepresentation(string AdaptationSet, string Id, string ContentType, string? Codecs, ulong Timescale, string Initialization, string Media, IReadOnlyList<DashS> Timeline, IReadOnlyList<string> Gaps,
    string Period = "0", double PeriodStart = 0, ulong PresentationTimeOffset = 0)
{
    /// <summary>The Representation across reloads: its Period's id and its own.</summary>
    public string Key => $"{Period}/{Id}";

    /// <summary>The wall clock of media time <paramref name="t"/>: availabilityStartTime + Period@start + (t - presentationTimeOffset) / timescale.</summary>
    public DateTimeOffset At(DateTimeOffset availabilityStart, ulong t) =>
        availabilityStart + TimeSpan.FromSeconds(PeriodStart + (((double)t - PresentationTimeOffset) / Timescale));

    /// <summary>The URI of a segment: the template with $Time$ (and $RepresentationID$) filled in.</summary>
    public string MediaUri(ulong t) => Media.Replace("$Time$", t.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal).Replace("$RepresentationID$", Id, StringComparison.Ordinal);

    public string InitUri => Initialization.Replace("$RepresentationID$", Id, StringComparison.Ordinal);
}

/// <summary>A Period of an MPD: its id and start as written.</summary>
public sealed record DashPeriod(string Id, string? Start);

/// <summary>A dynamic MPD as fetched at one reload.</summary>
public sealed record DashMpd(string? AvailabilityStartTime, string? PublishTime, string? TimeShiftBufferDepth, IReadOnlyList<DashPeriod> Periods, IReadOnlyList<DashRepresentation> Representations, string? Error)
{
    private static readonly XNamespace Ns = "urn:mpeg:dash:schema:mpd:2011";

    public DateTimeOffset? Start => AvailabilityStartTime is null ? null : DateTimeOffset.Parse(AvailabilityStartTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public DateTimeOffset? Published => PublishTime is null ? null : DateTimeOffset.Parse(PublishTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public TimeSpan? Depth => TimeShiftBufferDepth is null ? null : System.Xml.XmlConvert.ToTimeSpan(TimeShiftBufferDepth);

    /// <summary>Reads an MPD (ISO 23009-1): its Periods, SegmentTemplate with SegmentTimeline in each Representation or AdaptationSet.</summary>
    public static DashMpd Parse(string text)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Parse(text);
        }
        catch (System.Xml.XmlException ex)
        {
            return new DashMpd(null, null, null, [], [], ex.Message);
        }

        var mpd = doc.Root!;
        var reps = new List<DashRepresentation>();
        var periods = new List<DashPeriod>();
        foreach (var period in mpd.Elements(Ns + "Period"))
        {
            string periodId = (string?)period.Attribute("id") ?? periods.Count.ToString(CultureInfo.InvariantCulture);
            string? periodStart = (string?)period.Attribute("start");
            periods.Add(new DashPeriod(periodId, periodStart));
            double startSeconds = periodStart is null ? 0 : System.Xml.XmlConvert.ToTimeSpan(periodStart).TotalSeconds;
            foreach (var set in period.Elements(Ns + "AdaptationSet"))
            {
                foreach (var rep in set.Elements(Ns + "Representation"))
                {
                    var template = rep.Element(Ns + "SegmentTemplate") ?? set.Element(Ns + "SegmentTemplate");
                    if (template is null)
                    {
                        continue;
                    }

                    var timeline = new List<DashS>();
                    var gaps = new List<string>();
                    ulong next = 0;
                    bool first = true;
                    foreach (var s in template.Element(Ns + "SegmentTimeline")?.Elements(Ns + "S") ?? [])
                    {
                        ulong d = ulong.Parse((string)s.Attribute("d")!, CultureInfo.InvariantCulture);
                        ulong t = s.Attribute("t") is { } ta ? ulong.Parse(ta.Value, CultureInfo.InvariantCulture) : next;
                        if (!first && t != next)
                        {
                            gaps.Add($"<S t=\"{t}\"> where the S before it ends at {next} ({(long)t - (long)next:+0;-0} ticks)");
                        }

                        int repeat = s.Attribute("r") is { } r ? int.Parse(r.Value, CultureInfo.InvariantCulture) : 0;
                        for (int i = 0; i <= repeat; i++)
                        {
                            timeline.Add(new DashS(t, d));
                            t += d;
                        }

                        next = t;
                        first = false;
                    }

                    reps.Add(new DashRepresentation(
                        (string?)set.Attribute("id") ?? "?", (string?)rep.Attribute("id") ?? "?",
                        (string?)set.Attribute("contentType") ?? ((string?)rep.Attribute("mimeType") ?? (string?)set.Attribute("mimeType") ?? "").Split('/')[0],
                        (string?)rep.Attribute("codecs") ?? (string?)set.Attribute("codecs"),
                        ulong.Parse((string?)template.Attribute("timescale") ?? "1", CultureInfo.InvariantCulture),
                        (string?)template.Attribute("initialization") ?? "", (string?)template.Attribute("media") ?? "", timeline, gaps,
                        periodId, startSeconds, ulong.Parse((string?)template.Attribute("presentationTimeOffset") ?? "0", CultureInfo.InvariantCulture)));
                }
            }
        }

        return new DashMpd((string?)mpd.Attribute("availabilityStartTime"), (string?)mpd.Attribute("publishTime"), (string?)mpd.Attribute("timeShiftBufferDepth"), periods, reps, periods.Count == 0 ? "no Period" : null);
    }
}
