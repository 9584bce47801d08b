namespace Sluice.Media.Codecs.Aac;

/// <summary>The sampling frequency table of ISO 14496-3 (1.6.3.4) shared by ADTS and AudioSpecificConfig.</summary>
public static class AacSampleRates
{
    private static readonly int[] Rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    /// <summary>The rate for a samplingFrequencyIndex, or 0 for the reserved and escape values.</summary>
    public static int FromIndex(int index) => (uint)index < (uint)Rates.Length ? Rates[index] : 0;

    /// <summary>The samplingFrequencyIndex of a rate, or -1 when the table does not have it.</summary>
    public static int IndexOf(int sampleRate) => Array.IndexOf(Rates, sampleRate);

    /// <summary>Channels for a channelConfiguration (1..6 as is, 7 is 7.1 = 8 channels), 0 when the config says "in the stream".</summary>
    public static int ChannelsOf(int channelConfiguration) => channelConfiguration switch
    {
        >= 1 and <= 6 => channelConfiguration,
        7 => 8,
        _ => 0,
    };
}
