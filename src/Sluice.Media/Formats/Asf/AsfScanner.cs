using System.Buffers.Binary;

namespace Sluice.Media.Formats.Asf;

/// <summary>
/// Cuts an ASF stream that another muxer writes (ffmpeg's <c>asf</c>) into its header, the Header Object and the Data
/// Object's 50-byte start, and one unit a data packet: every packet has the size the File Properties Object gives
/// (minimum = maximum data packet size, as a broadcast file has). A packet is a join point when the first payload in
/// it that starts a video media object (offset into the object 0) is a key frame; in a stream without video, when its
/// first payload starts an object. Payloads before it that end an earlier object are dropped by the reader.
/// </summary>
/// <remarks>Layouts: ASF specification 1.20.03, 3.1 (Header Object), 3.2 (File Properties), 3.3 (Stream Properties), 5.2 (data packets).</remarks>
public sealed class AsfScanner : JoinPointScanner
{
    private static readonly Guid HeaderObject = new("75B22630-668E-11CF-A6D9-00AA0062CE6C");
    private static readonly Guid DataObject = new("75B22636-668E-11CF-A6D9-00AA0062CE6C");
    private static readonly Guid FileProperties = new("8CABDCA1-A947-11CF-8EE4-00C00C205365");
    private static readonly Guid StreamProperties = new("B7DC0791-A9B7-11CF-8EE6-00C00C205365");
    private static readonly Guid VideoMedia = new("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B");

    /// <summary>GUID, size, file id, total data packets, reserved: what precedes the first data packet.</summary>
    private const int DataObjectStart = 50;

    private readonly HashSet<int> _videoStreams = [];
    private int _packetSize;
    private bool _trailer;

    protected override string Name => "ASF";

    /// <summary>The fixed size of a data packet, from the header; 0 before it is read.</summary>
    public int PacketSize => _packetSize;

    protected override int ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < 30)
        {
            return 0;
        }

        if (new Guid(data[..16]) != HeaderObject)
        {
            throw Damaged(0, "no ASF Header Object at the start");
        }

        long size = BinaryPrimitives.ReadInt64LittleEndian(data[16..]);
        if (size < 30 || size > MaxUnitBytes)
        {
            throw Damaged(16, $"Header Object size {size} is not usable");
        }

        if (data.Length < size + DataObjectStart)
        {
            return 0;
        }

        for (int at = 30; at + 24 <= size;)
        {
            var id = new Guid(data.Slice(at, 16));
            long length = BinaryPrimitives.ReadInt64LittleEndian(data[(at + 16)..]);
            if (length < 24 || at + length > size)
            {
                throw Damaged(at, $"header object of size {length} does not fit the Header Object");
            }

            var body = data.Slice(at, (int)length);
            if (id == FileProperties && body.Length >= 100)
            {
                int min = BinaryPrimitives.ReadInt32LittleEndian(body[92..]);
                int max = BinaryPrimitives.ReadInt32LittleEndian(body[96..]);
                if (min != max || min <= 0)
                {
                    throw Damaged(at + 92, $"data packets of {min} to {max} bytes: a live ASF stream has one fixed packet size");
                }

                _packetSize = min;
            }
            else if (id == StreamProperties && body.Length >= 74 && new Guid(body.Slice(24, 16)) == VideoMedia)
            {
                _videoStreams.Add(BinaryPrimitives.ReadUInt16LittleEndian(body[72..]) & 0x7F);
            }

            at += (int)length;
        }

        if (_packetSize == 0)
        {
            throw Damaged(0, "the header has no File Properties Object, so the data packet size is unknown");
        }

        if (new Guid(data.Slice((int)size, 16)) != DataObject)
        {
            throw Damaged((int)size, "no Data Object after the Header Object");
        }

        SetHeader(data[..(int)(size + DataObjectStart)]);
        return (int)size + DataObjectStart;
    }

    protected override int ReadUnit(ReadOnlySpan<byte> data, List<ScannedUnit> units)
    {
        // After the last packet come the index objects (a GUID, whose first byte is no packet's error correction
        // flags): they wait for the end of the stream (Complete hands them out).
        _trailer |= data[0] != 0x82 && (data[0] & 0x80) != 0;
        if (_trailer)
        {
            return 0;
        }

        if (data.Length < _packetSize)
        {
            return 0;
        }

        var packet = data[.._packetSize];
        bool joinPoint;
        long sendTime;
        try
        {
            joinPoint = IsJoinPoint(packet, out sendTime);
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            throw Damaged(0, "a data packet whose payloads do not fit in it");
        }

        units.Add(new ScannedUnit(packet.ToArray(), joinPoint, MediaTime.FromMilliseconds(sendTime)));
        return _packetSize;
    }

    /// <summary>Whether a viewer may start at the packet, and its send time (5.2.2 payload parsing information: ms, the preroll included).</summary>
    private bool IsJoinPoint(ReadOnlySpan<byte> packet, out long sendTime)
    {
        int at = (packet[0] & 0x80) != 0 ? 1 + (packet[0] & 0x0F) : 0;
        byte lengthFlags = packet[at];
        byte properties = packet[at + 1];
        at += 2;
        int packetLength = Field(packet, ref at, lengthFlags >> 5);
        Field(packet, ref at, lengthFlags >> 1);
        int padding = Field(packet, ref at, lengthFlags >> 3);
        sendTime = BinaryPrimitives.ReadUInt32LittleEndian(packet[at..]);
        at += 6; // send time, duration
        int end = (packetLength > 0 ? Math.Min(packetLength, packet.Length) : packet.Length) - padding;
        int count = 1;
        int payloadLengthType = -1;
        if ((lengthFlags & 1) != 0)
        {
            count = packet[at] & 0x3F;
            payloadLengthType = packet[at] >> 6;
            at++;
        }

        for (int i = 0; i < count && at < end; i++)
        {
            int stream = packet[at] & 0x7F;
            bool key = (packet[at] & 0x80) != 0;
            at++;
            Field(packet, ref at, properties >> 4);
            int offset = Field(packet, ref at, properties >> 2);
            int replicated = Field(packet, ref at, properties);
            at += replicated;
            int length = payloadLengthType >= 0 ? Field(packet, ref at, payloadLengthType) : end - at;
            bool startsObject = offset == 0 || replicated == 1; // replicated length 1: compressed payloads, whole objects
            if (startsObject && (_videoStreams.Count == 0 || _videoStreams.Contains(stream)))
            {
                return key || _videoStreams.Count == 0;
            }

            at += length;
        }

        return false;
    }

    /// <summary>A field whose size is the 2-bit length type in the low bits of <paramref name="type"/>: none, byte, word, dword.</summary>
    private static int Field(ReadOnlySpan<byte> packet, ref int at, int type)
    {
        int value;
        switch (type & 3)
        {
            case 1:
                value = packet[at];
                at += 1;
                break;
            case 2:
                value = BinaryPrimitives.ReadUInt16LittleEndian(packet[at..]);
                at += 2;
                break;
            case 3:
                value = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(packet[at..]), int.MaxValue);
                at += 4;
                break;
            default:
                return 0;
        }

        return value;
    }
}
