using System.Buffers.Binary;
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
/// follows until the next MPEG audio PES, splits that one where its first frame begins, and hands out: the end of
/// the audio frame, then the join point and the held units (the join point itself is the copied pack and system headers with the held video from its sequence
/// header, and the audio from its frame follows it). Nothing is lost for a viewer that reads on: the same elementary streams, a few PES, pack and system headers
/// more, the audio a little earlier in the multiplex. A stream without audio joins at the sequence header; one without
/// video every <see cref="AudioOnlyJoinPackets"/> audio packets, at a split audio PES.
/// </para>
/// <para>Layouts: ISO/IEC 11172-1 2.4.3 (pack, system header, packet) and ISO/IEC 13818-1 2.5.3 (MPEG-2 pack) and 2.4.3.6 (PES).</para>
/// </remarks>
public sealed class MpegPsScanner : JoinPointScanner
{
    /// <summary>How many audio PES packets apart a stream without video gets a join point.</summary>
    public const int AudioOnlyJoinPackets = 8;

    /// <summary>Past this many held units without an audio PES they go out without a join point.</summary>
    private const int MaxHeldUnits = 256;

    private static readonly byte[] PackStart = [0, 0, 1, 0xBA];
    private static readonly byte[] SequenceHeaderCode = [0, 0, 1, 0xB3];

    private readonly List<byte[]> _held = [];
    private byte[] _packHeader = [];
    private byte[] _systemHeader = [];
    private bool _audio;
    private bool _video;
    private int _sinceJoin;
    private int _audioLayer;
    private int _audioRate;

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
        }
        else if (id == 0xBB)
        {
            SystemHeader(unit);
            _systemHeader = unit.ToArray();
        }
        else if (id is >= 0xE0 and <= 0xEF)
        {
            _video = true;
            if (_held.Count == 0 && Split(unit, audio: false) is (var end, var start))
            {
                // The end of the previous picture goes out now; the sequence header starts a PES of its own.
                Add(units, end, false);
                if (_audio)
                {
                    _held.Add(start);
                }
                else
                {
                    Add(units, [.. _packHeader, .. _systemHeader, .. start], true);
                }

                return length;
            }
        }
        else if (id is >= 0xC0 and <= 0xDF)
        {
            _audio = true;
            _sinceJoin++;
            if (_audioLayer == 0)
            {
                Split(unit, audio: true); // learns the stream's layer and rate from its first confirmed frame
            }

            if ((_held.Count > 0 || (!_video && _sinceJoin >= AudioOnlyJoinPackets)) && Split(unit, audio: true) is (var tail, var frame))
            {
                Add(units, tail, false);
                if (_held.Count > 0)
                {
                    // The held video from its sequence header first, then the audio from its frame: a player that decides
                    // what the stream is from its first kilobytes (GStreamer's typefinder, 2 KB) sees a system stream
                    // with video, not MPEG audio frames.
                    Add(units, [.. _packHeader, .. _systemHeader, .. _held[0]], true);
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
            _held.Add(unit.ToArray());
            if (_held.Count > MaxHeldUnits)
            {
                Release(units);
            }
        }
        else
        {
            units.Add(new ScannedUnit(unit.ToArray(), false));
        }

        return length;
    }

    private static void Add(List<ScannedUnit> units, byte[]? bytes, bool joinPoint)
    {
        if (bytes is not null)
        {
            units.Add(new ScannedUnit(bytes, joinPoint));
        }
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

    /// <summary>
    /// Splits a PES packet in two where its first audio frame (or its sequence header) begins: the part before, with the
    /// packet's original header (null when the packet starts with it), and the part from there, in a PES without time
    /// stamps. The time stamps stay at the byte where the muxer put them: ffmpeg's parsers give a PES's time stamps to
    /// the frame under way where the PES starts, so moving them onto the second part gave two frames the same DTS. A
    /// viewer that starts there gets its first frame without a time stamp, which readers take from the next one.
    /// Null when no frame starts in the packet.
    /// </summary>
    private (byte[]? Before, byte[] After)? Split(ReadOnlySpan<byte> pes, bool audio)
    {
        int headerLength = PesHeaderLength(pes, 0);
        var payload = pes[Math.Min(headerLength, pes.Length)..];
        int cut = audio ? FrameStart(payload, _audioLayer, _audioRate) : payload.IndexOf(SequenceHeaderCode);
        if (cut < 0)
        {
            return null;
        }

        if (audio && _audioLayer == 0 && MpegAudioHeader.TryParse(payload[cut..], out var found))
        {
            // The stream's first confirmed frame: later frame starts must be of its layer and rate.
            (_audioLayer, _audioRate) = (found.Layer, found.SampleRate);
        }

        if (cut == 0)
        {
            return (null, pes.ToArray());
        }

        byte[] noTimeStamps = (pes[6] & 0xC0) == 0x80 ? [0x80, 0x00, 0x00] : [0x0F];
        var before = new List<byte>(cut + headerLength);
        AddPes(before, pes[3], pes[6..headerLength], payload[..cut]);
        var after = new List<byte>(pes.Length - cut + 9);
        AddPes(after, pes[3], noTimeStamps, payload[cut..]);
        return ([.. before], [.. after]);
    }

    private static void AddPes(List<byte> to, byte id, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        int length = header.Length + payload.Length;
        to.AddRange([0, 0, 1, id, (byte)(length >> 8), (byte)length]);
        to.AddRange(header);
        to.AddRange(payload);
    }

    /// <summary>
    /// Where the first MPEG audio frame in a PES payload starts: the first frame header of the stream's layer and rate
    /// (any, while <paramref name="layer"/> is 0) followed by another like it (or by the end of the payload); failing
    /// that, once the stream's layer and rate are known, one of them whose frame runs past the payload; else -1.
    /// </summary>
    internal static int FrameStart(ReadOnlySpan<byte> payload, int layer = 0, int sampleRate = 0)
    {
        int unconfirmed = -1;
        for (int at = 0; at + 4 <= payload.Length; at++)
        {
            if (!MpegAudioHeader.TryParse(payload[at..], out var header) || (layer != 0 && (header.Layer != layer || header.SampleRate != sampleRate)))
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

            if (next > payload.Length && unconfirmed < 0 && layer != 0)
            {
                unconfirmed = at;
            }
        }

        return unconfirmed;
    }
}
