using System.Text.RegularExpressions;

namespace Sluice.Tests.Support.Conformance;

public static partial class Validator
{
    /// <summary>The playlist, media and multivariant rules of one HLS media playlist fetched over several reloads.</summary>
    public static List<Finding> CheckHls(HlsCapture capture)
    {
        var findings = new List<Finding>(capture.Fetching);
        string name = capture.Name;
        var playlists = new List<HlsMediaPlaylist>();
        long lastSequence = -1;
        var sequenceOf = new Dictionary<string, long>(StringComparer.Ordinal);
        var dateOf = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var partCounts = new Dictionary<long, int>();
        var segments = new SortedDictionary<long, HlsSegmentEntry>();
        var parts = new SortedDictionary<(long Sequence, int Index), (HlsPart Part, string? Map)>();
        var finalPartCount = new Dictionary<long, int>();
        for (int reload = 0; reload < capture.Playlists.Count; reload++)
        {
            var playlist = HlsMediaPlaylist.Parse(capture.Playlists[reload]);
            string at = $"{name} media playlist reload {reload}";
            foreach (string error in playlist.Errors)
            {
                findings.Add(new Finding(Rules.PlaylistSyntax, at, error));
            }

            if (playlist.Errors.Count > 0)
            {
                continue;
            }

            playlists.Add(playlist);
            if (playlist.MediaSequence < lastSequence)
            {
                findings.Add(new Finding(Rules.MediaSequenceBack, at, $"EXT-X-MEDIA-SEQUENCE {playlist.MediaSequence} after {lastSequence} in the reload before"));
            }

            lastSequence = Math.Max(lastSequence, playlist.MediaSequence);
            if (playlist.PartTarget is double partTarget && !(playlist.PartHoldBack >= 2 * partTarget - 1e-9))
            {
                findings.Add(new Finding(Rules.PartHoldBack, at, playlist.PartHoldBack is double holdBack
                    ? $"PART-HOLD-BACK {F(holdBack)} below twice PART-TARGET {F(partTarget)}"
                    : "EXT-X-PART-INF without EXT-X-SERVER-CONTROL PART-HOLD-BACK"));
            }

            HlsSegmentEntry? previous = null;
            foreach (var segment in playlist.Segments)
            {
                string where = $"{at} segment {segment.Sequence} ({segment.Uri})";
                if ((int)Math.Round(segment.Duration, MidpointRounding.AwayFromZero) > playlist.TargetDuration)
                {
                    findings.Add(new Finding(Rules.TargetDuration, where, $"EXTINF {F(segment.Duration)} rounds to {(int)Math.Round(segment.Duration, MidpointRounding.AwayFromZero)}, above EXT-X-TARGETDURATION {playlist.TargetDuration}"));
                }

                if (sequenceOf.TryGetValue(segment.Uri, out long known) && known != segment.Sequence)
                {
                    findings.Add(new Finding(Rules.UriSequence, where, $"listed as media sequence {segment.Sequence}, as {known} in a reload before"));
                }

                sequenceOf[segment.Uri] = segment.Sequence;
                if (segment.ProgramDateTime is { } date)
                {
                    if (dateOf.TryGetValue(segment.Uri, out var knownDate) && knownDate != date)
                    {
                        findings.Add(new Finding(Rules.UriDate, where, $"PROGRAM-DATE-TIME {date:O}, {knownDate:O} in a reload before ({Ms((date - knownDate).TotalSeconds)})"));
                    }

                    dateOf.TryAdd(segment.Uri, date);
                    if (previous?.ProgramDateTime is { } before && !segment.Discontinuity)
                    {
                        double step = (date - before).TotalSeconds;
                        if (Math.Abs(step - previous.Duration) > 0.0011)
                        {
                            findings.Add(new Finding(Rules.DateStep, where, $"PROGRAM-DATE-TIME {date:HH:mm:ss.fff} is {F(step)} s after segment {previous.Sequence}'s, whose EXTINF is {F(previous.Duration)} ({Ms(step - previous.Duration)})"));
                        }
                    }
                }

                CheckParts(findings, where, playlist, segment.Sequence, segment.Parts, complete: true);
                if (segment.Parts.Count > 0)
                {
                    if (PartIndex(segment.Parts[0].Uri) is (_, 0))
                    {
                        double sum = segment.Parts.Sum(p => p.Duration);
                        if (Math.Abs(sum - segment.Duration) > 0.002)
                        {
                            findings.Add(new Finding(Rules.PartSum, where, $"{segment.Parts.Count} parts sum to {F(sum)} s, EXTINF is {F(segment.Duration)} ({Ms(sum - segment.Duration)})"));
                        }

                        finalPartCount[segment.Sequence] = segment.Parts.Count;
                    }

                    NoteParts(findings, where, partCounts, segment.Sequence, segment.Parts.Count);
                }

                for (int i = 0; i < segment.Parts.Count; i++)
                {
                    if (PartIndex(segment.Parts[i].Uri) is (long s, int p))
                    {
                        parts[(s, p)] = (segment.Parts[i], segment.Map);
                    }
                }

                segments[segment.Sequence] = segment;
                previous = segment;
            }

            if (playlist.OpenParts.Count > 0 || playlist.PreloadHint is not null)
            {
                string where = $"{at} open segment {playlist.OpenSequence}";
                CheckParts(findings, where, playlist, playlist.OpenSequence, playlist.OpenParts, complete: false);
                NoteParts(findings, where, partCounts, playlist.OpenSequence, playlist.OpenParts.Count);
                string? map = playlist.Segments.LastOrDefault()?.Map;
                foreach (var part in playlist.OpenParts)
                {
                    if (PartIndex(part.Uri) is (long s, int p))
                    {
                        parts[(s, p)] = (part, map);
                    }
                }

                if (playlist.PreloadHint is { } hint && PartIndex(hint) is var (hs, hp) && (hs != playlist.OpenSequence || hp != playlist.OpenParts.Count))
                {
                    findings.Add(new Finding(Rules.PartNumbering, where, $"EXT-X-PRELOAD-HINT {hint} where part {playlist.OpenSequence}.{playlist.OpenParts.Count} comes next"));
                }
            }
        }

        if (capture.Cmaf)
        {
            CheckCmafMedia(capture, findings, segments, parts, finalPartCount);
        }
        else
        {
            CheckTsMedia(capture, findings, segments);
        }

        CheckVariant(capture, findings, segments, playlists.Select(p => p.TargetDuration).DefaultIfEmpty(0).Max());
        return findings;
    }

