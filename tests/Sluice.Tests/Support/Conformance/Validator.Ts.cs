namespace Sluice.Tests.Support.Conformance;

public static partial class Validator
{
    private const long PtsRange = 1L << 33;
    private const long PcrRange = PtsRange * 300;

    /// <summary>A difference of two counters that wrap at <paramref name="range"/>, in (-range/2, range/2].</summary>
    private static long Wrapped(long difference, long range)
    {
        long d = ((difference % range) + range) % range;
        return d > range / 2 ? d - range : d;
    }

    /// <summary>
    /// MPEG-TS segments: the first video PES holds an IDR picture, PCRs never go back, and each audio PES's PTS is the
    /// previous one's plus its frames (AAC 1024 samples a frame, Opus by its TOCs) within 1 tick of 90 kHz, within a
    /// segment and from one segment to the next.
    /// </summary>
    private static void CheckTsMedia(HlsCapture capture, List<Finding> findings, SortedDictionary<long, HlsSegmentEntry> segments)
    {
        string name = capture.Name;
        long? previous = null;
        (long Pcr, string Where)? lastPcr = null;
        var lastAudio = new Dictionary<int, (long Pts, double Step, string Frames, string Where)>();
        foreach (var (sequence, segment) in segments)
        {
            if (!capture.Bodies.TryGetValue(segment.Uri, out var body))
            {
                previous = null;
                continue;
            }

            string where = $"segment {sequence} ({segment.Uri})";
            var content = TsPackets.Read(body);
            if (content.Error is not null)
            {
                findings.Add(new Finding(Rules.TsSyntax, $"{name} {where}", content.Error));
            }

            if (previous != sequence - 1 || segment.Discontinuity)
            {
                lastPcr = null;
                lastAudio.Clear();
            }

            for (int i = 0; i < content.Pcrs.Count; i++)
            {
                long pcr = content.Pcrs[i];
                // PCR counts modulo 2^33 * 300: a step forward across the wrap is not a step back.
                if (lastPcr is var (before, beforeWhere) && Wrapped(pcr - before, PcrRange) < 0)
                {
                    long back = -Wrapped(pcr - before, PcrRange);
                    findings.Add(new Finding(Rules.PcrBack, $"{name} {where} PCR {i}", $"PCR {pcr} (27 MHz) after {before} at {beforeWhere}: back {back} ticks ({Ms(-back / 27e6)})"));
                }

                lastPcr = (pcr, $"{where} PCR {i}");
            }

            if (content.Pes.FirstOrDefault(p => p.IsVideo) is { } video)
            {
                bool hevc = video.StreamType == 0x24;
                var types = TsPackets.NalTypes(video.Payload, hevc);
                int firstSlice = types.FindIndex(t => hevc ? t < 32 : t is >= 1 and <= 5);
                bool idr = firstSlice >= 0 && (hevc ? types[firstSlice] is >= 16 and <= 21 : types[firstSlice] == 5);
                if (!idr)
                {
                    findings.Add(new Finding(Rules.SyncStart, $"{name} {where} video PID {video.Pid}", $"the first video PES (PTS {video.Pts}) holds NAL units [{string.Join(',', types)}], no IDR picture first"));
                }
            }

            int index = 0;
            foreach (var pes in content.Pes.Where(p => p.IsAudio))
            {
                string here = $"{where} audio PES {index++}";
                if (pes.Pts is not long pts)
                {
                    findings.Add(new Finding(Rules.TsSyntax, $"{name} {here}", "an audio PES without PTS"));
                    continue;
                }

                double step;
                string frames;
                if (pes.Opus)
                {
                    int? samples = TsPackets.OpusSamples(pes.Payload);
                    step = samples is int n ? n * 90000.0 / 48000 : double.NaN;
                    frames = $"{samples} Opus samples";
                }
                else if (pes.StreamType == 0x0F)
                {
                    var (count, rate, _) = TsPackets.AdtsFrames(pes.Payload);
                    step = rate > 0 ? count * 1024 * 90000.0 / rate : double.NaN;
                    frames = $"{count} AAC frame(s) at {rate} Hz";
                }
                else
                {
                    continue;
                }

                if (lastAudio.TryGetValue(pes.Pid, out var last) && !double.IsNaN(last.Step))
                {
                    long actual = Wrapped(pts - last.Pts, PtsRange);
                    if (Math.Abs(actual - last.Step) > 1)
                    {
                        findings.Add(new Finding(Rules.TsAudioStep, $"{name} {here} PID {pes.Pid}",
                            $"PTS {pts} is {actual} ticks after the PES before ({last.Where}, PTS {last.Pts}, {last.Frames}), which lasts {F(last.Step)} ticks ({Ms((actual - last.Step) / 90000)})"));
                    }
                }

                lastAudio[pes.Pid] = (pts, step, frames, here);
            }

            previous = sequence;
        }
    }
}
