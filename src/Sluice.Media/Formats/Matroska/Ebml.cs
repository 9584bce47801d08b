using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Text;

namespace Sluice.Media.Formats.Matroska;

/// <summary>EBML and Matroska element IDs as they appear on the wire (length marker included), RFC 8794 and RFC 9559.</summary>
internal enum ElementId : uint
{
    // EBML header (RFC 8794)
    Ebml = 0x1A45DFA3,
    EbmlVersion = 0x4286,
    EbmlReadVersion = 0x42F7,
    EbmlMaxIdLength = 0x42F2,
    EbmlMaxSizeLength = 0x42F3,
    DocType = 0x4282,
    DocTypeVersion = 0x4287,
    DocTypeReadVersion = 0x4285,

    // global elements
    Void = 0xEC,
    Crc32 = 0xBF,

    Segment = 0x18538067,

    // top-level elements (children of Segment)
    SeekHead = 0x114D9B74,
    Info = 0x1549A966,
    Tracks = 0x1654AE6B,
    Cluster = 0x1F43B675,
    Cues = 0x1C53BB6B,
    Tags = 0x1254C367,
    Chapters = 0x1043A770,
    Attachments = 0x1941A469,

    // Info
    TimestampScale = 0x2AD7B1,
    Duration = 0x4489,
    MuxingApp = 0x4D80,
    WritingApp = 0x5741,

    // Tracks
    TrackEntry = 0xAE,
    TrackNumber = 0xD7,
    TrackUid = 0x73C5,
    TrackType = 0x83,
    FlagLacing = 0x9C,
    DefaultDuration = 0x23E383,
    Name = 0x536E,
    Language = 0x22B59C,
    LanguageBcp47 = 0x22B59D,
    CodecId = 0x86,
    CodecPrivate = 0x63A2,
    CodecDelay = 0x56AA,
    SeekPreRoll = 0x56BB,
    ContentEncodings = 0x6D80,
    Video = 0xE0,
    PixelWidth = 0xB0,
    PixelHeight = 0xBA,
    Audio = 0xE1,
    SamplingFrequency = 0xB5,
    Channels = 0x9F,
    BitDepth = 0x6264,

    // Cluster
    Timestamp = 0xE7,
    Position = 0xA7,
    PrevSize = 0xAB,
    SimpleBlock = 0xA3,
    BlockGroup = 0xA0,
    Block = 0xA1,
    BlockDuration = 0x9B,
    ReferenceBlock = 0xFB,
    DiscardPadding = 0x75A2,
}

/// <summary>Matroska TrackType values.</summary>
internal enum TrackType : byte
{
    Video = 1,
    Audio = 2,
    Complex = 3,
    Logo = 0x10,
    Subtitle = 0x11,
    Buttons = 0x12,
    Control = 0x20,
    Metadata = 0x21,
}

/// <summary>EBML variable-size integers and element headers: reading and writing.</summary>
internal static class Ebml
{
    /// <summary>The size of an element whose size is not known (all value bits set), as returned by <see cref="TryReadHeader"/>.</summary>
    public const long UnknownSize = -1;

    /// <summary>Longest element header: a 4-byte ID and an 8-byte size.</summary>
    public const int MaxHeaderLength = 12;

    /// <summary>The 8-byte "unknown size" VINT a live writer uses for Segment and Cluster.</summary>
    public const ulong UnknownSizeVint8 = 0x01FFFFFFFFFFFFFF;

    public static string NameOf(uint id) => Enum.IsDefined(typeof(ElementId), id)
        ? ((ElementId)id).ToString()
        : $"element 0x{id:X}";

    public static string NameOf(ElementId id) => NameOf((uint)id);

    /// <summary>True for the IDs that may only appear directly in a Segment; they end an unknown-size Cluster.</summary>
    public static bool IsTopLevel(uint id) => (ElementId)id is ElementId.SeekHead or ElementId.Info or ElementId.Tracks
        or ElementId.Cluster or ElementId.Cues or ElementId.Tags or ElementId.Chapters or ElementId.Attachments
        or ElementId.Segment or ElementId.Ebml;

