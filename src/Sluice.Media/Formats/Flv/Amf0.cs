using System.Buffers.Binary;
using System.Text;

namespace Sluice.Media.Formats.Flv;

/// <summary>What an onMetaData script tag says about the streams (0 or NaN where it says nothing).</summary>
public sealed record FlvMetadata
{
    public int Width { get; init; }
    public int Height { get; init; }
    public double FrameRate { get; init; }

    /// <summary>videocodecid: a legacy CodecID (7 = AVC) or, in Enhanced RTMP, a FourCC as a number; NaN when absent.</summary>
    public double VideoCodecId { get; init; } = double.NaN;

    /// <summary>audiocodecid: a SoundFormat (10 = AAC, 2 = MP3); NaN when absent.</summary>
    public double AudioCodecId { get; init; } = double.NaN;

    public int AudioSampleRate { get; init; }
    public bool? Stereo { get; init; }
}

/// <summary>
/// The AMF0 values of FLV script data (Action Message Format AMF0 specification): a reader for onMetaData and a
/// writer for the one Sluice sends.
/// </summary>
internal static class Amf0
{
    public const byte Number = 0x00;
    public const byte Boolean = 0x01;
    public const byte String = 0x02;
    public const byte Object = 0x03;
    public const byte MovieClip = 0x04;
    public const byte Null = 0x05;
    public const byte Undefined = 0x06;
    public const byte Reference = 0x07;
    public const byte EcmaArray = 0x08;
    public const byte ObjectEnd = 0x09;
    public const byte StrictArray = 0x0A;
    public const byte Date = 0x0B;
    public const byte LongString = 0x0C;

    private const int MaxDepth = 16;

    /// <summary>
    /// Reads an onMetaData script tag body ("onMetaData", or "@setDataFrame" then "onMetaData", followed by an object
    /// or ECMA array). Returns null when the tag is other script data; throws <see cref="FormatException"/> when it is
    /// damaged.
    /// </summary>
    public static FlvMetadata? ReadMetadata(ReadOnlySpan<byte> data)
    {
        int at = 0;
        string? name = ReadStringValue(data, ref at);
        if (name == "@setDataFrame")
        {
            name = ReadStringValue(data, ref at);
        }

        if (name != "onMetaData")
        {
            return null;
        }

        var metadata = new FlvMetadata();
        Need(data, at, 1);
        byte marker = data[at++];
        if (marker == EcmaArray)
        {
            Need(data, at, 4);
            at += 4; // the count is a hint; the end marker ends the array
        }
        else if (marker != Object)
        {
            throw new FormatException($"onMetaData is followed by AMF0 type {marker}, not an object or ECMA array");
        }

        while (true)
        {
            string key = ReadKey(data, ref at, out bool end);
            if (end)
            {
                return metadata;
            }

            Need(data, at, 1);
            switch (data[at])
            {
                case Number:
                {
                    Need(data, at + 1, 8);
                    double value = BinaryPrimitives.ReadDoubleBigEndian(data[(at + 1)..]);
                    metadata = Apply(metadata, key, value);
                    at += 9;
                    break;
                }

                case Boolean when key == "stereo":
                    Need(data, at + 1, 1);
                    metadata = metadata with { Stereo = data[at + 1] != 0 };
                    at += 2;
                    break;

                default:
                    Skip(data, ref at, 0);
                    break;
            }
        }
    }

    private static FlvMetadata Apply(FlvMetadata metadata, string key, double value)
    {
        static int ToInt(double v) => double.IsFinite(v) && v > 0 && v < 1 << 20 ? (int)v : 0;

        return key switch
        {
            "width" => metadata with { Width = ToInt(value) },
            "height" => metadata with { Height = ToInt(value) },
            "framerate" => metadata with { FrameRate = double.IsFinite(value) && value > 0 && value < 1000 ? value : 0 },
            "videocodecid" => metadata with { VideoCodecId = value },
            "audiocodecid" => metadata with { AudioCodecId = value },
            "audiosamplerate" => metadata with { AudioSampleRate = ToInt(value) },
            _ => metadata,
        };
    }

