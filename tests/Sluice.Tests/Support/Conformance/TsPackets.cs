namespace Sluice.Tests.Support.Conformance;

/// <summary>One PES packet of a transport stream: its PID, stream type (from the PMT), PTS and whole payload.</summary>
public sealed record TsPes(int Pid, int StreamType, bool Opus, long? Pts, long? Dts, byte[] Payload)
{
    public bool IsVideo => StreamType is 0x1B or 0x24 or 0x02 or 0x01 or 0x10;

    public bool IsAudio => StreamType is 0x0F or 0x03 or 0x04 || Opus;
}

/// <summary>What a transport stream segment holds: PES packets in order, PCRs in order (27 MHz).</summary>
public sealed record TsContent(IReadOnlyList<TsPes> Pes, IReadOnlyList<long> Pcrs, string? Error);

/// <summary>
/// Reads 188-byte MPEG-TS packets (ISO 13818-1): the PAT and PMT for the streams' PIDs and types (an Opus stream is
/// stream type 0x06 with an "Opus" registration descriptor), PCRs from adaptation fields, and PES packets gathered from
/// payload_unit_start to the next one.
/// </summary>
public static class TsPackets
{
    public static TsContent Read(ReadOnlySpan<byte> data)
    {
        var pes = new List<TsPes>();
        var pcrs = new List<long>();
        var types = new Dictionary<int, (int Type, bool Opus)>();
        var open = new Dictionary<int, List<byte>>();
        int pmtPid = -1;
        if (data.Length % 188 != 0)
        {
            return new TsContent(pes, pcrs, $"{data.Length} bytes, not a whole number of 188-byte packets");
        }

        for (int at = 0; at < data.Length; at += 188)
        {
            var packet = data.Slice(at, 188);
            if (packet[0] != 0x47)
            {
                return new TsContent(pes, pcrs, $"no sync byte at packet {at / 188}");
            }

            bool start = (packet[1] & 0x40) != 0;
            int pid = ((packet[1] & 0x1F) << 8) | packet[2];
            int control = (packet[3] >> 4) & 3;
            int p = 4;
            if ((control & 2) != 0)
            {
                int length = packet[4];
                if (length > 0 && (packet[5] & 0x10) != 0)
                {
                    long base33 = ((long)packet[6] << 25) | ((long)packet[7] << 17) | ((long)packet[8] << 9) | ((long)packet[9] << 1) | ((long)packet[10] >> 7);
                    int extension = ((packet[10] & 1) << 8) | packet[11];
                    pcrs.Add((base33 * 300) + extension);
                }

                p = 5 + length;
            }

            if ((control & 1) == 0 || p >= 188)
            {
                continue;
            }

            var payload = packet[p..];
            if (pid == 0 && start)
            {
                var section = payload[(1 + payload[0])..];
                pmtPid = ((section[10] & 0x1F) << 8) | section[11];
            }
            else if (pid == pmtPid && start)
            {
                ReadPmt(payload[(1 + payload[0])..], types);
            }
            else if (types.ContainsKey(pid))
            {
                if (start)
                {
                    if (open.Remove(pid, out var done))
                    {
                        pes.Add(Pes(pid, types[pid], done));
                    }

                    open[pid] = [];
                }

                if (open.TryGetValue(pid, out var bytes))
                {
                    bytes.AddRange(payload);
                }
            }
        }

        foreach (var (pid, bytes) in open.OrderBy(o => o.Key))
        {
            pes.Add(Pes(pid, types[pid], bytes));
        }

        return new TsContent(pes, pcrs, types.Count == 0 ? "no PAT and PMT" : null);
    }

    private static void ReadPmt(ReadOnlySpan<byte> section, Dictionary<int, (int, bool)> types)
    {
        int sectionLength = ((section[1] & 0x0F) << 8) | section[2];
        int programInfo = ((section[10] & 0x0F) << 8) | section[11];
        int p = 12 + programInfo;
        int end = 3 + sectionLength - 4;
        while (p + 5 <= end)
        {
            int type = section[p];
            int pid = ((section[p + 1] & 0x1F) << 8) | section[p + 2];
            int infoLength = ((section[p + 3] & 0x0F) << 8) | section[p + 4];
            var info = section.Slice(p + 5, infoLength);
            bool opus = false;
            for (int d = 0; d + 2 <= info.Length; d += 2 + info[d + 1])
            {
                opus |= info[d] == 0x05 && info[d + 1] >= 4 && info.Slice(d + 2, 4).SequenceEqual("Opus"u8);
            }

            types[pid] = (type, opus);
            p += 5 + infoLength;
        }
    }

