using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using Sluice.Media;

namespace Sluice.Server.Feeds;

/// <summary>
/// The layout of a feed file (docs/feed-files.md), one place that writes and reads it: a header region (magic,
/// version, the file's identity, two checkpoint slots, the tracks with their codec private data) and a data region
/// used as a ring of self-checking packet records. Little-endian throughout.
/// </summary>
internal static class FeedFileFormat
{
    public static ReadOnlySpan<byte> Magic => "SLUICEFF"u8;

    public const ushort Version = 1;

    /// <summary>Record magics: a packet, and the marker that says "the next record is at the start of the data region".</summary>
    public const uint PacketMagic = 0x4B504653; // "SFPK"
    public const uint WrapMagic = 0x52574653;   // "SFWR"

    /// <summary>magic 4, length 4, sequence 8, feed sequence 8, dts 8, pts 8, duration 8, received 8, track 2, flags 2, crc 4.</summary>
    public const int RecordHeaderSize = 64;

    /// <summary>Where the checkpoint slots are; each is <see cref="CheckpointSize"/> bytes.</summary>
    public const int CheckpointA = 64, CheckpointB = 128, CheckpointSize = 64;

    /// <summary>Where the tracks start (after the fixed header and both slots).</summary>
    public const int TracksOffset = 192;

    /// <summary>The header region is a whole number of these, so the data region starts on a page.</summary>
    public const int Alignment = 4096;

    /// <summary>The largest payload a record takes (a 16-bit-track, 32-bit-length record could say more; no frame is this big).</summary>
    public const int MaxPayload = 64 * 1024 * 1024;

    public const ushort KeyframeFlag = 1;

    /// <summary>The packet starts a GOP of the feed (a video keyframe, or any packet of an audio-only feed): where a reader may start.</summary>
    public const ushort GopStartFlag = 2;

