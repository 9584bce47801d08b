namespace Sluice.Tests.Support.Conformance;

public static partial class Validator
{
    /// <summary>
    /// The MPD rules over its reloads, and each track's timeline against the fragments fetched at its $Time$. Times on
    /// the wall clock are availabilityStartTime + Period@start + (S@t - presentationTimeOffset) / timescale, each
    /// Representation known across reloads by its Period's id and its own.
    /// </summary>
    public static List<Finding> CheckDash(DashCapture capture)
    {
        var findings = new List<Finding>(capture.Fetching);
        string name = capture.Name;
        DashMpd? previousMpd = null;
        var firstT = new Dictionary<string, ulong>();
        var lastEnd = new Dictionary<string, ulong>();
        var durationOf = new Dictionary<(string Rep, ulong T), ulong>();
        var latest = new Dictionary<string, DashRepresentation>();
        for (int reload = 0; reload < capture.Manifests.Count; reload++)
        {
            var mpd = DashMpd.Parse(capture.Manifests[reload]);
            string at = $"{name} MPD reload {reload}";
            if (mpd.Error is not null || mpd.Start is null || mpd.Published is null)
            {
                findings.Add(new Finding(Rules.DashSyntax, at, mpd.Error ?? "no availabilityStartTime or publishTime"));
                continue;
            }

            var before = previousMpd ?? mpd;
            foreach (var (attribute, now, then) in new[]
            {
                ("availabilityStartTime", mpd.AvailabilityStartTime, before.AvailabilityStartTime),
                ("timeShiftBufferDepth", mpd.TimeShiftBufferDepth, before.TimeShiftBufferDepth),
            })
            {
                if (now != then)
                {
                    findings.Add(new Finding(Rules.DashStable, at, $"{attribute}=\"{now}\", \"{then}\" in the reload before"));
                }
            }

            foreach (var period in mpd.Periods)
            {
                if (before.Periods.FirstOrDefault(p => p.Id == period.Id) is { } then && then.Start != period.Start)
                {
                    findings.Add(new Finding(Rules.DashStable, at, $"Period {period.Id} start=\"{period.Start}\", \"{then.Start}\" in the reload before"));
                }
            }

            previousMpd = mpd;

            var start = mpd.Start.Value;
            var published = mpd.Published.Value;
            CheckPeriodOrder(findings, at, mpd, start);
            foreach (var rep in mpd.Representations)
            {
                string where = $"{at} AdaptationSet {rep.AdaptationSet} ({rep.ContentType}) Representation {rep.Id}";
                foreach (string gap in rep.Gaps)
                {
                    findings.Add(new Finding(Rules.TimelineContiguous, where, gap));
                }

                if (rep.Timeline.Count == 0)
                {
                    continue;
                }

                latest[rep.Key] = rep;
                ulong head = rep.Timeline[0].T, end = rep.Timeline[^1].T + rep.Timeline[^1].D;
                if (firstT.TryGetValue(rep.Key, out ulong headBefore) && head < headBefore)
                {
                    findings.Add(new Finding(Rules.TimelineSliding, where, $"the timeline begins at t={head}, at t={headBefore} in a reload before"));
                }

                if (lastEnd.TryGetValue(rep.Key, out ulong endBefore) && end < endBefore)
                {
                    findings.Add(new Finding(Rules.TimelineSliding, where, $"the timeline ends at {end}, at {endBefore} in a reload before"));
                }

                firstT[rep.Key] = Math.Max(head, headBefore);
                lastEnd[rep.Key] = Math.Max(end, endBefore);
                foreach (var s in rep.Timeline)
                {
                    if (durationOf.TryGetValue((rep.Key, s.T), out ulong d) && d != s.D)
                    {
                        findings.Add(new Finding(Rules.TimelineSliding, where, $"<S t=\"{s.T}\"> listed with d={s.D}, d={d} in a reload before"));
                    }

                    durationOf[(rep.Key, s.T)] = s.D;
                    if (mpd.Depth is { } depth && rep.At(start, s.T + s.D) + depth < published - TimeSpan.FromMilliseconds(1))
                    {
                        findings.Add(new Finding(Rules.TimelineWindow, where,
                            $"<S t=\"{s.T}\" d=\"{s.D}\"> ends at {rep.At(start, s.T + s.D):HH:mm:ss.fff}, before publishTime {published:HH:mm:ss.fff} - timeShiftBufferDepth {depth.TotalSeconds} s"));
                    }
                }

                var lastS = rep.Timeline[^1];
                var lastEndTime = rep.At(start, lastS.T + lastS.D);
                if (published < lastEndTime - TimeSpan.FromMilliseconds(1))
                {
                    findings.Add(new Finding(Rules.PublishTime, where,
                        $"publishTime {published:HH:mm:ss.fff} precedes the end of the last <S t=\"{lastS.T}\" d=\"{lastS.D}\">, {lastEndTime:HH:mm:ss.fff} ({Ms((published - lastEndTime).TotalSeconds)})"));
                }
            }
        }

        foreach (var (key, rep) in latest)
        {
            CheckDashMedia(capture, findings, rep, durationOf.Where(d => d.Key.Rep == key).Select(d => new DashS(d.Key.T, d.Value)).OrderBy(s => s.T).ToList());
        }

        return findings;
    }

