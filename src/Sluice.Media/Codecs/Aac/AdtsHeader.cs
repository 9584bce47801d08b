namespace Sluice.Media.Codecs.Aac;

/// <summary>
/// The ADTS frame header of ISO 13818-7 / 14496-3 (1.A.2.2): a 12-bit syncword 0xFFF, then the fields below;
/// 7 bytes, or 9 when a CRC follows (protection_absent 0).
/// </summary>
public readonly record struct AdtsHeader
{
    public const int Size = 7;
    public const int SizeWithCrc = 9;

    /// <summary>The largest frame_length (13 bits).</summary>
    public const int MaxFrameLength = 8191;

    /// <summary>MPEG-4 audio object type (profile + 1): 1 Main, 2 LC, 3 SSR, 4 LTP.</summary>
    public int ObjectType { get; init; }

    public int SampleRateIndex { get; init; }
    public int ChannelConfiguration { get; init; }

    /// <summary>The whole frame: header, CRC and raw data blocks.</summary>
    public int FrameLength { get; init; }

    public bool HasCrc { get; init; }

    /// <summary>True for MPEG-2 (ID 1), false for MPEG-4 (ID 0).</summary>
    public bool IsMpeg2 { get; init; }

    public int BufferFullness { get; init; }

    /// <summary>number_of_raw_data_blocks_in_frame + 1.</summary>
    public int RawDataBlocks { get; init; }

    public int HeaderLength => HasCrc ? SizeWithCrc : Size;

    public int PayloadLength => FrameLength - HeaderLength;

    public int SampleRate => AacSampleRates.FromIndex(SampleRateIndex);

    public int Channels => AacSampleRates.ChannelsOf(ChannelConfiguration);

    /// <summary>
    /// Reads a header at the start of <paramref name="data"/> (which needs 7 bytes). False when there is no
    /// syncword, the layer is not 0, or a field is impossible (reserved rate index, frame shorter than its header).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out AdtsHeader header)
    {
        header = default;
        if (data.Length < Size || data[0] != 0xFF || (data[1] & 0xF6) != 0xF0)
        {
            return false;
        }

        bool hasCrc = (data[1] & 1) == 0;
        int rateIndex = (data[2] >> 2) & 0xF;
        int frameLength = ((data[3] & 3) << 11) | (data[4] << 3) | (data[5] >> 5);
        if (rateIndex > 12 || frameLength < (hasCrc ? SizeWithCrc : Size))
        {
            return false;
        }

        header = new AdtsHeader
        {
            IsMpeg2 = (data[1] & 0x08) != 0,
            HasCrc = hasCrc,
            ObjectType = (data[2] >> 6) + 1,
            SampleRateIndex = rateIndex,
            ChannelConfiguration = ((data[2] & 1) << 2) | (data[3] >> 6),
            FrameLength = frameLength,
            BufferFullness = ((data[5] & 0x1F) << 6) | (data[6] >> 2),
            RawDataBlocks = (data[6] & 3) + 1,
        };
        return true;
    }

    /// <summary>
    /// Writes a 7-byte header (no CRC, MPEG-4, buffer fullness 0x7FF "variable rate", one raw data block) for a
    /// frame with <paramref name="payloadLength"/> bytes of raw AAC.
    /// </summary>
    public static void Write(Span<byte> destination, int objectType, int sampleRateIndex, int channelConfiguration, int payloadLength)
    {
        int frameLength = payloadLength + Size;
        if (objectType is < 1 or > 4 || (uint)sampleRateIndex > 12 || (uint)channelConfiguration > 7 || frameLength > MaxFrameLength || payloadLength < 0)
        {
            throw new ArgumentException($"ADTS cannot describe object type {objectType}, rate index {sampleRateIndex}, channel configuration {channelConfiguration}, {payloadLength} bytes of payload");
        }

        const int fullness = 0x7FF;
        destination[0] = 0xFF;
        destination[1] = 0xF1; // MPEG-4, layer 0, no CRC
        destination[2] = (byte)(((objectType - 1) << 6) | (sampleRateIndex << 2) | (channelConfiguration >> 2));
        destination[3] = (byte)(((channelConfiguration & 3) << 6) | (frameLength >> 11));
        destination[4] = (byte)(frameLength >> 3);
        destination[5] = (byte)(((frameLength & 7) << 5) | (fullness >> 6));
        destination[6] = (byte)((fullness & 0x3F) << 2);
    }

    /// <summary>Writes this header's fields (without CRC) for <paramref name="payloadLength"/> bytes of payload.</summary>
    public void Write(Span<byte> destination, int payloadLength) =>
        Write(destination, ObjectType, SampleRateIndex, ChannelConfiguration, payloadLength);

    /// <summary>The AudioSpecificConfig describing the frames of this header.</summary>
    public byte[] ToAudioSpecificConfig() =>
        new AudioSpecificConfig(ObjectType, SampleRate, ChannelConfiguration).ToBytes();
}