    /// <summary>CRC-32C (Castagnoli, the one the CPU computes: SSE 4.2, ARMv8), over <paramref name="data"/>.</summary>
    public static uint Crc(ReadOnlySpan<byte> data, uint crc = 0xFFFFFFFF)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return crc;
    }

    public static uint Finish(uint crc) => ~crc;

    /// <summary>The identity and tracks of a feed file, what its header says.</summary>
    public sealed record Header(ulong FileId, long MaxSize, int DataStart, IReadOnlyList<TrackInfo> Tracks);

    /// <summary>
    /// Where the ring stood at a moment that was made durable: the next record goes at <see cref="Head"/> in lap
    /// <see cref="Lap"/> with sequence <see cref="NextSequence"/>; the oldest record a reader may start at is the one
    /// at <see cref="Tail"/> (lap <see cref="TailLap"/>, sequence <see cref="TailSequence"/>), or none when
    /// <see cref="TailSequence"/> equals <see cref="NextSequence"/>.
    /// </summary>
    public readonly record struct Checkpoint(ulong Counter, long Head, uint Lap, ulong NextSequence, long Tail, uint TailLap, ulong TailSequence, long NextFeedSequence);

    /// <summary>The header region's bytes for a new file: its size is a whole number of <see cref="Alignment"/>.</summary>
    public static byte[] WriteHeader(Header header, Checkpoint checkpoint)
    {
        byte[] tracks = WriteTracks(header.Tracks);
        int size = (TracksOffset + tracks.Length + Alignment - 1) / Alignment * Alignment;
        var bytes = new byte[size];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), Version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), size);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), header.FileId);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(24), header.MaxSize);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(32), tracks.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(36), Finish(Crc(tracks)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(60), Finish(Crc(bytes.AsSpan(0, 60))));
        WriteCheckpoint(bytes.AsSpan(CheckpointA, CheckpointSize), checkpoint);
        tracks.CopyTo(bytes, TracksOffset);
        return bytes;
    }

    /// <summary>
    /// Reads a header region; null with <paramref name="error"/> when it is not a feed file Sluice can read (the
    /// caller renames such a file aside). <paramref name="checkpoint"/> is the newer of the two valid slots.
    /// </summary>
    public static Header? ReadHeader(ReadOnlySpan<byte> bytes, out Checkpoint checkpoint, out string? error)
    {
        checkpoint = default;
        if (bytes.Length < TracksOffset || !bytes[..8].SequenceEqual(Magic))
        {
            error = "it is not a Sluice feed file (no SLUICEFF magic)";
            return null;
        }

        if (Finish(Crc(bytes[..60])) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[60..]))
        {
            error = "its header is damaged (checksum mismatch)";
            return null;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
        if (version != Version)
        {
            error = $"it is a feed file of version {version}; this Sluice reads version {Version}";
            return null;
        }

        int size = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        int tracksLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[32..]);
        if (size % Alignment != 0 || size > bytes.Length || tracksLength < 0 || TracksOffset + tracksLength > size)
        {
            error = "its header is damaged (sizes out of range)";
            return null;
        }

        var tracks = bytes.Slice(TracksOffset, tracksLength);
        if (Finish(Crc(tracks)) != BinaryPrimitives.ReadUInt32LittleEndian(bytes[36..]))
        {
            error = "its track list is damaged (checksum mismatch)";
            return null;
        }

        bool a = TryReadCheckpoint(bytes.Slice(CheckpointA, CheckpointSize), out var first);
        bool b = TryReadCheckpoint(bytes.Slice(CheckpointB, CheckpointSize), out var second);
        if (!a && !b)
        {
            error = "both of its checkpoints are damaged";
            return null;
        }

        checkpoint = !b || (a && first.Counter > second.Counter) ? first : second;
        error = null;
        return new Header(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]),
            size,
            ReadTracks(tracks));
    }

    /// <summary>Reads the header region of the file open at <paramref name="handle"/> (its size is in its first bytes).</summary>
    public static Header? ReadHeader(Microsoft.Win32.SafeHandles.SafeFileHandle handle, out Checkpoint checkpoint, out string? error)
    {
        long length = RandomAccess.GetLength(handle);
        var bytes = new byte[(int)Math.Min(length, Alignment)];
        RandomAccess.Read(handle, bytes, 0);
        int size = bytes.Length >= 16 ? BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12)) : 0;
        if (size > bytes.Length && size <= Math.Min(length, MaxPayload))
        {
            bytes = new byte[size];
            RandomAccess.Read(handle, bytes, 0);
        }

        return ReadHeader(bytes, out checkpoint, out error);
    }

    /// <summary>The slot a checkpoint goes to: the two alternate, so a torn write of one leaves the other.</summary>
    public static int CheckpointOffset(ulong counter) => counter % 2 == 0 ? CheckpointA : CheckpointB;

    public static void WriteCheckpoint(Span<byte> slot, Checkpoint c)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(slot, c.Counter);
        BinaryPrimitives.WriteInt64LittleEndian(slot[8..], c.Head);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[16..], c.Lap);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[20..], c.TailLap);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[24..], c.NextSequence);
        BinaryPrimitives.WriteInt64LittleEndian(slot[32..], c.Tail);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[40..], c.TailSequence);
        BinaryPrimitives.WriteInt64LittleEndian(slot[48..], c.NextFeedSequence);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[60..], Finish(Crc(slot[..60])));
    }

    private static bool TryReadCheckpoint(ReadOnlySpan<byte> slot, out Checkpoint c)
    {
        c = new Checkpoint(
            BinaryPrimitives.ReadUInt64LittleEndian(slot),
            BinaryPrimitives.ReadInt64LittleEndian(slot[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(slot[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(slot[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(slot[20..]),
            BinaryPrimitives.ReadUInt64LittleEndian(slot[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(slot[48..]));
        return Finish(Crc(slot[..60])) == BinaryPrimitives.ReadUInt32LittleEndian(slot[60..]);
    }

    /// <summary>
    /// A packet record's header; its checksum covers the header's first 60 bytes and the payload. <see cref="Received"/>
    /// is when the feed took the packet, in Unix milliseconds (what a viewer's <c>?date=</c> names).
    /// </summary>
    public readonly record struct RecordHeader(uint Magic, int Length, ulong Sequence, long FeedSequence, long Dts, long Pts, long Duration, long Received, int Track, bool IsKeyframe, bool IsGopStart)
    {
        public int Size => RecordHeaderSize + Length;
    }

    public static void WriteRecordHeader(Span<byte> span, in RecordHeader r)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(span, r.Magic);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], r.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], r.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], r.FeedSequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], r.Dts);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], r.Pts);
        BinaryPrimitives.WriteInt64LittleEndian(span[40..], r.Duration);
        BinaryPrimitives.WriteInt64LittleEndian(span[48..], r.Received);
        BinaryPrimitives.WriteUInt16LittleEndian(span[56..], (ushort)r.Track);
        BinaryPrimitives.WriteUInt16LittleEndian(span[58..], (ushort)((r.IsKeyframe ? KeyframeFlag : 0) | (r.IsGopStart ? GopStartFlag : 0)));
    }

    /// <summary>Seals a record: its checksum over the header's first 60 bytes and <paramref name="payload"/>.</summary>
    public static void SealRecord(Span<byte> header, ReadOnlySpan<byte> payload) =>
        BinaryPrimitives.WriteUInt32LittleEndian(header[60..], Finish(Crc(payload, Crc(header[..60]))));

    /// <summary>A record header's fields, or null when the bytes are no record header (a torn or overwritten one).</summary>
    public static RecordHeader? ReadRecordHeader(ReadOnlySpan<byte> span)
    {
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(span);
        int length = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        if ((magic != PacketMagic && magic != WrapMagic) || length < 0 || length > MaxPayload || (magic == WrapMagic && length != 0))
        {
            return null;
        }

        return new RecordHeader(
            magic,
            length,
            BinaryPrimitives.ReadUInt64LittleEndian(span[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(span[48..]),
            BinaryPrimitives.ReadUInt16LittleEndian(span[56..]),
            (BinaryPrimitives.ReadUInt16LittleEndian(span[58..]) & KeyframeFlag) != 0,
            (BinaryPrimitives.ReadUInt16LittleEndian(span[58..]) & GopStartFlag) != 0);
    }

    /// <summary>Whether a record (header bytes and payload) is whole: its checksum matches.</summary>
    public static bool IsSealed(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload) =>
        Finish(Crc(payload, Crc(header[..60]))) == BinaryPrimitives.ReadUInt32LittleEndian(header[60..]);

    private static byte[] WriteTracks(IReadOnlyList<TrackInfo> tracks)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write((ushort)tracks.Count);
            foreach (var t in tracks)
            {
                w.Write((ushort)t.Index);
                w.Write(t.Kind.ToString());
                w.Write(t.Codec.ToString()); // by name: a CodecId added in the middle of the enum must not change a file's codecs
                w.Write(t.ContainerCodecName ?? "");
                w.Write(t.CodecPrivate.Length);
                w.Write(t.CodecPrivate.Span);
                w.Write(t.Width);
                w.Write(t.Height);
                w.Write(t.DefaultDuration);
                w.Write(t.TimePrecision);
                w.Write(t.SampleRate);
                w.Write(t.Channels);
                w.Write(t.BitDepth);
                w.Write(t.CodecDelayNs);
                w.Write(t.SeekPreRollNs);
                w.Write(t.Language ?? "");
            }
        }

        return stream.ToArray();
    }

    private static List<TrackInfo> ReadTracks(ReadOnlySpan<byte> bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes.ToArray()), Encoding.UTF8);
        int count = r.ReadUInt16();
        var tracks = new List<TrackInfo>(count);
        for (int i = 0; i < count; i++)
        {
            int index = r.ReadUInt16();
            var kind = Enum.Parse<MediaKind>(r.ReadString());
            var codec = Enum.TryParse<CodecId>(r.ReadString(), out var c) ? c : CodecId.Unknown;
            string containerName = r.ReadString();
            var codecPrivate = r.ReadBytes(r.ReadInt32());
            tracks.Add(new TrackInfo
            {
                Index = index,
                Kind = kind,
                Codec = codec,
                ContainerCodecName = containerName.Length == 0 ? null : containerName,
                CodecPrivate = codecPrivate,
                Width = r.ReadInt32(),
                Height = r.ReadInt32(),
                DefaultDuration = r.ReadInt64(),
                TimePrecision = r.ReadInt64(),
                SampleRate = r.ReadInt32(),
                Channels = r.ReadInt32(),
                BitDepth = r.ReadInt32(),
                CodecDelayNs = r.ReadInt64(),
                SeekPreRollNs = r.ReadInt64(),
                Language = r.ReadString() is { Length: > 0 } language ? language : null,
            });
        }

        return tracks;
    }
}
