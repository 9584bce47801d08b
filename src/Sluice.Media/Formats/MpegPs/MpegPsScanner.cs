using System.Buffers.Binary;
using Sluice.Media.Codecs.Ac3;
using Sluice.Media.Codecs.MpegAudio;

namespace Sluice.Media.Formats.MpegPs;

/// <summary>
/// Cuts an MPEG program stream that another muxer writes (ffmpeg's <c>mpeg</c>, MPEG-1 or MPEG-2 packs) into units of
/// one start code each: a pack header, the system header, a PES packet (ffmpeg writes many PES packets a pack). The
/// header is empty (a program stream needs none). A join point starts with a pack header and, once the stream has
/// had one, a copy of its system header (GStreamer 1.22's mpegpsdemux, reading from a join point without one,
/// announced the audio stream alone, and a decodebin with a video branch waited forever), and from it the video starts at a sequence header (00 00 01 B3, which MPEG-1/2 video encoders write
/// before every I-frame that opens a GOP) and the audio on a frame.
/// </summary>
/// <remarks>
/// <para>
/// PES packets start neither on pictures nor on audio frames (the muxer fills fixed-size packets), so a reader that
/// starts at the PES of a sequence header gets the end of the previous picture first ("ac-tex damaged") and the end of
/// an audio frame ("Header missing" from ffmpeg's mp2 decoder). So the scanner splits that video PES in two where the
/// sequence header begins (the first part, the end of the previous picture, keeps the PES header and its time stamps;
/// the second, from the sequence header on, is a PES without time stamps), holds what
/// follows until the next audio PES (MPEG audio, or AC-3: private stream 1, sub-streams 0x80-0x87, whose sub-stream
/// header <see cref="Split"/> corrects), splits that one where its first frame begins, and hands out: the end of
/// the audio frame, then the join point and the held units (the join point itself is the copied pack and system headers with the held video from its sequence
/// header, and the audio from its frame follows it). Nothing is lost for a viewer that reads on: the same elementary streams, a few PES, pack and system headers
/// more, the audio a little earlier in the multiplex. A stream without audio joins at the sequence header; one without
/// video every <see cref="AudioOnlyJoinPackets"/> audio packets, at a split audio PES.
/// </para>
/// <para>Layouts: ISO/IEC 11172-1 2.4.3 (pack, system header, packet) and ISO/IEC 13818-1 2.5.3 (MPEG-2 pack) and 2.4.3.6 (PES);
/// the AC-3 sub-stream header as ffmpeg's mpeg muxer writes it (sub-stream id, number of frames, first access unit
/// pointer), as DVD-Video does.</para>
/// </remarks>
public sealed class MpegPsScanner : JoinPointScanner
{
    /// <summary>How many audio PES packets apart a stream without video gets a join point.</summary>
    public const int AudioOnlyJoinPackets = 8;

    /// <summary>Past this many held units without an audio PES they go out without a join point.</summary>
    private const int MaxHeldUnits = 256;

    /// <summary>Private stream 1, where ffmpeg's mpeg muxer puts AC-3 (sub-streams 0x80-0x87).</summary>
    private const byte PrivateStream1 = 0xBD;

    /// <summary>The sub-stream header of AC-3 in private stream 1: sub-stream id, number of frames, first access unit pointer.</summary>
    private const int Ac3SubstreamHeader = 4;

    private static readonly byte[] PackStart = [0, 0, 1, 0xBA];
    private static readonly byte[] SequenceHeaderCode = [0, 0, 1, 0xB3];

    /// <summary>The bytes of an AC-3 frame's start that ffmpeg's ac3 parser reads before it knows a frame begins (AC3_HEADER_SIZE).</summary>
    private const int Ac3HeaderBytes = 7;

    private readonly List<(byte[] Bytes, long? Time)> _held = [];
    private byte[] _packHeader = [];
    private byte[] _systemHeader = [];
    private bool _audio;
    private bool _video;
    private int _sinceJoin;
    private int _audioLayer;
    private int _audioRate;
    private long? _scr;
    private int _trimNext;
    private bool _ending;

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
        int length = UnitLength(data);
        if (length == 0 || data.Length < length)
        {
            return 0;
        }

