using System.Buffers.Binary;
using Sluice.Media.Codecs.MpegAudio;

namespace Sluice.Media.Formats.MpegPs;

/// <summary>
/// Cuts an MPEG program stream that another muxer writes (ffmpeg's <c>mpeg</c>, MPEG-1 or MPEG-2 packs) into units of
/// one pack each; the header is empty (a program stream needs none: the system header of the first pack is optional to
/// readers). A join point is a pack whose video PES holds a sequence header (00 00 01 B3, which MPEG-1/2 video encoders
/// write before every I-frame that opens a GOP) and from which the audio starts on a frame too.
/// </summary>
/// <remarks>
/// <para>
/// PES packets do not start on audio frames (the muxer fills fixed-size packs), so a reader that starts at a sequence
/// header pack would first get the end of an audio frame ("Header missing" from ffmpeg's mp2 decoder). So the scanner
/// holds the packs from a sequence header on until the next MPEG audio PES, splits that PES in two where its first
/// frame begins (the first part, the end of the previous frame, in a PES without PTS; the second with the original
/// PES header, whose PTS is that frame's), and hands out the first part, then the second as the join point, then the
/// held video packs. Nothing is lost or changed for a viewer that reads on: the same elementary streams, one PES more,
/// the audio a few packs earlier in the multiplex. A stream without audio joins at the sequence header pack; one
/// without video every <see cref="AudioOnlyJoinPacks"/> packs, at a split audio PES.
/// </para>
/// <para>Layouts: ISO/IEC 11172-1 2.4.3 (pack, system header, packet) and ISO/IEC 13818-1 2.5.3 (MPEG-2 pack) and 2.4.3.6 (PES).</para>
/// </remarks>
public sealed class MpegPsScanner : JoinPointScanner
{
    /// <summary>How many packs apart a stream without video gets a join point.</summary>
    public const int AudioOnlyJoinPacks = 16;

    /// <summary>Past this many held packs without an audio PES the packs go out without a join point.</summary>
    private const int MaxHeldPacks = 64;

    private static readonly byte[] PackStart = [0, 0, 1, 0xBA];
    private static readonly byte[] SequenceHeaderCode = [0, 0, 1, 0xB3];

    private readonly List<byte[]> _held = [];
    private bool _audio;
    private bool _video;
    private int _sinceJoin;

    protected override string Name => "MPEG-PS";

    protected override int ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
        {
            return 0;
        }

        if (!data[..4].SequenceEqual(PackStart))
        {
            throw Damaged(0, "no pack start code (00 00 01 BA) at the start of the program stream");
        }