    /// <summary>Periods in order of their starts, and none whose media runs past the next Period's start (by more than 1 ms).</summary>
    private static void CheckPeriodOrder(List<Finding> findings, string at, DashMpd mpd, DateTimeOffset start)
    {
        DashPeriod? previous = null;
        DateTimeOffset? previousStart = null, previousEnd = null;
        foreach (var period in mpd.Periods)
        {
            var reps = mpd.Representations.Where(r => r.Period == period.Id && r.Timeline.Count > 0).ToList();
            var begins = start + TimeSpan.FromSeconds(period.Start is null ? 0 : System.Xml.XmlConvert.ToTimeSpan(period.Start).TotalSeconds);
            if (previous is not null && begins < previousStart)
            {
                findings.Add(new Finding(Rules.DashPeriods, at, $"Period {period.Id} starts at {begins:HH:mm:ss.fff}, before Period {previous.Id} ({previousStart:HH:mm:ss.fff})"));
            }
            else if (previous is not null && previousEnd > begins + TimeSpan.FromMilliseconds(1))
            {
                findings.Add(new Finding(Rules.DashPeriods, at, $"Period {previous.Id}'s media ends at {previousEnd:HH:mm:ss.fff}, after Period {period.Id} starts ({begins:HH:mm:ss.fff}, {Ms((previousEnd!.Value - begins).TotalSeconds)})"));
            }

            previous = period;
            previousStart = begins;
            previousEnd = reps.Count == 0 ? begins : reps.Max(r => r.At(start, r.Timeline[^1].T + r.Timeline[^1].D));
        }
    }

    private static void CheckDashMedia(DashCapture capture, List<Finding> findings, DashRepresentation rep, List<DashS> timeline)
    {
        string name = $"{capture.Name} Representation {rep.Id} ({rep.ContentType})";
        if (!capture.Bodies.TryGetValue(rep.InitUri, out var init))
        {
            return;
        }

        var (tracks, error) = Mp4Boxes.ReadInit(init);
        if (error is not null || tracks.Count == 0)
        {
            findings.Add(new Finding(Rules.Mp4Syntax, $"{name} {rep.InitUri}", error ?? "no track"));
            return;
        }

        var track = tracks[0];
        var timelines = new TrackTimelines(name, findings);
        var audio = new AudioDurations(name, findings);
        ulong? previousEnd = null;
        foreach (var s in timeline)
        {
            string uri = rep.MediaUri(s.T);
            if (!capture.Bodies.TryGetValue(uri, out var body))
            {
                previousEnd = null;
                continue;
            }

            string where = $"<S t=\"{s.T}\" d=\"{s.D}\"> ({uri})";
            var fragments = Fragments(findings, $"{name} {where}", body, tracks).Where(f => f.TrackId == track.TrackId).ToList();
            timelines.Unit(where, follows: previousEnd == s.T, fragments, tracks);
            audio.Add(where, fragments, tracks, body);
            CheckSyncStart(findings, $"{name} {where}", fragments, tracks);
            previousEnd = s.T + s.D;
            if (fragments.Count == 0)
            {
                findings.Add(new Finding(Rules.TimelineMedia, $"{name} {where}", "the segment holds no fragment of the track"));
                continue;
            }

            // Both in the MPD's timescale; exact when the timescales agree, else within one tick of the MPD's.
            ulong tfdt = fragments[0].Tfdt, sum = fragments.Aggregate(0UL, (a, f) => a + f.Duration);
            double tfdtInMpd = tfdt * (double)rep.Timescale / track.Timescale, sumInMpd = sum * (double)rep.Timescale / track.Timescale;
            bool same = rep.Timescale == track.Timescale;
            if (same ? tfdt != s.T : Math.Abs(tfdtInMpd - s.T) > 1)
            {
                findings.Add(new Finding(Rules.TimelineMedia, $"{name} {where} {track.Describe()}",
                    $"S@t={s.T} says {F(s.T / (double)rep.Timescale)} s where the fragment's tfdt {tfdt} is {F(tfdt / (double)track.Timescale)} s ({Ms((s.T / (double)rep.Timescale) - (tfdt / (double)track.Timescale))}, timescale {rep.Timescale} against {track.Timescale})"));
            }

            if (same ? sum != s.D : Math.Abs(sumInMpd - s.D) > 1)
            {
                findings.Add(new Finding(Rules.TimelineMedia, $"{name} {where} {track.Describe()}",
                    $"S@d={s.D} says {F(s.D / (double)rep.Timescale)} s where the fragment's {fragments.Sum(f => f.Samples.Count)} samples sum to {sum} = {F(sum / (double)track.Timescale)} s ({Ms((s.D / (double)rep.Timescale) - (sum / (double)track.Timescale))})"));
            }
        }

        audio.Flush();
    }