        var unit = data[..length];
        byte id = unit[3];
        if (id == 0xBA)
        {
            _packHeader = unit.ToArray();
            _scr = SystemClockReference(unit);
        }
        else if (id == 0xBB)
        {
            SystemHeader(unit);
            _systemHeader = unit.ToArray();
        }
        else if (id is >= 0xE0 and <= 0xEF)
        {
            _video = true;
            if (_held.Count == 0 && Split(unit, Cut.SequenceHeader) is (var end, var start))
            {
                // The end of the previous picture goes out now; the sequence header starts a PES of its own.
                Add(units, end, false);
                if (_audio)
                {
                    _held.Add((start, _scr));
                }
                else
                {
                    Add(units, [.. _packHeader, .. _systemHeader, .. start], true);
                }

                return length;
            }
        }
        else if (id is >= 0xC0 and <= 0xDF || (id == PrivateStream1 && IsAc3(unit)))
        {
            var cut = id == PrivateStream1 ? Cut.Ac3 : Cut.MpegAudio;
            if (cut == Cut.Ac3)
            {
                if (CompleteFrameHeader(data, length) is not { } whole)
                {
                    return 0; // the next AC-3 packet, which holds the rest of this one's last frame header, is not all there yet
                }

                unit = whole;
            }

            _audio = true;
            _sinceJoin++;
            if (_audioRate == 0)
            {
                Split(unit, cut); // learns the stream's layer and rate from its first confirmed frame
            }

            if ((_held.Count > 0 || (!_video && _sinceJoin >= AudioOnlyJoinPackets)) && Split(unit, cut) is (var tail, var frame))
            {
                Add(units, tail, false);
                if (_held.Count > 0)
                {
                    // The held video from its sequence header first, then the audio from its frame: a player that decides
                    // what the stream is from its first kilobytes (GStreamer's typefinder, 2 KB) sees a system stream
                    // with video, not MPEG audio frames.
                    units.Add(new ScannedUnit((byte[])[.. _packHeader, .. _systemHeader, .. _held[0].Bytes], true, _held[0].Time));
                    _held.RemoveAt(0);
                    Add(units, frame, false);
                }
                else
                {
                    Add(units, [.. _packHeader, .. _systemHeader, .. frame], true);
                }

                Release(units);
                _sinceJoin = 0;
                return length;
            }
        }

        if (_held.Count > 0)
        {
            _held.Add((unit.ToArray(), _scr));
            if (_held.Count > MaxHeldUnits)
            {
                Release(units);
            }
        }
        else
        {
            Add(units, unit.ToArray(), false);
        }

