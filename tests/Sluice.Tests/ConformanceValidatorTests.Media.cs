using System.Buffers.Binary;
using System.Text;

namespace Sluice.Tests;

/// <summary>Hand-made fMP4 and MPEG-TS bytes for the validator's unit tests: only the boxes and fields it reads.</summary>
internal static class SyntheticMedia
{
    public static byte[] Box(string type, params byte[][] children)
    {
        int length = 8 + children.Sum(c => c.Length);
        var b = new byte[length];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)length);
        Encoding.ASCII.GetBytes(type).CopyTo(b, 4);
        int at = 8;
        foreach (var c in children)
        {
            c.CopyTo(b, at);
            at += c.Length;
        }

        return b;
    }

    public static byte[] U32(params uint[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(i * 4), values[i]);
        }

        return b;
    }

    private static byte[] U64(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        return b;
    }

    private static byte[] Trak(uint id, uint timescale, string handler, byte[] entry) => Box("trak",
        Box("tkhd", U32(0, 0, 0, id, 0), new byte[60]),
        Box("mdia",
            Box("mdhd", U32(0, 0, 0, timescale, 0, 0)),
            Box("hdlr", U32(0, 0), Encoding.ASCII.GetBytes(handler), new byte[13]),
            Box("minf", Box("stbl", Box("stsd", U32(0, 1), entry)))));

    /// <summary>An AAC-LC track (mp4a with esds) at 48 kHz, timescale <paramref name="timescale"/>.</summary>
    public static byte[] AacTrak(uint id, uint timescale = 48000)
    {
        byte[] esds = [0, 0, 0, 0, 0x03, 25, 0, 1, 0, 0x04, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 2, 0x11, 0x90, 0x06, 1, 2];
        var fixedPart = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart.AsSpan(7), 1);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart.AsSpan(16), 2);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart.AsSpan(24), 48000);
        return Trak(id, timescale, "soun", Box("mp4a", fixedPart[..20], fixedPart[20..], Box("esds", esds)));
    }

    /// <summary>An H.264 track (avc1 with an avcC of profile 100, level 3.1) at 90 kHz.</summary>
    public static byte[] AvcTrak(uint id) =>
        Trak(id, 90000, "vide", Box("avc1", new byte[78], Box("avcC", [1, 0x64, 0x00, 0x1f, 0xFF, 0xE0, 0])));

    public static byte[] Init(params byte[][] traks) =>
        [.. Box("ftyp", Encoding.ASCII.GetBytes("iso6"), U32(0)), .. Box("moov", [Box("mvhd", new byte[100]), .. traks, Box("mvex", [.. traks.Select((_, i) => Box("trex", U32(0, (uint)i + 1, 1, 0, 0, 0)))])])];

    /// <summary>A moof+mdat with one traf: the samples' durations (and flags: sync unless non-sync is set), sizes of 4 bytes.</summary>
    public static byte[] Fragment(uint track, ulong tfdt, uint[] durations, bool firstSync = true, uint firstComposition = 0)
    {
        // With a composition offset, version 1 (signed offsets) and a fourth field a sample.
        bool composed = firstComposition != 0;
        var entries = durations.SelectMany((d, i) => composed
            ? U32(d, 4, i == 0 && firstSync ? 0x0200_0000u : 0x0101_0000u, i == 0 ? firstComposition : 0)
            : U32(d, 4, i == 0 && firstSync ? 0x0200_0000u : 0x0101_0000u)).ToArray();
        var trun = Box("trun", composed ? [1, .. U32(0xF01, (uint)durations.Length, 0).AsSpan(1)] : U32(0x701, (uint)durations.Length, 0), entries);
        var traf = Box("traf", Box("tfhd", U32(0x20000, track)), Box("tfdt", [1, 0, 0, 0], U64(tfdt)), trun);
        var moof = Box("moof", Box("mfhd", U32(0, 1)), traf);
        BinaryPrimitives.WriteUInt32BigEndian(moof.AsSpan(8 + 16 + 8 + 16 + 20 + 16), (uint)(moof.Length + 8)); // trun's data_offset: the mdat's payload
        return [.. moof, .. Box("mdat", new byte[4 * durations.Length])];
    }

    public static uint[] Repeat(uint value, int count) => Enumerable.Repeat(value, count).ToArray();

    /// <summary>A transport stream: PAT, PMT (an AAC stream on PID 257, PCR on it), then one PES of one ADTS frame a PTS.</summary>
    public static byte[] Ts(long[] pts, long[]? pcrs = null)
    {
        var packets = new List<byte[]>
        {
            Packet(0, [0, 0x00, 0xB0, 13, 0, 1, 0xC1, 0, 0, 0, 1, 0xF0, 0x00, 0, 0, 0, 0]),
            Packet(4096, [0, 0x02, 0xB0, 18, 0, 1, 0xC1, 0, 0, 0xE1, 0x01, 0xF0, 0, 0x0F, 0xE1, 0x01, 0xF0, 0, 0, 0, 0, 0]),
        };
        for (int i = 0; i < pts.Length; i++)
        {
            long p = pts[i];
            byte[] pes = [0, 0, 1, 0xC0, 0, 0, 0x80, 0x80, 5, (byte)(0x21 | ((p >> 29) & 0x0E)), (byte)(p >> 22), (byte)(((p >> 14) & 0xFE) | 1), (byte)(p >> 7), (byte)(((p << 1) & 0xFE) | 1),
                0xFF, 0xF1, 0x4C, 0x80, 0x01, 0x1F, 0xFC, 0]; // ADTS: AAC-LC, 48 kHz, one frame of 8 bytes
            packets.Add(Packet(257, pes, pcrs is null ? null : pcrs[i]));
        }

        return [.. packets.SelectMany(p => p)];
    }

    private static byte[] Packet(int pid, byte[] payload, long? pcr = null)
    {
        var p = new byte[188];
        p[0] = 0x47;
        p[1] = (byte)(0x40 | (pid >> 8));
        p[2] = (byte)pid;
        int adaptation = 188 - 4 - payload.Length - 1;
        p[3] = 0x30;
        p[4] = (byte)adaptation;
        if (adaptation > 0)
        {
            p[5] = (byte)(pcr is null ? 0 : 0x10);
            for (int i = 6; i < 5 + adaptation; i++)
            {
                p[i] = 0xFF;
            }

            if (pcr is long value)
            {
                long b = value / 300;
                p[6] = (byte)(b >> 25);
                p[7] = (byte)(b >> 17);
                p[8] = (byte)(b >> 9);
                p[9] = (byte)(b >> 1);
                p[10] = (byte)(((b & 1) << 7) | 0x7E);
                p[11] = (byte)(value % 300);
            }
        }

        payload.CopyTo(p, 5 + adaptation);
        return p;
    }
}