    private static TsPes Pes(int pid, (int Type, bool Opus) type, List<byte> bytes)
    {
        var b = bytes.ToArray();
        if (b.Length < 9 || b[0] != 0 || b[1] != 0 || b[2] != 1)
        {
            return new TsPes(pid, type.Type, type.Opus, null, null, []);
        }

        int flags = b[7] >> 6;
        int headerLength = b[8];
        long? pts = flags >= 2 ? Timestamp(b.AsSpan(9)) : null;
        long? dts = flags == 3 ? Timestamp(b.AsSpan(14)) : pts;
        return new TsPes(pid, type.Type, type.Opus, pts, dts, b[Math.Min(b.Length, 9 + headerLength)..]);
    }

    private static long Timestamp(ReadOnlySpan<byte> t) =>
        ((long)(t[0] & 0x0E) << 29) | ((long)t[1] << 22) | ((long)(t[2] & 0xFE) << 14) | ((long)t[3] << 7) | ((long)t[4] >> 1);

    /// <summary>The ADTS frames of an AAC PES: how many, the sample rate and the audio object type (profile + 1).</summary>
    public static (int Frames, int SampleRate, int Aot) AdtsFrames(ReadOnlySpan<byte> payload)
    {
        ReadOnlySpan<int> rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
        int frames = 0, rate = 0, aot = 0;
        int p = 0;
        while (p + 7 <= payload.Length && payload[p] == 0xFF && (payload[p + 1] & 0xF0) == 0xF0)
        {
            aot = (payload[p + 2] >> 6) + 1;
            int index = (payload[p + 2] >> 2) & 0x0F;
            rate = index < rates.Length ? rates[index] : 0;
            int length = ((payload[p + 3] & 3) << 11) | (payload[p + 4] << 3) | (payload[p + 5] >> 5);
            int blocks = (payload[p + 6] & 3) + 1;
            frames += blocks;
            if (length < 7)
            {
                break;
            }

            p += length;
        }

        return (frames, rate, aot);
    }

    /// <summary>The 48 kHz samples of an Opus PES (the opus_control_header of each access unit, as the Opus-in-MPEG-TS mapping writes it), or null.</summary>
    public static int? OpusSamples(ReadOnlySpan<byte> payload)
    {
        int p = 0, samples = 0;
        while (p + 2 <= payload.Length)
        {
            if (payload[p] != 0x7F || (payload[p + 1] & 0xE0) != 0xE0)
            {
                return null;
            }

            bool startTrim = (payload[p + 1] & 0x10) != 0, endTrim = (payload[p + 1] & 0x08) != 0, extension = (payload[p + 1] & 0x04) != 0;
            p += 2;
            int size = 0;
            while (p < payload.Length && payload[p] == 0xFF)
            {
                size += 255;
                p++;
            }

            if (p >= payload.Length)
            {
                return null;
            }

            size += payload[p++];
            p += (startTrim ? 2 : 0) + (endTrim ? 2 : 0);
            if (extension && p < payload.Length)
            {
                p += 1 + payload[p];
            }

            if (p + size > payload.Length || OpusToc.Samples48k(payload.Slice(p, size)) is not int n)
            {
                return null;
            }

            samples += n;
            p += size;
        }

        return samples;
    }

    /// <summary>The H.264 NAL unit types of an Annex B payload, in order.</summary>
    public static List<int> NalTypes(ReadOnlySpan<byte> payload, bool hevc = false)
    {
        var types = new List<int>();
        for (int i = 0; i + 3 < payload.Length; i++)
        {
            if (payload[i] == 0 && payload[i + 1] == 0 && payload[i + 2] == 1)
            {
                types.Add(hevc ? (payload[i + 3] >> 1) & 0x3F : payload[i + 3] & 0x1F);
                i += 2;
            }
        }

        return types;
    }

    /// <summary>avc1.PPCCLL from the first SPS of an Annex B payload, or null.</summary>
    public static string? AvcCodecs(ReadOnlySpan<byte> payload)
    {
        for (int i = 0; i + 6 < payload.Length; i++)
        {
            if (payload[i] == 0 && payload[i + 1] == 0 && payload[i + 2] == 1 && (payload[i + 3] & 0x1F) == 7)
            {
                return $"avc1.{payload[i + 4]:x2}{payload[i + 5]:x2}{payload[i + 6]:x2}";
            }
        }

        return null;
    }
}
