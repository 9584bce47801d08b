using System.Buffers.Binary;

namespace Sluice.Media.Formats.MpegTs;

/// <summary>
/// Opus in MPEG-TS (the ETSI draft ffmpeg follows): stream_type 0x06 with a registration descriptor "Opus" and an
/// extension descriptor (tag 0x80) giving channel_config_code; each Opus packet in a PES is preceded by a control
/// header: 11 bits 0x3FF, start/end trim and extension flags, 2 reserved bits, then au_size as 0xFF bytes and a
/// final byte below 0xFF, then the optional trims (16 bits each) and extension.
/// </summary>
internal static class OpusInTs
{
    public const byte OpusExtensionTag = 0x80;

    private static readonly byte[][] ChannelMaps =
    [
        [0],
        [0, 1],
        [0, 2, 1],
        [0, 1, 2, 3],
        [0, 4, 1, 2, 3],
        [0, 4, 1, 2, 3, 5],
        [0, 4, 1, 2, 3, 5, 6],
        [0, 6, 1, 2, 3, 4, 5, 7],
    ];

    private static readonly byte[] Streams = [1, 1, 1, 2, 2, 3, 4, 4, 5];
    private static readonly byte[] Coupled = [1, 0, 1, 1, 2, 2, 2, 3, 3];

    /// <summary>
    /// Reads a control header; false when the prefix is wrong or the header or its packet runs past the end.
    /// </summary>
    public static bool TryReadControlHeader(ReadOnlySpan<byte> data, out int headerLength, out int packetLength, out int startTrim)
    {
        headerLength = 0;
        packetLength = 0;
        startTrim = 0;
        if (data.Length < 3 || data[0] != 0x7F || (data[1] & 0xE0) != 0xE0)
        {
            return false;
        }

        bool hasStartTrim = (data[1] & 0x10) != 0;
        bool hasEndTrim = (data[1] & 0x08) != 0;
        bool hasExtension = (data[1] & 0x04) != 0;
        int at = 2;
        int size = 0;
        while (true)
        {
            if (at >= data.Length)
            {
                return false;
            }

            byte b = data[at++];
            size += b;
            if (b != 0xFF)
            {
                break;
            }
        }

        if (hasStartTrim)
        {
            if (data.Length - at < 2)
            {
                return false;
            }

            startTrim = BinaryPrimitives.ReadUInt16BigEndian(data[at..]) & 0x1FFF;
            at += 2;
        }

        if (hasEndTrim)
        {
            at += 2;
        }

        if (hasExtension)
        {
            if (at >= data.Length)
            {
                return false;
            }

            at += 1 + data[at];
        }

        if (at > data.Length || size > data.Length - at)
        {
            return false;
        }

        headerLength = at;
        packetLength = size;
        return true;
    }

    /// <summary>The control header for a packet of <paramref name="size"/> bytes without trims; returns its length.</summary>
    public static int WriteControlHeader(Span<byte> destination, int size)
    {
        destination[0] = 0x7F;
        destination[1] = 0xE0;
        int at = 2;
        int left = size;
        while (left >= 0xFF)
        {
            destination[at++] = 0xFF;
            left -= 0xFF;
        }

        destination[at++] = (byte)left;
        return at;
    }

    public static int ControlHeaderLength(int size) => 3 + size / 0xFF;

    /// <summary>Channels for a channel_config_code, or 0 when Sluice does not map it.</summary>
    public static int ChannelsOf(int code) => code switch
    {
        0 => 2, // dual mono
        >= 1 and <= 8 => code,
        _ => 0,
    };

    /// <summary>The OpusHead (RFC 7845 5.1) for a channel_config_code, the way the stream's descriptor implies it.</summary>
    public static byte[] BuildOpusHead(int code, int preSkip)
    {
        int channels = ChannelsOf(code);
        bool family1 = code > 2;
        bool dualMono = code == 0;
        byte[] head = new byte[19 + (family1 || dualMono ? 2 + channels : 0)];
        "OpusHead"u8.CopyTo(head);
        head[8] = 1;
        head[9] = (byte)channels;
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(10), (ushort)Math.Clamp(preSkip, 0, ushort.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), 48000);
        if (dualMono)
        {
            head[18] = 255;
            head[19] = 2;
            head[20] = 0;
            head[21] = 0;
            head[22] = 1;
        }
        else if (family1)
        {
            head[18] = 1;
            head[19] = Streams[code];
            head[20] = Coupled[code];
            ChannelMaps[code - 1].CopyTo(head, 21);
        }

        return head;
    }

    /// <summary>The channel_config_code for an OpusHead: its channel count for mapping families 0 and 1, else -1.</summary>
    public static int ChannelConfigCode(ReadOnlySpan<byte> opusHead)
    {
        if (opusHead.Length < 19 || !opusHead[..8].SequenceEqual("OpusHead"u8))
        {
            return -1;
        }

        int channels = opusHead[9];
        int family = opusHead[18];
        return (family == 0 && channels is 1 or 2) || (family == 1 && channels is >= 3 and <= 8) ? channels : -1;
    }
}
