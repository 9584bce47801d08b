using System.Globalization;
using System.Text;

namespace Sluice.Tests.Support.Conformance;

/// <summary>
/// The conformance validator: takes what was fetched over HTTP (playlists and MPDs over several reloads, init segments,
/// segments, parts, a progressive response) and returns every breach of the rules in <see cref="Rules"/>, each with
/// where it is and its numbers. It reads the boxes and packets itself (<see cref="Mp4Boxes"/>, <see cref="TsPackets"/>)
/// and never throws on bad input: what cannot be read is a finding too.
/// </summary>
public static partial class Validator
{
    /// <summary>Progressive fragmented MP4 (ftyp, moov, then moof+mdat): tfdt contiguous per track, audio durations, a sync sample first.</summary>
    public static List<Finding> CheckProgressive(string name, byte[] body)
    {
        var findings = new List<Finding>();
        var (tracks, error) = Mp4Boxes.ReadInit(body);
        if (error is not null)
        {
            findings.Add(new Finding(Rules.Mp4Syntax, name, error));
            return findings;
        }

        var (fragments, fragmentError) = Mp4Boxes.ReadFragments(body, tracks);
        if (fragmentError is not null)
        {
            findings.Add(new Finding(Rules.Mp4Syntax, name, fragmentError));
        }

        var timeline = new TrackTimelines(name, findings);
        var audio = new AudioDurations(name, findings);
        timeline.Unit($"response (first moof at byte {fragments.FirstOrDefault()?.MoofOffset})", follows: false, fragments, tracks);
        audio.Add(name, fragments, tracks, body);
        if (tracks.FirstOrDefault(t => t.IsVideo) is { } video && fragments.FirstOrDefault(f => f.TrackId == video.TrackId) is { } first && first.Samples.Count > 0 && !first.Samples[0].IsSync)
        {
            findings.Add(new Finding(Rules.SyncStart, $"{name} {video.Describe()}", $"the first video sample (tfdt {first.Tfdt}) is not a sync sample (flags 0x{first.Samples[0].Flags:x8})"));
        }

        audio.Flush();
        return findings;
    }

    /// <summary>Every finding, grouped by rule and then by source (the capture it came from): a count, then the first <paramref name="perSource"/> of each.</summary>
    public static string Report(IEnumerable<Finding> findings, int perSource = 3)
    {
        var b = new StringBuilder();
        foreach (var rule in findings.GroupBy(f => f.Rule).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            b.Append(CultureInfo.InvariantCulture, $"{rule.Key}: {rule.Count()} finding(s)\n");
            foreach (var source in rule.GroupBy(f => f.Where.Split(' ')[0]).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                b.Append(CultureInfo.InvariantCulture, $"  {source.Key}: {source.Count()}\n");
                foreach (var finding in source.Take(perSource))
                {
                    b.Append("    ").Append(finding).Append('\n');
                }
            }
        }

        return b.ToString();
    }

    private static string Ms(double seconds) => (seconds * 1000).ToString("+0.000;-0.000;0", CultureInfo.InvariantCulture) + " ms";

    private static string F(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>
    /// Per track, each fragment must begin where the one before ended (tfdt + summed durations, exactly), within a unit
    /// (a segment, a part, a response) and from one unit to the next when the caller says it follows.
    /// </summary>
    private sealed class TrackTimelines(string source, List<Finding> findings)
    {
        private readonly Dictionary<uint, (ulong End, string Where, Mp4Fragment Last)> _ends = [];

        public void Unit(string where, bool follows, IReadOnlyList<Mp4Fragment> fragments, IReadOnlyList<Mp4Track> tracks)
        {
            if (!follows)
            {
                _ends.Clear();
            }

            int index = 0;
            foreach (var fragment in fragments)
            {
                var track = tracks.FirstOrDefault(t => t.TrackId == fragment.TrackId);
                if (track is null)
                {
                    continue;
                }

                string here = $"{where} fragment {index++}";
                if (_ends.TryGetValue(fragment.TrackId, out var before) && fragment.Tfdt != before.End)
                {
                    long gap = (long)fragment.Tfdt - (long)before.End;
                    findings.Add(new Finding(Rules.TfdtContiguous, $"{source} {here} {track.Describe()}",
                        $"tfdt {fragment.Tfdt} where the fragment before ({before.Where}: tfdt {before.Last.Tfdt} + {before.Last.Duration} over {before.Last.Samples.Count} samples) ends at {before.End}: " +
                        $"{(gap > 0 ? "a gap" : "an overlap")} of {Math.Abs(gap)} ticks ({Ms(gap / (double)track.Timescale)})"));
                }

                _ends[fragment.TrackId] = (fragment.End, here, fragment);
            }
        }
    }

    /// <summary>
    /// Audio sample durations of fixed-frame codecs: every value other than the frame (AAC 1024 samples at the sample
    /// rate, MP3 1152, Opus what its TOC says), counted, with where it was first seen.
    /// </summary>
    private sealed class AudioDurations(string source, List<Finding> findings)
    {
        private readonly Dictionary<(uint Track, uint Duration, string Expected), (int Count, int Fragments, string First, Mp4Track Track)> _wrong = [];
        private readonly Dictionary<uint, int> _samples = [];

        public void Add(string where, IReadOnlyList<Mp4Fragment> fragments, IReadOnlyList<Mp4Track> tracks, ReadOnlySpan<byte> body)
        {
            foreach (var fragment in fragments)
            {
                var track = tracks.FirstOrDefault(t => t.TrackId == fragment.TrackId);
                if (track?.AudioFrames is not { } rule)
                {
                    continue;
                }

                var seen = new HashSet<(uint, string)>();
                for (int i = 0; i < fragment.Samples.Count; i++)
                {
                    var sample = fragment.Samples[i];
                    _samples[track.TrackId] = _samples.GetValueOrDefault(track.TrackId) + 1;
                    var bytes = sample.Offset >= 0 && sample.Offset + sample.Size <= body.Length ? body.Slice((int)sample.Offset, (int)sample.Size) : [];
                    if (rule.Expected(bytes, track.Timescale, track.SampleRate) is not double expected)
                    {
                        continue;
                    }

                    // A frame that is no whole number of ticks (1024 at 44.1 kHz in a 90 kHz timescale) may be either neighbour.
                    if (sample.Duration == expected || (Math.Floor(expected) != expected && Math.Abs(sample.Duration - expected) < 1))
                    {
                        continue;
                    }

                    string text = F(expected);
                    var key = (track.TrackId, sample.Duration, text);
                    var (count, inFragments, first, _) = _wrong.GetValueOrDefault(key, (0, 0, $"{where} tfdt {fragment.Tfdt} sample {i}", track));
                    _wrong[key] = (count + 1, inFragments + (seen.Add((sample.Duration, text)) ? 1 : 0), first, track);
                }
            }
        }

        public void Flush()
        {
            foreach (var ((_, duration, expected), (count, fragments, first, track)) in _wrong.OrderBy(w => w.Key.Track).ThenBy(w => w.Key.Duration))
            {
                string frame = track.AudioFrames!.ByOpusToc ? "what the Opus TOC says" : $"{track.AudioFrames.FixedSamples} samples";
                findings.Add(new Finding(Rules.AudioDuration, $"{source} {track.Describe()}",
                    $"sample duration {duration} where {track.AudioFrames.Codec} frames last {expected} ({frame}): {count} of {_samples.GetValueOrDefault(track.TrackId)} samples, in {fragments} fragment(s), first at {first}"));
            }

            _wrong.Clear();
        }
    }
}
