namespace Sluice.Media.Formats.MpegTs;

/// <summary>The 4-byte header of an MPEG-1/2/2.5 audio frame (ISO 11172-3 2.4.1.3), enough to split and time frames.</summary>
internal readonly record struct MpegAudioHeader(int Layer, int SampleRate, int Channels, int FrameLength, int SamplesPerFrame)
{
    private static readonly int[] V1L1 = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
    private static readonly int[] V1L2 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
    private static readonly int[] V1L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    private static readonly int[] V2L1 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
    private static readonly int[] V2L23 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    private static readonly int[] Rates = [44100, 48000, 32000];

    /// <summary>False when there is no sync, a reserved value, or the free format (bitrate index 0).</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out MpegAudioHeader header)
    {
        header = default;
        if (data.Length < 4 || data[0] != 0xFF || (data[1] & 0xE0) != 0xE0)
        {
            return false;
        }

        int version = (data[1] >> 3) & 3; // 0 = 2.5, 2 = 2, 3 = 1
        int layerBits = (data[1] >> 1) & 3;
        int bitrateIndex = data[2] >> 4;
        int rateIndex = (data[2] >> 2) & 3;
        if (version == 1 || layerBits == 0 || bitrateIndex is 0 or 15 || rateIndex == 3)
        {
            return false;
        }

        int layer = 4 - layerBits;
        bool v1 = version == 3;
        int sampleRate = Rates[rateIndex] >> (version == 3 ? 0 : version == 2 ? 1 : 2);
        int kbps = (v1, layer) switch
        {
            (true, 1) => V1L1[bitrateIndex],
            (true, 2) => V1L2[bitrateIndex],
            (true, _) => V1L3[bitrateIndex],
            (false, 1) => V2L1[bitrateIndex],
            _ => V2L23[bitrateIndex],
        };
        int padding = (data[2] >> 1) & 1;
        int samples = layer == 1 ? 384 : layer == 2 || v1 ? 1152 : 576;
        int length = layer == 1
            ? (12 * kbps * 1000 / sampleRate + padding) * 4
            : samples / 8 * kbps * 1000 / sampleRate + padding;
        int channels = (data[3] >> 6) == 3 ? 1 : 2;
        header = new MpegAudioHeader(layer, sampleRate, channels, length, samples);
        return length >= 4;
    }
}
