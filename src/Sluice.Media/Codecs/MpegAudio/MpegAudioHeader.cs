namespace Sluice.Media.Codecs.MpegAudio;

/// <summary>The 4-byte header of an MPEG-1/2/2.5 audio frame (ISO 11172-3 2.4.1.3), enough to split and time frames.</summary>
internal readonly record struct MpegAudioHeader(int Layer, int SampleRate, int Channels, int FrameLength, int SamplesPerFrame)
{
    private static readonly int[] V1L1 = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
    private static readonly int[] V1L2 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
    private static readonly int[] V1L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    private static readonly int[] V2L1 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
    private static readonly int[] V2L23 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

    /// <summary>False when there is no sync, a reserved value, or the free format (bitrate index 0).</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out MpegAudioHeader header)
    {
        header = default;
        int samples = SamplesIn(data, out int sampleRate);
        int bitrateIndex = samples == 0 ? 0 : data[2] >> 4;
        if (bitrateIndex is 0 or 15)
        {
            return false;
        }

        int layer = 4 - ((data[1] >> 1) & 3);
        bool v1 = ((data[1] >> 3) & 3) == 3;
        int kbps = (v1, layer) switch
        {
            (true, 1) => V1L1[bitrateIndex],
            (true, 2) => V1L2[bitrateIndex],
            (true, _) => V1L3[bitrateIndex],
            (false, 1) => V2L1[bitrateIndex],
            _ => V2L23[bitrateIndex],
        };
        int padding = (data[2] >> 1) & 1;
        int length = layer == 1
            ? (12 * kbps * 1000 / sampleRate + padding) * 4
            : samples / 8 * kbps * 1000 / sampleRate + padding;
        int channels = (data[3] >> 6) == 3 ? 1 : 2;
        header = new MpegAudioHeader(layer, sampleRate, channels, length, samples);
        return length >= 4;
    }

    /// <summary>
    /// Samples in the frame (384, 1152 or 576) and its sampling rate, from the header's sync, version, layer and
    /// sampling rate fields alone (the bitrate is not read, so the free format counts); 0 when those are not valid.
    /// </summary>
    public static int SamplesIn(ReadOnlySpan<byte> frame, out int sampleRate)
    {
        sampleRate = 0;
        if (frame.Length < 4 || frame[0] != 0xFF || (frame[1] & 0xE0) != 0xE0)
        {
            return 0;
        }

        int version = (frame[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
        int layerBits = (frame[1] >> 1) & 3; // 3: Layer I, 2: Layer II, 1: Layer III, 0: reserved
        int rateIndex = (frame[2] >> 2) & 3;
        if (version == 1 || layerBits == 0 || rateIndex == 3)
        {
            return 0;
        }

        int baseRate = rateIndex switch { 0 => 44100, 1 => 48000, _ => 32000 };
        sampleRate = version switch { 3 => baseRate, 2 => baseRate / 2, _ => baseRate / 4 };
        return layerBits switch
        {
            3 => 384,
            2 => 1152,
            _ => version == 3 ? 1152 : 576,
        };
    }
}