    /// <summary>
    /// The same segment in HLS and DASH starts at the same wall clock: PROGRAM-DATE-TIME of an HLS segment against
    /// the wall clock of the DASH video segment whose start is the HLS segment's first video tfdt (availabilityStartTime
    /// + Period@start + (S@t - presentationTimeOffset) / timescale), within a frame.
    /// </summary>
    public static List<Finding> CheckHlsAgainstDash(HlsCapture hls, DashCapture dash)
    {
        var findings = new List<Finding>();
        var mpd = dash.Manifests.Select(DashMpd.Parse).LastOrDefault(m => m.Start is not null);
        var rep = mpd?.Representations.FirstOrDefault(r => r.ContentType == "video") ?? mpd?.Representations.FirstOrDefault();
        if (mpd?.Start is not { } start || rep is null)
        {
            return findings;
        }

        // Each S of that kind of Representation in every Period of every reload, with the Representation it is in.
        var starts = dash.Manifests.Select(DashMpd.Parse).SelectMany(m => m.Representations.Where(r => r.Id == rep.Id && r.ContentType == rep.ContentType))
            .SelectMany(r => r.Timeline.Select(s => (s.T, Rep: r))).GroupBy(s => s.T).Select(g => g.Last()).ToList();
        var segments = hls.Playlists.Select(HlsMediaPlaylist.Parse).SelectMany(p => p.Segments).GroupBy(s => s.Sequence).Select(g => g.Last());
        foreach (var segment in segments)
        {
            if (segment.ProgramDateTime is not { } date || segment.Map is null || !hls.Bodies.TryGetValue(segment.Uri, out var body) || !hls.Bodies.TryGetValue(segment.Map, out var init))
            {
                continue;
            }

            var tracks = Mp4Boxes.ReadInit(init).Tracks;
            var track = tracks.FirstOrDefault(t => t.ContentType() == rep.ContentType);
            var fragment = track is null ? null : Mp4Boxes.ReadFragments(body, tracks).Fragments.FirstOrDefault(f => f.TrackId == track.TrackId && f.Samples.Count > 0);
            if (fragment is null)
            {
                continue;
            }

            double tfdt = fragment.Tfdt / (double)track!.Timescale;
            double frame = fragment.Samples[0].Duration / (double)track.Timescale;
            // The DASH segment of the same media: the S whose start is nearest the HLS segment's first tfdt, within half a frame.
            var match = starts.Select(s => (s.T, s.Rep, Off: Math.Abs((s.T / (double)s.Rep.Timescale) - tfdt))).Where(m => m.Off <= frame / 2).OrderBy(m => m.Off).FirstOrDefault();
            if (match.Rep is null)
            {
                continue;
            }

            var dashDate = match.Rep.At(start, match.T);
            double off = (date - dashDate).TotalSeconds;
            if (Math.Abs(off) > frame + 0.001)
            {
                findings.Add(new Finding(Rules.HlsDashDate, $"{hls.Name} segment {segment.Sequence} ({segment.Uri}) against {dash.Name} Period {match.Rep.Period} Representation {rep.Id} <S t=\"{match.T}\">",
                    $"PROGRAM-DATE-TIME {date:HH:mm:ss.fff} where availabilityStartTime {mpd.AvailabilityStartTime} + Period start {F(match.Rep.PeriodStart)} s + ({match.T} - {match.Rep.PresentationTimeOffset}) / {match.Rep.Timescale} = {dashDate:HH:mm:ss.fff} ({Ms(off)}, a frame is {Ms(frame)[1..]})"));
            }
        }

        return findings;
    }

    private static string ContentType(this Mp4Track track) => track.IsVideo ? "video" : track.IsAudio ? "audio" : track.Handler;
}
