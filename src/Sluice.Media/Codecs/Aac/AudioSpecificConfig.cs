namespace Sluice.Media.Codecs.Aac;

/// <summary>
/// The AudioSpecificConfig of ISO 14496-3 (1.6.2.1), as AAC's codec private data: object type, sampling rate,
/// channel configuration, and for explicitly signalled SBR / PS (HE-AAC) the extension rate. Only the fields
/// before the object type's own config are read; GASpecificConfig is written as three zero bits.
/// </summary>
public sealed record AudioSpecificConfig(int ObjectType, int SampleRate, int ChannelConfiguration)
{
    public const int AacMain = 1;
    public const int AacLc = 2;
    public const int Sbr = 5;
    public const int Ps = 29;

    /// <summary>The output rate when SBR is signalled explicitly (object type 5 or 29), else 0.</summary>
    public int ExtensionSampleRate { get; init; }

    /// <summary>The underlying object type when SBR/PS is signalled explicitly (usually 2), else 0.</summary>
    public int CoreObjectType { get; init; }

    /// <summary>
    /// Channels from the channel configuration (0 when the config defers to a program config element).
    /// Explicit PS makes a mono core stereo.
    /// </summary>
    public int Channels => ObjectType == Ps && ChannelConfiguration == 1 ? 2 : AacSampleRates.ChannelsOf(ChannelConfiguration);

    /// <summary>The rate a decoder outputs: the SBR rate when signalled, else the core rate.</summary>
    public int OutputSampleRate => ExtensionSampleRate > 0 ? ExtensionSampleRate : SampleRate;

    /// <summary>Parses an AudioSpecificConfig; null when it is shorter than its fields or names a reserved rate.</summary>
    public static AudioSpecificConfig? Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
        {
            return null;
        }

        var r = new BitReader(data);
        int objectType = ReadObjectType(ref r);
        int rate = ReadRate(ref r);
        int channels = (int)r.ReadBits(4);
        int extensionRate = 0;
        int core = 0;
        if (objectType is Sbr or Ps)
        {
            extensionRate = ReadRate(ref r);
            core = ReadObjectType(ref r);
        }

        if (r.Overrun || rate <= 0 || extensionRate < 0 || objectType == 0)
        {
            return null;
        }

        return new AudioSpecificConfig(objectType, rate, channels) { ExtensionSampleRate = extensionRate, CoreObjectType = core };
    }

    /// <summary>The config for an object type, a rate and a channel configuration (plain, no SBR signalling).</summary>
    public byte[] ToBytes()
    {
        if (ObjectType is < 1 or > 30 || (uint)ChannelConfiguration > 15 || SampleRate <= 0 || SampleRate > 0xFFFFFF)
        {
            throw new InvalidOperationException($"cannot write an AudioSpecificConfig for object type {ObjectType}, {SampleRate} Hz, channel configuration {ChannelConfiguration}");
        }

        int index = AacSampleRates.IndexOf(SampleRate);
        if (index >= 0)
        {
            // 5 bits object type, 4 bits rate index, 4 bits channels, 3 zero bits of GASpecificConfig.
            int bits = (ObjectType << 11) | (index << 7) | (ChannelConfiguration << 3);
            return [(byte)(bits >> 8), (byte)bits];
        }

        // Explicit rate: 5 + 4 (0xF) + 24 + 4 + 3 = 40 bits.
        ulong value = ((ulong)ObjectType << 35) | (0xFUL << 31) | ((ulong)SampleRate << 7) | ((ulong)ChannelConfiguration << 3);
        return [(byte)(value >> 32), (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
    }

    /// <summary>Channels and output sample rate of an AudioSpecificConfig, or (0, 0) when it is damaged.</summary>
    public static (int SampleRate, int Channels) ReadRateAndChannels(ReadOnlySpan<byte> data) =>
        Parse(data) is { } asc ? (asc.OutputSampleRate, asc.Channels) : (0, 0);

    private static int ReadObjectType(ref BitReader r)
    {
        int type = (int)r.ReadBits(5);
        return type == 31 ? 32 + (int)r.ReadBits(6) : type;
    }

    private static int ReadRate(ref BitReader r)
    {
        int index = (int)r.ReadBits(4);
        return index == 15 ? (int)r.ReadBits(24) : index <= 12 ? AacSampleRates.FromIndex(index) : -1;
    }
}