    private static string? ReadStringValue(ReadOnlySpan<byte> data, ref int at)
    {
        Need(data, at, 1);
        if (data[at] != String)
        {
            return null;
        }

        at++;
        Need(data, at, 2);
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
        Need(data, at + 2, length);
        string value = Encoding.UTF8.GetString(data.Slice(at + 2, length));
        at += 2 + length;
        return value;
    }

    /// <summary>A property name (UTF-8 with a 16-bit length); <paramref name="end"/> at the empty name and end marker.</summary>
    private static string ReadKey(ReadOnlySpan<byte> data, ref int at, out bool end)
    {
        Need(data, at, 2);
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
        if (length == 0 && at + 2 < data.Length && data[at + 2] == ObjectEnd)
        {
            at += 3;
            end = true;
            return "";
        }

        if (length == 0 && at + 2 >= data.Length)
        {
            // Some writers end the last object without its end marker.
            at += 2;
            end = true;
            return "";
        }

        Need(data, at + 2, length);
        end = false;
        string key = Encoding.UTF8.GetString(data.Slice(at + 2, length));
        at += 2 + length;
        return key;
    }

    private static void Skip(ReadOnlySpan<byte> data, ref int at, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"AMF0 values nested more than {MaxDepth} deep");
        }

        Need(data, at, 1);
        byte marker = data[at++];
        switch (marker)
        {
            case Number:
                Need(data, at, 8);
                at += 8;
                break;
            case Boolean:
                Need(data, at, 1);
                at += 1;
                break;
            case String:
                Need(data, at, 2);
                at += 2 + BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
                break;
            case LongString:
                Need(data, at, 4);
                at = checked(at + 4 + (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data[at..]), int.MaxValue / 2));
                break;
            case Null:
            case Undefined:
                break;
            case Reference:
                Need(data, at, 2);
                at += 2;
                break;
            case Date:
                Need(data, at, 10);
                at += 10;
                break;
            case EcmaArray:
            case Object:
                if (marker == EcmaArray)
                {
                    Need(data, at, 4);
                    at += 4;
                }

                while (true)
                {
                    ReadKey(data, ref at, out bool end);
                    if (end)
                    {
                        break;
                    }

                    Skip(data, ref at, depth + 1);
                }

                break;
            case StrictArray:
            {
                Need(data, at, 4);
                uint count = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
                at += 4;
                for (uint i = 0; i < count; i++)
                {
                    Skip(data, ref at, depth + 1);
                }

                break;
            }

            default:
                throw new FormatException($"unsupported AMF0 type {marker}");
        }

        if (at > data.Length)
        {
            throw new FormatException("an AMF0 value runs past the end of the script data");
        }
    }

    private static void Need(ReadOnlySpan<byte> data, int at, int count)
    {
        if (at < 0 || count < 0 || data.Length - at < count)
        {
            throw new FormatException("an AMF0 value runs past the end of the script data");
        }
    }
}

/// <summary>Writes the AMF0 of an onMetaData script tag. For headers only.</summary>
internal sealed class Amf0Writer
{
    private readonly MemoryStream _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    public Amf0Writer String(string value)
    {
        _bytes.WriteByte(Amf0.String);
        return Utf8(value);
    }

    public Amf0Writer EcmaArray(int count)
    {
        _bytes.WriteByte(Amf0.EcmaArray);
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(n, (uint)count);
        _bytes.Write(n);
        return this;
    }

    public Amf0Writer Property(string name, double value)
    {
        Utf8(name);
        _bytes.WriteByte(Amf0.Number);
        Span<byte> v = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(v, value);
        _bytes.Write(v);
        return this;
    }

    public Amf0Writer Property(string name, bool value)
    {
        Utf8(name);
        _bytes.WriteByte(Amf0.Boolean);
        _bytes.WriteByte(value ? (byte)1 : (byte)0);
        return this;
    }

    public Amf0Writer Property(string name, string value)
    {
        Utf8(name);
        return String(value);
    }

    public Amf0Writer End()
    {
        _bytes.Write([0, 0, Amf0.ObjectEnd]);
        return this;
    }

    private Amf0Writer Utf8(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> n = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(n, (ushort)bytes.Length);
        _bytes.Write(n);
        _bytes.Write(bytes);
        return this;
    }
}