    /// <summary>
    /// Reads an element header (ID and size) at the start of <paramref name="data"/>. Returns false when
    /// more bytes are needed. Throws <see cref="MediaFormatException"/> for an invalid VINT.
    /// <paramref name="size"/> is <see cref="UnknownSize"/> when all its value bits are set.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> data, long offset, out uint id, out long size, out int headerLength)
    {
        id = 0;
        size = 0;
        headerLength = 0;
        if (data.IsEmpty)
        {
            return false;
        }

        int idLength = VintLength(data[0]);
        if (idLength > 4)
        {
            ThrowFormat(offset, idLength > 8
                ? $"invalid element ID: byte 0x{data[0]:X2} has no VINT length marker"
                : $"invalid element ID: {idLength} bytes long, more than the 4 Matroska allows");
        }

        if (data.Length < idLength + 1)
        {
            return false;
        }

        for (int i = 0; i < idLength; i++)
        {
            id = (id << 8) | data[i];
        }

        int sizeLength = VintLength(data[idLength]);
        if (sizeLength > 8)
        {
            ThrowFormat(offset + idLength, $"invalid size of {NameOf(id)}: byte 0x{data[idLength]:X2} has no VINT length marker");
        }

        if (data.Length < idLength + sizeLength)
        {
            return false;
        }

        size = ReadVintValue(data.Slice(idLength, sizeLength), out bool allOnes);
        if (allOnes)
        {
            size = UnknownSize;
        }

        headerLength = idLength + sizeLength;
        return true;
    }

    /// <summary>Length of a VINT from its first byte: 1..8, or 9 when the byte has no length marker (0x00).</summary>
    public static int VintLength(byte first) => first == 0 ? 9 : BitOperations.LeadingZeroCount((uint)first) - 23;

    /// <summary>The value of a complete VINT (marker removed).</summary>
    public static long ReadVintValue(ReadOnlySpan<byte> vint, out bool allOnes)
    {
        int length = vint.Length;
        ulong value = (ulong)(vint[0] & (0xFF >> length));
        bool ones = value == (ulong)(0xFF >> length);
        for (int i = 1; i < length; i++)
        {
            value = (value << 8) | vint[i];
            ones &= vint[i] == 0xFF;
        }

        allOnes = ones;
        return (long)value;
    }

    public static ulong ReadUInt(ReadOnlySpan<byte> data, long offset, uint id)
    {
        if (data.Length > 8)
        {
            ThrowFormat(offset, $"{NameOf(id)} is {data.Length} bytes long; an unsigned integer has at most 8");
        }

        ulong value = 0;
        foreach (byte b in data)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    public static long ReadInt(ReadOnlySpan<byte> data, long offset, uint id)
    {
        if (data.Length > 8)
        {
            ThrowFormat(offset, $"{NameOf(id)} is {data.Length} bytes long; a signed integer has at most 8");
        }

        if (data.IsEmpty)
        {
            return 0;
        }

        long value = (sbyte)data[0];
        for (int i = 1; i < data.Length; i++)
        {
            value = (value << 8) | data[i];
        }

        return value;
    }

    public static double ReadFloat(ReadOnlySpan<byte> data, long offset, uint id) => data.Length switch
    {
        0 => 0,
        4 => BinaryPrimitives.ReadSingleBigEndian(data),
        8 => BinaryPrimitives.ReadDoubleBigEndian(data),
        _ => ThrowFormat<double>(offset, $"{NameOf(id)} is {data.Length} bytes long; a float has 0, 4 or 8"),
    };

    /// <summary>A string element: ASCII or UTF-8, ended by its size or by the first zero byte.</summary>
    public static string ReadString(ReadOnlySpan<byte> data)
    {
        int zero = data.IndexOf((byte)0);
        return Encoding.UTF8.GetString(zero >= 0 ? data[..zero] : data);
    }

    // ---- writing ----

    /// <summary>Number of bytes of the shortest VINT that holds <paramref name="value"/> (never the all-ones pattern).</summary>
    public static int SizeLength(ulong value)
    {
        int length = 1;
        while (length < 8 && value >= (1UL << (7 * length)) - 1)
        {
            length++;
        }

        return length;
    }

    public static int WriteId(Span<byte> destination, uint id)
    {
        int length = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
        for (int i = 0; i < length; i++)
        {
            destination[i] = (byte)(id >> (8 * (length - 1 - i)));
        }

        return length;
    }

    public static int WriteVint(Span<byte> destination, ulong value, int length)
    {
        ulong marked = value | (1UL << (7 * length));
        for (int i = 0; i < length; i++)
        {
            destination[i] = (byte)(marked >> (8 * (length - 1 - i)));
        }

        return length;
    }

    public static int WriteVint(Span<byte> destination, ulong value) => WriteVint(destination, value, SizeLength(value));

    public static int UIntLength(ulong value)
    {
        int length = 1;
        while (length < 8 && value >> (8 * length) != 0)
        {
            length++;
        }

        return length;
    }

    [DoesNotReturn]
    public static void ThrowFormat(long offset, string message) => throw new MediaFormatException("Matroska", offset, message);

    [DoesNotReturn]
    public static T ThrowFormat<T>(long offset, string message) => throw new MediaFormatException("Matroska", offset, message);
}