        SetHeader([]);
        return 0;
    }

    protected override int ReadUnit(ReadOnlySpan<byte> data, List<ScannedUnit> units)
    {
        int length = PackLength(data);
        if (length == 0)
        {
            return 0;
        }

        var pack = data[..length];
        Classify(pack, out bool sequenceHeader, out int audioPes);
        _sinceJoin++;
        if (_held.Count > 0 || (sequenceHeader && _audio))
        {
            if (_held.Count > 0 && audioPes >= 0 && Split(pack, audioPes, units))
            {
                foreach (var held in _held)
                {
                    units.Add(new ScannedUnit(held, false));
                }

                _held.Clear();
                _sinceJoin = 0;
                return length;
            }

            _held.Add(pack.ToArray());
            if (_held.Count > MaxHeldPacks)
            {
                Release(units);
            }

            return length;
        }

        if (!_video && _sinceJoin >= AudioOnlyJoinPacks && audioPes >= 0 && Split(pack, audioPes, units))
        {
            _sinceJoin = 0;
            return length;
        }

        bool join = sequenceHeader && !_audio;
        _sinceJoin = join ? 0 : _sinceJoin;
        units.Add(new ScannedUnit(pack.ToArray(), join));
        return length;
    }

    public override void Complete(List<ScannedUnit> units)
    {
        Release(units);
        base.Complete(units);
    }

    private void Release(List<ScannedUnit> units)
    {
        foreach (var held in _held)
        {
            units.Add(new ScannedUnit(held, false));
        }

        _held.Clear();
    }

    /// <summary>The length of the whole pack at the start of <paramref name="data"/>, once the next start code shows where it ends; 0 before.</summary>
    private int PackLength(ReadOnlySpan<byte> data)
    {
        int at = PackHeaderLength(data);
        if (at == 0)
        {
            return 0;
        }

        while (true)
        {
            if (data.Length - at < 4)
            {
                return 0;
            }

            if (data[at] != 0 || data[at + 1] != 0 || data[at + 2] != 1)
            {
                throw Damaged(at, "no start code where the next packet of the pack should begin");
            }

            switch (data[at + 3])
            {
                case 0xBA:
                    return at;
                case 0xB9:
                    return at + 4; // program end code
                case < 0xBB:
                    throw Damaged(at, $"start code 00 00 01 {data[at + 3]:X2} is no packet of a program stream");
            }

            if (data.Length - at < 6)
            {
                return 0;
            }

            at += 6 + BinaryPrimitives.ReadUInt16BigEndian(data[(at + 4)..]);
        }
    }

    /// <summary>12 bytes for an MPEG-1 pack header, 14 and its stuffing for MPEG-2; 0 while not all there.</summary>
    private int PackHeaderLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < 14)
        {
            return 0;
        }

        if (!data[..4].SequenceEqual(PackStart))
        {
            throw Damaged(0, "no pack start code (00 00 01 BA)");
        }

        return (data[4] & 0xC0) == 0x40 ? 14 + (data[13] & 7)
            : (data[4] & 0xF0) == 0x20 ? 12
            : throw Damaged(4, "a pack header that is neither MPEG-1 nor MPEG-2");
    }

    /// <summary>What the pack holds: a video sequence header, and where its first MPEG audio PES starts (-1: none).</summary>
    private void Classify(ReadOnlySpan<byte> pack, out bool sequenceHeader, out int audioPes)
    {
        sequenceHeader = false;
        audioPes = -1;
        for (int at = PackHeaderLength(pack); at + 6 <= pack.Length;)
        {
            byte id = pack[at + 3];
            int end = Math.Min(pack.Length, at + 6 + BinaryPrimitives.ReadUInt16BigEndian(pack[(at + 4)..]));
            var packet = pack[at..end];
            if (id == 0xBB)
            {
                // System header: 6 bytes of bounds, then a 3-byte entry a stream while the first bit is set.
                for (int entry = 12; entry + 3 <= packet.Length && (packet[entry] & 0x80) != 0; entry += 3)
                {
                    _audio |= packet[entry] is >= 0xC0 and <= 0xDF;
                    _video |= packet[entry] is >= 0xE0 and <= 0xEF;
                }
            }
            else if (id is >= 0xE0 and <= 0xEF)
            {
                _video = true;
                sequenceHeader |= packet[PesHeaderLength(packet, at)..].IndexOf(SequenceHeaderCode) >= 0;
            }
            else if (id is >= 0xC0 and <= 0xDF)
            {
                _audio = true;
                audioPes = audioPes < 0 ? at : audioPes;
            }

            if (id == 0xB9)
            {
                break;
            }

            at = end;
        }
    }

    /// <summary>The bytes of a PES packet before its payload: MPEG-2's 9 and header data, or MPEG-1's stuffing, STD buffer and time stamps.</summary>
    private int PesHeaderLength(ReadOnlySpan<byte> pes, int at)
    {
        if (pes.Length < 9)
        {
            throw Damaged(at, "a PES packet too short for its header");
        }

        if ((pes[6] & 0xC0) == 0x80)
        {
            return 9 + pes[8];
        }

        int p = 6;
        while (p < pes.Length && pes[p] == 0xFF && p < 6 + 16)
        {
            p++;
        }

        if (p < pes.Length && (pes[p] & 0xC0) == 0x40)
        {
            p += 2;
        }

        return p >= pes.Length ? throw Damaged(at, "a PES header that runs past its packet")
            : (pes[p] & 0xF0) == 0x20 ? p + 5
            : (pes[p] & 0xF0) == 0x30 ? p + 10
            : pes[p] == 0x0F ? p + 1
            : throw Damaged(at + p, $"PES header byte {pes[p]:X2} is no MPEG-1 time stamp field");
    }

    /// <summary>
    /// Splits the audio PES at <paramref name="audioPes"/> where its first frame starts, and adds the pack as two units:
    /// up to that frame (none when it starts the PES), then from it, a join point. False when no frame starts in it.
    /// </summary>
    private bool Split(ReadOnlySpan<byte> pack, int audioPes, List<ScannedUnit> units)
    {
        int pesEnd = audioPes + 6 + BinaryPrimitives.ReadUInt16BigEndian(pack[(audioPes + 4)..]);
        var pes = pack[audioPes..Math.Min(pesEnd, pack.Length)];
        int headerLength = PesHeaderLength(pes, audioPes);
        var payload = pes[Math.Min(headerLength, pes.Length)..];
        int frame = FrameStart(payload);
        if (frame < 0)
        {
            return false;
        }

        var packHeader = pack[..PackHeaderLength(pack)];
        if (frame > 0 || audioPes > packHeader.Length)
        {
            var before = new List<byte>(packHeader.Length + audioPes + frame + 9);
            before.AddRange(pack[..audioPes]);
            if (frame > 0)
            {
                byte[] noTimeStamps = (pes[6] & 0xC0) == 0x80 ? [0x80, 0x00, 0x00] : [0x0F];
                AddPes(before, pes[3], noTimeStamps, payload[..frame]);
            }

            units.Add(new ScannedUnit(before.ToArray(), false));
        }

        var after = new List<byte>(pack.Length);
        after.AddRange(packHeader);
        AddPes(after, pes[3], pes[6..headerLength], payload[frame..]);
        after.AddRange(pack[pesEnd..]);
        units.Add(new ScannedUnit(after.ToArray(), true));
        return true;
    }

    private static void AddPes(List<byte> to, byte id, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        int length = header.Length + payload.Length;
        to.AddRange([0, 0, 1, id, (byte)(length >> 8), (byte)length]);
        to.AddRange(header);
        to.AddRange(payload);
    }

    /// <summary>
    /// Where the first MPEG audio frame in a PES payload starts: the first frame header followed by another of the same
    /// layer and rate (or by the end of the payload); failing that, one whose frame runs past the payload; else -1.
    /// </summary>
    internal static int FrameStart(ReadOnlySpan<byte> payload)
    {
        int unconfirmed = -1;
        for (int at = 0; at + 4 <= payload.Length; at++)
        {
            if (!MpegAudioHeader.TryParse(payload[at..], out var header))
            {
                continue;
            }

            int next = at + header.FrameLength;
            if (next == payload.Length
                || (next + 4 <= payload.Length && MpegAudioHeader.TryParse(payload[next..], out var following)
                    && following.Layer == header.Layer && following.SampleRate == header.SampleRate))
            {
                return at;
            }

            if (next > payload.Length && unconfirmed < 0)
            {
                unconfirmed = at;
            }
        }

        return unconfirmed;
    }
}