    private static void CheckParts(List<Finding> findings, string where, HlsMediaPlaylist playlist, long sequence, IReadOnlyList<HlsPart> parts, bool complete)
    {
        int? firstIndex = null;
        for (int i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            if (playlist.PartTarget is double target && part.Duration > target + 1e-9)
            {
                findings.Add(new Finding(Rules.PartTarget, $"{where} part {part.Uri}", $"DURATION {F(part.Duration)} above PART-TARGET {F(target)}"));
            }

            if (PartIndex(part.Uri) is not (long s, int p))
            {
                findings.Add(new Finding(Rules.PartNumbering, where, $"part URI {part.Uri} names no segment and part number"));
                continue;
            }

            firstIndex ??= p - i;
            if (s != sequence || p != firstIndex + i)
            {
                findings.Add(new Finding(Rules.PartNumbering, where, $"part {part.Uri} is listed as part {firstIndex + i} of segment {sequence}"));
            }
        }

        // A complete segment's parts are listed from part 0, or not at all (they may be listed for recent segments only).
        if (firstIndex is int first && first != 0 && (complete || parts.Count > 0))
        {
            findings.Add(new Finding(Rules.PartNumbering, where, $"its parts begin with part {first}, not 0"));
        }
    }

    private static void NoteParts(List<Finding> findings, string where, Dictionary<long, int> counts, long sequence, int count)
    {
        if (counts.TryGetValue(sequence, out int before) && count < before && count > 0)
        {
            findings.Add(new Finding(Rules.PartNumbering, where, $"{count} parts listed, {before} in a reload before"));
        }

        counts[sequence] = Math.Max(count, before);
    }

