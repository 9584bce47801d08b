using System.Buffers.Binary;
using System.Text;
using Sluice.Media.Formats.Flv;

namespace Sluice.Media.Formats.Rtmp;

/// <summary>
/// An AMF0 command message (connect, createStream, publish, play, ...): its name, transaction id, command object
/// and further arguments. Values are read as string, double, bool, null, a dictionary (objects and ECMA arrays) or
/// an array; other AMF0 types are refused.
/// </summary>
public sealed class RtmpCommand
{
    private const int MaxDepth = 8;

    private RtmpCommand(string name, double transactionId, IReadOnlyDictionary<string, object?>? commandObject, IReadOnlyList<object?> arguments)
    {
        Name = name;
        TransactionId = transactionId;
        CommandObject = commandObject;
        Arguments = arguments;
    }

    public string Name { get; }

    public double TransactionId { get; }

    /// <summary>The command object (connect's app, tcUrl, ...), or null when the command sends AMF0 null.</summary>
    public IReadOnlyDictionary<string, object?>? CommandObject { get; }

    /// <summary>The values after the command object (publish's name and type, play's name, ...).</summary>
    public IReadOnlyList<object?> Arguments { get; }

    /// <summary>The argument at <paramref name="index"/> when it is a string, else null.</summary>
    public string? StringArgument(int index) => index < Arguments.Count ? Arguments[index] as string : null;

    /// <summary>A string property of the command object, or null.</summary>
    public string? Property(string name) => CommandObject?.GetValueOrDefault(name) as string;

    /// <summary>Reads a command; throws <see cref="FormatException"/> saying what is wrong with it.</summary>
    public static RtmpCommand Parse(ReadOnlySpan<byte> payload)
    {
        int at = 0;
        if (ReadValue(payload, ref at, 0) is not string name)
        {
            throw new FormatException("a command message does not begin with its name (an AMF0 string)");
        }

        double transaction = at < payload.Length && ReadValue(payload, ref at, 0) is double id ? id : 0;
        IReadOnlyDictionary<string, object?>? commandObject = null;
        var arguments = new List<object?>();
        if (at < payload.Length)
        {
            commandObject = ReadValue(payload, ref at, 0) as IReadOnlyDictionary<string, object?>;
        }

        while (at < payload.Length && arguments.Count < 16)
        {
            arguments.Add(ReadValue(payload, ref at, 0));
        }

        return new RtmpCommand(name, transaction, commandObject, arguments);
    }

    private static object? ReadValue(ReadOnlySpan<byte> data, ref int at, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new FormatException($"AMF0 values nested more than {MaxDepth} deep");
        }

        Need(data, at, 1);
        byte marker = data[at++];
        switch (marker)
        {
            case Amf0.Number:
                Need(data, at, 8);
                at += 8;
                return BinaryPrimitives.ReadDoubleBigEndian(data[(at - 8)..]);
            case Amf0.Boolean:
                Need(data, at, 1);
                return data[at++] != 0;
            case Amf0.String:
                return ReadUtf8(data, ref at, 2);
            case Amf0.LongString:
                return ReadUtf8(data, ref at, 4);
            case Amf0.Null:
            case Amf0.Undefined:
                return null;
            case Amf0.Object:
            case Amf0.EcmaArray:
            {
                if (marker == Amf0.EcmaArray)
                {
                    Need(data, at, 4);
                    at += 4;
                }

                var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
                while (true)
                {
                    Need(data, at, 2);
                    if (data[at] == 0 && data[at + 1] == 0 && at + 2 < data.Length && data[at + 2] == Amf0.ObjectEnd)
                    {
                        at += 3;
                        return properties;
                    }

                    string key = ReadUtf8(data, ref at, 2);
                    properties[key] = ReadValue(data, ref at, depth + 1);
                    if (properties.Count > 256)
                    {
                        throw new FormatException("an AMF0 object with more than 256 properties");
                    }
                }
            }

            case Amf0.StrictArray:
            {
                Need(data, at, 4);
                uint count = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
                at += 4;
                if (count > 256)
                {
                    throw new FormatException($"an AMF0 array of {count} values");
                }

                var values = new object?[count];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = ReadValue(data, ref at, depth + 1);
                }

                return values;
            }

            default:
                throw new FormatException($"AMF0 type {marker} is not read in commands");
        }
    }

    private static string ReadUtf8(ReadOnlySpan<byte> data, ref int at, int lengthSize)
    {
        Need(data, at, lengthSize);
        long length = lengthSize == 2 ? BinaryPrimitives.ReadUInt16BigEndian(data[at..]) : BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
        at += lengthSize;
        Need(data, at, length);
        string value = Encoding.UTF8.GetString(data.Slice(at, (int)length));
        at += (int)length;
        return value;
    }

    private static void Need(ReadOnlySpan<byte> data, int at, long count)
    {
        if (data.Length - at < count)
        {
            throw new FormatException("an AMF0 value runs past the end of the command message");
        }
    }

    /// <summary>The payload of a command: name, transaction id, then values (string, double, bool, null, or a dictionary as an object).</summary>
    public static byte[] Build(string name, double transactionId, params ReadOnlySpan<object?> values)
    {
        var output = new MemoryStream();
        WriteValue(output, name);
        WriteValue(output, transactionId);
        foreach (var value in values)
        {
            WriteValue(output, value);
        }

        return output.ToArray();
    }

    /// <summary>An onStatus command (transaction 0, null command object) with level, code and description.</summary>
    public static byte[] OnStatus(string level, string code, string description) =>
        Build("onStatus", 0, null, new Dictionary<string, object?> { ["level"] = level, ["code"] = code, ["description"] = description });

    private static void WriteValue(MemoryStream output, object? value)
    {
        Span<byte> number = stackalloc byte[8];
        switch (value)
        {
            case null:
                output.WriteByte(Amf0.Null);
                break;
            case string text:
                output.WriteByte(Amf0.String);
                WriteUtf8(output, text);
                break;
            case bool flag:
                output.WriteByte(Amf0.Boolean);
                output.WriteByte(flag ? (byte)1 : (byte)0);
                break;
            case double or int:
                output.WriteByte(Amf0.Number);
                BinaryPrimitives.WriteDoubleBigEndian(number, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                output.Write(number);
                break;
            case IEnumerable<KeyValuePair<string, object?>> properties:
                output.WriteByte(Amf0.Object);
                foreach (var (key, item) in properties)
                {
                    WriteUtf8(output, key);
                    WriteValue(output, item);
                }

                output.Write([0, 0, Amf0.ObjectEnd]);
                break;
            default:
                throw new ArgumentException($"cannot write a {value.GetType().Name} as AMF0", nameof(value));
        }
    }

    private static void WriteUtf8(MemoryStream output, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)bytes.Length);
        output.Write(length);
        output.Write(bytes);
    }
}