        return length;
    }

    /// <summary>A unit read now: at the time of the last pack's SCR.</summary>
    private void Add(List<ScannedUnit> units, byte[]? bytes, bool joinPoint)
    {
        if (bytes is not null)
        {
            units.Add(new ScannedUnit(bytes, joinPoint, _scr));
        }
    }

    public override void Complete(List<ScannedUnit> units)
    {
        // What is left is read as units still, with no packet after it to complete a frame header from.
        _ending = true;
        Write([], units);
        Release(units);
        base.Complete(units);
    }

    private void Release(List<ScannedUnit> units)
    {
        foreach (var (bytes, time) in _held)
        {
            units.Add(new ScannedUnit(bytes, false, time));
        }

        _held.Clear();
    }

    /// <summary>
    /// The AC-3 packet at the start of <paramref name="data"/> as it goes out: without the bytes the packet before took
    /// (<see cref="_trimNext"/>), and, when its last frame starts within its final <see cref="Ac3HeaderBytes"/> bytes,
    /// with the rest of that frame's header moved in from the next AC-3 packet. ffmpeg's mpeg muxer cuts packets at any
    /// byte, and ffmpeg's reader, given a frame header cut in two, gave that frame the next packet's time stamp and the
    /// frame after it the same one ("non monotonically increasing dts to muxer": in ffmpeg's own output, once in 6 s of
    /// 48 kHz 192 kbit/s AC-3, where a frame's first byte was a packet's last). Null while the next AC-3 packet is not
    /// all there.
    /// </summary>
    private byte[]? CompleteFrameHeader(ReadOnlySpan<byte> data, int length)
    {
        var pes = data[..length];
        int start = PesHeaderLength(pes, 0) + Ac3SubstreamHeader;
        int missing = _ending ? 0 : MissingHeaderBytes(pes, start, _trimNext);
        byte[]? rest = missing > 0 ? NextAc3Start(data, length, missing) : [];
        if (rest is null)
        {
            return null;
        }

        // The packet's data loses what the one before took and gains what it takes from the next; the pointer to
        // its first frame (or, where none starts, to the next) moves with the bytes before it.
        int taken = _trimNext;
        _trimNext = rest.Length;
        int pointer = BinaryPrimitives.ReadUInt16BigEndian(pes[(start - 2)..]) - taken;
        byte[] unit = [.. pes[..start], .. pes[(start + taken)..], .. rest];
        BinaryPrimitives.WriteUInt16BigEndian(unit.AsSpan(4), (ushort)(unit.Length - 6));
        BinaryPrimitives.WriteUInt16BigEndian(unit.AsSpan(start - 2), (ushort)pointer);
        return unit;
    }

    /// <summary>How many bytes of its last frame's first <see cref="Ac3HeaderBytes"/> an AC-3 packet lacks (0 when they are all in it), its first <paramref name="taken"/> bytes of data left out.</summary>
    private static int MissingHeaderBytes(ReadOnlySpan<byte> pes, int start, int taken)
    {
        var frames = pes[(start + taken)..];
        if (pes[start - 3] == 0)
        {
            return 0;
        }

        for (int at = BinaryPrimitives.ReadUInt16BigEndian(pes[(start - 2)..]) - 1 - taken; at >= 0 && at < frames.Length;)
        {
            if (frames.Length - at < Ac3HeaderBytes)
            {
                return Ac3HeaderBytes - (frames.Length - at);
            }

            if (!Ac3SyncInfo.TryParse(frames[at..], out var frame))
            {
                return 0;
            }

            at += frame.FrameLength;
        }

        return 0;
    }

    /// <summary>
    /// The first <paramref name="count"/> bytes of data of the next AC-3 packet after <paramref name="from"/>, when they
    /// are the end of the frame under way (not the start of another); empty when there is none to take them from (the
    /// program's end, damage, or no AC-3 packet within <see cref="MaxHeldUnits"/> units); null while it is not all there.
    /// </summary>
    private byte[]? NextAc3Start(ReadOnlySpan<byte> data, int from, int count)
    {
        try
        {
            for (int at = from, units = 0; units < MaxHeldUnits; units++)
            {
                int length = UnitLength(data[at..]);
                if (length == 0 || data.Length - at < length)
                {
                    return null;
                }

                var next = data.Slice(at, length);
                if (next[3] == 0xB9)
                {
                    return [];
                }

                if (next[3] == PrivateStream1 && IsAc3(next))
                {
                    int start = PesHeaderLength(next, 0) + Ac3SubstreamHeader;
                    bool tail = next[start - 3] == 0 || BinaryPrimitives.ReadUInt16BigEndian(next[(start - 2)..]) - 1 >= count;
                    return tail && next.Length - start >= count ? next.Slice(start, count).ToArray() : [];
                }

                at += length;
            }
        }
        catch (MediaFormatException)
        {
            // Damage ahead is reported with its offset when it is read; this packet goes out as ffmpeg wrote it.
        }

        return [];
    }

    /// <summary>
    /// The pack's system clock reference, the time the multiplex says its first byte arrives, in 90 kHz ticks (the
    /// 33-bit base; MPEG-2's 27 MHz extension is left out): MPEG-1's '0010' and MPEG-2's '01' prefix, then the bits
    /// 32-30, 29-15 and 14-0, each after a marker bit.
    /// </summary>
    private static long SystemClockReference(ReadOnlySpan<byte> pack)
    {
        bool mpeg2 = (pack[4] & 0xC0) == 0x40;
        long high = mpeg2 ? (pack[4] >> 3) & 7 : (pack[4] >> 1) & 7;
        long middle = mpeg2
            ? ((pack[4] & 3) << 13) | (pack[5] << 5) | (pack[6] >> 3)
            : (pack[5] << 7) | (pack[6] >> 1);
        long low = mpeg2
            ? ((pack[6] & 3) << 13) | (pack[7] << 5) | (pack[8] >> 3)
            : (pack[7] << 7) | (pack[8] >> 1);
        return (high << 30) | (middle << 15) | low;
    }

    /// <summary>The length of the start code's unit at the start of <paramref name="data"/>; 0 while its length is not known yet.</summary>
    private int UnitLength(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
        {
            return 0;
        }

        if (data[0] != 0 || data[1] != 0 || data[2] != 1)
        {
            throw Damaged(0, "no start code where the next pack header or packet should begin");
        }

        return data[3] switch
        {
            0xBA => PackHeaderLength(data),
            0xB9 => 4, // program end code
            < 0xBB => throw Damaged(0, $"start code 00 00 01 {data[3]:X2} is no packet of a program stream"),
            _ => data.Length < 6 ? 0 : 6 + BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
        };
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

    /// <summary>The system header: 6 bytes of bounds, then a 3-byte entry a stream while the first bit is set.</summary>
    private void SystemHeader(ReadOnlySpan<byte> header)
    {
        for (int entry = 12; entry + 3 <= header.Length && (header[entry] & 0x80) != 0; entry += 3)
        {
            _audio |= header[entry] is >= 0xC0 and <= 0xDF;
            _video |= header[entry] is >= 0xE0 and <= 0xEF;
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

    /// <summary>Where <see cref="Split"/> cuts a PES packet.</summary>
    private enum Cut
    {
        SequenceHeader,
        MpegAudio,
        Ac3,
    }

    /// <summary>An AC-3 PES of private stream 1: its payload starts with a sub-stream id of 0x80-0x87 and the rest of that header.</summary>
    private bool IsAc3(ReadOnlySpan<byte> pes)
    {
        int headerLength = PesHeaderLength(pes, 0);
        return pes.Length >= headerLength + Ac3SubstreamHeader && pes[headerLength] is >= 0x80 and <= 0x87;
    }

    /// <summary>
    /// Splits a PES packet in two where its first audio frame (or its sequence header) begins: the part before, with the
    /// packet's original header (null when the packet starts with it), and the part from there, in a PES without time
    /// stamps. The time stamps stay at the byte where the muxer put them: ffmpeg's parsers give a PES's time stamps to
    /// the frame under way where the PES starts, so moving them onto the second part gave two frames the same DTS. A
    /// viewer that starts there gets its first frame without a time stamp, which readers take from the next one.
    /// Null when no frame starts in the packet.
    /// </summary>
    /// <remarks>
    /// An AC-3 packet's payload starts with its sub-stream header, which each part gets a copy of, corrected: the number
    /// of frames that start in it, and the first access unit pointer (the offset from the pointer's last byte to the
    /// frame's first, so 1 where the frame follows the header). The first part has no frame start; for such a packet
    /// ffmpeg's muxer writes 0 frames, a pointer just past the packet's end (the rest of the frame under way, plus one)
    /// and no time stamps, and so does the scanner; the second has every frame the packet started, the first right after
    /// the header, and the packet's time stamps, which belong to that frame (ISO/IEC 13818-1 2.4.3.7: a PTS is that of
    /// the first access unit starting in the packet). Left on the first part, as for MPEG audio, they moved ffmpeg's
    /// times of the frames after the split by 4/90000 s (ffprobe's packet times against the unsplit stream's).
    /// </remarks>
    private (byte[]? Before, byte[] After)? Split(ReadOnlySpan<byte> pes, Cut kind)
    {
        int headerLength = PesHeaderLength(pes, 0);
        int dataStart = Math.Min(headerLength + (kind == Cut.Ac3 ? Ac3SubstreamHeader : 0), pes.Length);
        var payload = pes[dataStart..];
        bool ac3 = kind == Cut.Ac3;
        int cut = kind switch
        {
            Cut.SequenceHeader => payload.IndexOf(SequenceHeaderCode),
            Cut.Ac3 => Ac3FrameStart(pes.Slice(headerLength, Ac3SubstreamHeader), payload, _audioRate),
            _ => FrameStart(payload, _audioLayer, _audioRate),
        };
        if (cut < 0)
        {
            return null;
        }

        if (kind != Cut.SequenceHeader && _audioRate == 0 && TryFrame(payload[cut..], ac3, out int layer, out int rate, out _))
        {
            // The stream's first confirmed frame: later frame starts must be of its layer and rate.
            (_audioLayer, _audioRate) = (layer, rate);
        }

        if (cut == 0)
        {
            return (null, pes.ToArray());
        }

        byte[] noTimeStamps = (pes[6] & 0xC0) == 0x80 ? [0x80, 0x00, 0x00] : [0x0F];
        ReadOnlySpan<byte> beforeSubstream = ac3 ? [pes[headerLength], 0, (byte)((cut + 1) >> 8), (byte)(cut + 1)] : [];
        ReadOnlySpan<byte> afterSubstream = ac3 ? [pes[headerLength], pes[headerLength + 1], 0, 1] : [];
        var before = new List<byte>(cut + dataStart);
        AddPes(before, pes[3], ac3 ? noTimeStamps : pes[6..headerLength], beforeSubstream, payload[..cut]);
        var after = new List<byte>(pes.Length - cut + 9);
        AddPes(after, pes[3], ac3 ? pes[6..headerLength] : noTimeStamps, afterSubstream, payload[cut..]);
        return ([.. before], [.. after]);
    }

    private static void AddPes(List<byte> to, byte id, ReadOnlySpan<byte> header, ReadOnlySpan<byte> substream, ReadOnlySpan<byte> payload)
    {
        int length = header.Length + substream.Length + payload.Length;
        to.AddRange([0, 0, 1, id, (byte)(length >> 8), (byte)length]);
        to.AddRange(header);
        to.AddRange(substream);
        to.AddRange(payload);
    }

    /// <summary>
    /// Where the first MPEG audio frame in a PES payload starts: the first frame header of the stream's layer and rate
    /// (any, while <paramref name="sampleRate"/> is 0) followed by another like it (or by the end of the payload);
    /// failing that, once the stream's layer and rate are known, one of them whose frame runs past the payload; else -1.
    /// </summary>
    internal static int FrameStart(ReadOnlySpan<byte> payload, int layer = 0, int sampleRate = 0)
    {
        int unconfirmed = -1;
        for (int at = 0; at + 4 <= payload.Length; at++)
        {
            if (!TryFrame(payload[at..], false, out int foundLayer, out int foundRate, out int length)
                || (sampleRate != 0 && (foundLayer != layer || foundRate != sampleRate)))
            {
                continue;
            }

            int next = at + length;
            if (next == payload.Length
                || (TryFrame(payload[Math.Min(next, payload.Length)..], false, out int nextLayer, out int nextRate, out _)
                    && nextLayer == foundLayer && nextRate == foundRate))
            {
                return at;
            }

            if (next > payload.Length && unconfirmed < 0 && sampleRate != 0)
            {
                unconfirmed = at;
            }
        }

        return unconfirmed;
    }

    /// <summary>
    /// Where the first AC-3 frame in a packet's data (after its sub-stream header) starts: where the header's first
    /// access unit pointer says, when it counts a frame, a sync frame (of the stream's rate, once known) is there, and
    /// the next sync frame follows it unless the frame runs to or past the packet's end; else -1. The muxer knows where
    /// its frames start, so no search: a frame larger than a packet (2560 bytes at 640 kbit/s and 48 kHz, in ffmpeg's
    /// 2 KB packets) could not be confirmed by the next one, as an MPEG audio frame is.
    /// </summary>
    internal static int Ac3FrameStart(ReadOnlySpan<byte> substream, ReadOnlySpan<byte> data, int sampleRate = 0)
    {
        int at = BinaryPrimitives.ReadUInt16BigEndian(substream[2..]) - 1;
        if (substream[1] == 0 || at < 0 || at >= data.Length
            || !Ac3SyncInfo.TryParse(data[at..], out var frame) || (sampleRate != 0 && frame.SampleRate != sampleRate))
        {
            return -1;
        }

        int next = at + frame.FrameLength;
        return next + 6 > data.Length || (Ac3SyncInfo.TryParse(data[next..], out var following) && following.SampleRate == frame.SampleRate) ? at : -1;
    }

    /// <summary>The frame header at the start of <paramref name="data"/>: its layer (0 for AC-3), sample rate and length in bytes.</summary>
    private static bool TryFrame(ReadOnlySpan<byte> data, bool ac3, out int layer, out int sampleRate, out int length)
    {
        (layer, sampleRate, length) = (0, 0, 0);
        if (ac3)
        {
            if (!Ac3SyncInfo.TryParse(data, out var sync))
            {
                return false;
            }

            (sampleRate, length) = (sync.SampleRate, sync.FrameLength);
            return true;
        }

        if (!MpegAudioHeader.TryParse(data, out var header))
        {
            return false;
        }

        (layer, sampleRate, length) = (header.Layer, header.SampleRate, header.FrameLength);
        return true;
    }
}