    /// <summary>The segment and part numbers a part's URI carries (<c>...-&lt;sequence&gt;.&lt;part&gt;.m4s</c>).</summary>
    private static (long Sequence, int Index)? PartIndex(string uri) =>
        PartName().Match(uri) is { Success: true } m ? (long.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)) : null;

    [GeneratedRegex("([0-9]+)\\.([0-9]+)\\.m4s$")]
    private static partial Regex PartName();

    private static void CheckCmafMedia(HlsCapture capture, List<Finding> findings, SortedDictionary<long, HlsSegmentEntry> segments,
        SortedDictionary<(long Sequence, int Index), (HlsPart Part, string? Map)> parts, Dictionary<long, int> finalPartCount)
    {
        string name = capture.Name;
        var inits = new Dictionary<string, IReadOnlyList<Mp4Track>>(StringComparer.Ordinal);
        IReadOnlyList<Mp4Track>? Init(string? map)
        {
            if (map is null || !capture.Bodies.TryGetValue(map, out var bytes))
            {
                return null;
            }

            if (!inits.TryGetValue(map, out var tracks))
            {
                var (read, error) = Mp4Boxes.ReadInit(bytes);
                if (error is not null)
                {
                    findings.Add(new Finding(Rules.Mp4Syntax, $"{name} {map}", error));
                }

                inits[map] = tracks = read;
            }

            return tracks;
        }

        // The last segment of a publisher's session: the next one begins with a discontinuity.
        bool SessionEnds(long sequence) => segments.TryGetValue(sequence + 1, out var next) && next.Discontinuity;

        var timeline = new TrackTimelines(name + " segments", findings);
        var audio = new AudioDurations(name, findings);
        long? previous = null;
        foreach (var (sequence, segment) in segments)
        {
            if (!capture.Bodies.TryGetValue(segment.Uri, out var body) || Init(segment.Map) is not { } tracks)
            {
                previous = null;
                continue;
            }

            string where = $"segment {sequence} ({segment.Uri})";
            var fragments = Fragments(findings, $"{name} {where}", body, tracks);
            timeline.Unit(where, follows: previous == sequence - 1 && !segment.Discontinuity, fragments, tracks);
            audio.Add(where, fragments, tracks, body);
            CheckSyncStart(findings, $"{name} {where}", fragments, tracks);
            bool sessionEnd = SessionEnds(sequence);
            CheckDurations(findings, $"{name} {where}", "EXTINF", segment.Duration, fragments, tracks, sessionStart: sequence == 0 || segment.Discontinuity,
                endsEarly: track => sessionEnd && !track.IsVideo);
            previous = sequence;
        }

        audio.Flush();

        // Each fetched part's fragments; in the last segment of a session, the last part that holds samples of each track.
        var read = new List<(long Sequence, int Index, HlsPart Part, IReadOnlyList<Mp4Track>? Tracks, List<Mp4Fragment> Fragments)>();
        foreach (var ((sequence, index), (part, map)) in parts)
        {
            var tracks = capture.Bodies.TryGetValue(part.Uri, out var body) ? Init(map) : null;
            read.Add((sequence, index, part, tracks, tracks is null ? [] : Fragments(findings, $"{name} part {sequence}.{index} ({part.Uri})", body!, tracks)));
        }

        var lastHolding = read.Where(r => SessionEnds(r.Sequence))
            .SelectMany(r => r.Fragments.Where(f => f.Samples.Count > 0).Select(f => (Key: (r.Sequence, f.TrackId), r.Index)))
            .GroupBy(x => x.Key).ToDictionary(g => g.Key, g => g.Max(x => x.Index));

        var partTimeline = new TrackTimelines(name + " parts", findings);
        (long Sequence, int Index)? before = null;
        foreach (var (sequence, index, part, partTracks, fragments) in read)
        {
            if (partTracks is not { } tracks)
            {
                before = null;
                continue;
            }

            string where = $"part {sequence}.{index} ({part.Uri})";
            bool follows = before is var (s, i) && ((s == sequence && i == index - 1) || (s == sequence - 1 && index == 0 && finalPartCount.GetValueOrDefault(s) == i + 1
                && !(segments.TryGetValue(sequence, out var next) && next.Discontinuity)));
            partTimeline.Unit(where, follows, fragments, tracks);
            if (part.Independent)
            {
                CheckSyncStart(findings, $"{name} {where} (INDEPENDENT=YES)", fragments, tracks);
            }

            CheckDurations(findings, $"{name} {where}", "DURATION", part.Duration, fragments, tracks,
                sessionStart: index == 0 && (sequence == 0 || (segments.TryGetValue(sequence, out var own) && own.Discontinuity)),
                endsEarly: track => !track.IsVideo && lastHolding.TryGetValue((sequence, track.TrackId), out int last) && last == index);
            before = (sequence, index);
        }
    }

    private static List<Mp4Fragment> Fragments(List<Finding> findings, string where, byte[] body, IReadOnlyList<Mp4Track> tracks)
    {
        var (fragments, error) = Mp4Boxes.ReadFragments(body, tracks);
        if (error is not null)
        {
            findings.Add(new Finding(Rules.Mp4Syntax, where, error));
        }

        return [.. fragments];
    }

    private static void CheckSyncStart(List<Finding> findings, string where, IReadOnlyList<Mp4Fragment> fragments, IReadOnlyList<Mp4Track> tracks)
    {
        foreach (var video in tracks.Where(t => t.IsVideo))
        {
            var first = fragments.FirstOrDefault(f => f.TrackId == video.TrackId && f.Samples.Count > 0);
            if (first is not null && !first.Samples[0].IsSync)
            {
                findings.Add(new Finding(Rules.SyncStart, $"{where} {video.Describe()}", $"the first sample (tfdt {first.Tfdt}) is not a sync sample (flags 0x{first.Samples[0].Flags:x8})"));
            }
        }
    }

    /// <summary>
    /// Each track's summed durations against what the playlist says, within 1 ms or one of the track's samples. At the
    /// start of a session a track may begin after the video's first decode time, up to the video's first picture (the
    /// decode time of a stream with B-frames comes frames before its first presentation, and the source's sound begins
    /// with the picture): it is then measured from where it begins. At the end of a session a track for which
    /// <paramref name="endsEarly"/> holds (one other than the video, in the session's last segment and in the part with
    /// its last samples) may stop before the listed end: the publisher left without sending the last of it (a muxer
    /// holds sound back in packets of several frames), so it is only checked not to run past it.
    /// </summary>
    private static void CheckDurations(List<Finding> findings, string where, string what, double listed, IReadOnlyList<Mp4Fragment> fragments, IReadOnlyList<Mp4Track> tracks,
        bool sessionStart, Func<Mp4Track, bool> endsEarly)
    {
        var video = tracks.FirstOrDefault(t => t.IsVideo);
        var firstPicture = video is null ? null : fragments.FirstOrDefault(f => f.TrackId == video.TrackId && f.Samples.Count > 0);
        foreach (var track in tracks)
        {
            var mine = fragments.Where(f => f.TrackId == track.TrackId).ToList();
            if (mine.Count == 0)
            {
                continue;
            }

            ulong sum = mine.Aggregate(0UL, (s, f) => s + f.Duration);
            uint longest = mine.SelectMany(f => f.Samples).Select(s => s.Duration).DefaultIfEmpty(0u).Max();
            double seconds = sum / (double)track.Timescale;
            double tolerance = Math.Max(0.001, longest / (double)track.Timescale) + 1e-6;
            double expected = listed;
            if (sessionStart && firstPicture is not null && !track.IsVideo)
            {
                double videoDecode = firstPicture.Tfdt / (double)video!.Timescale;
                double videoPicture = (firstPicture.Tfdt + (double)firstPicture.Samples[0].CompositionOffset) / video.Timescale;
                double late = (mine[0].Tfdt / (double)track.Timescale) - videoDecode;
                if (late > 0 && late <= videoPicture - videoDecode + tolerance)
                {
                    expected = listed - late;
                }
            }

            if (Math.Abs(seconds - expected) > tolerance && !(seconds < expected && endsEarly(track)))
            {
                findings.Add(new Finding(Rules.MediaDuration, $"{where} {track.Describe()}",
                    $"samples sum to {sum} ticks = {F(seconds)} s, {what} is {F(listed)}{(expected != listed ? $" of which the track covers {F(expected)} from its start" : "")} ({Ms(seconds - expected)}, more than {Ms(tolerance - 1e-6)[1..]})"));
            }
        }
    }

    /// <summary>
    /// CODECS of the variant against the init segment's sample entries (or the TS's SPS and ADTS); BANDWIDTH against the
    /// peak segment bit rate, which RFC 8216 (section 4.3.4.2) takes over every set of consecutive segments lasting 0.5 to
    /// 1.5 target durations: a segment much shorter than the target (a session's last, cut where the publisher left) is
    /// measured with its neighbours.
    /// </summary>
    private static void CheckVariant(HlsCapture capture, List<Finding> findings, SortedDictionary<long, HlsSegmentEntry> segments, int targetDuration)
    {
        if (capture.Multivariant is not { } text)
        {
            return;
        }

        string where = $"{capture.Name} multivariant playlist, variant {capture.MediaUri}";
        var variant = HlsVariant.Parse(text).FirstOrDefault(v => v.Uri == capture.MediaUri);
        if (variant is null)
        {
            findings.Add(new Finding(Rules.PlaylistSyntax, where, "no EXT-X-STREAM-INF lists it"));
            return;
        }

        var held = HeldCodecs(capture, segments);
        if (held is not null)
        {
            var listed = (variant.Codecs ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => c.ToLowerInvariant()).Order().ToList();
            var actual = held.Select(c => c.ToLowerInvariant()).Order().ToList();
            if (!listed.SequenceEqual(actual))
            {
                findings.Add(new Finding(Rules.Codecs, where, $"CODECS=\"{variant.Codecs}\" where the {(capture.Cmaf ? "init segment holds" : "segments hold")} {string.Join(',', actual)}"));
            }
        }

        var fetched = segments.Values.Where(s => capture.Bodies.ContainsKey(s.Uri) && s.Duration > 0).ToList();
        var sets = new List<(string Segments, long Bytes, double Duration, double Bits)>();
        for (int first = 0; first < fetched.Count; first++)
        {
            long bytes = 0;
            double duration = 0;
            for (int last = first; last < fetched.Count && fetched[last].Sequence == fetched[first].Sequence + (last - first)
                && duration + fetched[last].Duration <= (1.5 * targetDuration) + 1e-9; last++)
            {
                bytes += capture.Bodies[fetched[last].Uri].Length;
                duration += fetched[last].Duration;
                if (duration >= (0.5 * targetDuration) - 1e-9)
                {
                    string names = last == first ? $"segment {fetched[first].Sequence}" : $"segments {fetched[first].Sequence} to {fetched[last].Sequence}";
                    sets.Add((names, bytes, duration, bytes * 8 / duration));
                }
            }
        }

        var over = sets.Where(r => r.Bits > variant.Bandwidth).ToList();
        if (over.Count > 0)
        {
            var peak = over.MaxBy(r => r.Bits);
            findings.Add(new Finding(Rules.Bandwidth, where,
                $"BANDWIDTH={variant.Bandwidth} below the peak segment bitrate {peak.Bits:0} bit/s ({peak.Segments}, {peak.Bytes} bytes over {F(peak.Duration)} s); {over.Count} of {sets.Count} sets of segments of 0.5 to 1.5 target durations above it"));
        }
    }

    private static List<string>? HeldCodecs(HlsCapture capture, SortedDictionary<long, HlsSegmentEntry> segments)
    {
        if (capture.Cmaf)
        {
            var map = segments.Values.LastOrDefault(s => s.Map is not null)?.Map;
            return map is not null && capture.Bodies.TryGetValue(map, out var init) ? [.. Mp4Boxes.ReadInit(init).Tracks.Select(t => t.Codecs)] : null;
        }

        var first = segments.Values.FirstOrDefault(s => capture.Bodies.ContainsKey(s.Uri));
        if (first is null)
        {
            return null;
        }

        var content = TsPackets.Read(capture.Bodies[first.Uri]);
        var codecs = new List<string>();
        foreach (var pid in content.Pes.Select(p => p.Pid).Distinct())
        {
            var pes = content.Pes.First(p => p.Pid == pid);
            if (pes.StreamType == 0x1B && content.Pes.Where(p => p.Pid == pid).Select(p => TsPackets.AvcCodecs(p.Payload)).FirstOrDefault(c => c is not null) is { } avc)
            {
                codecs.Add(avc);
            }
            else if (pes.StreamType == 0x0F)
            {
                codecs.Add($"mp4a.40.{TsPackets.AdtsFrames(pes.Payload).Aot}");
            }
            else if (pes.Opus)
            {
                codecs.Add("opus");
            }
            else if (pes.StreamType is 0x03 or 0x04)
            {
                codecs.Add("mp4a.40.34");
            }
        }

        return codecs;
    }
}
