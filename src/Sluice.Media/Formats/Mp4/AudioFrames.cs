using Sluice.Media.Codecs.Aac;

namespace Sluice.Media.Formats.Mp4;

/// <summary>How long an audio packet plays, from the codec's frame structure.</summary>
internal static class AudioFrames
{
    /// <summary>One AAC frame (1024 samples of the AudioSpecificConfig's core rate) in <paramref name="timescale"/> units; 0 when not AAC.</summary>
    public static long AacFrameDuration(TrackInfo track, int timescale)
    {
        if (track.Codec != CodecId.AAC)
        {
            return 0;
        }

        int coreRate = AudioSpecificConfig.Parse(track.CodecPrivate.Span)?.SampleRate ?? 0;
        if (coreRate <= 0)
        {
            coreRate = track.SampleRate;
        }

        return coreRate > 0 ? 1024L * timescale / coreRate : 0;
    }

    /// <summary>The packet's duration in <paramref name="timescale"/> units, or 0 when the codec or the packet does not tell.</summary>
    public static long Duration(CodecId codec, ReadOnlySpan<byte> payload, int timescale, long aacFrameDuration) => codec switch
    {
        CodecId.AAC => aacFrameDuration,
        CodecId.MP3 => MpegAudioSamples(payload, out int rate) is > 0 and var samples ? samples * (long)timescale / rate : 0,
        CodecId.Opus => OpusSamples(payload) * (long)timescale / 48000,
        _ => 0,
    };

    /// <summary>Samples in an MPEG audio frame (ISO 11172-3 / 13818-3 header), with its sampling rate; 0 when the header is not valid.</summary>
    public static int MpegAudioSamples(ReadOnlySpan<byte> frame, out int sampleRate)
    {
        sampleRate = 0;
        if (frame.Length < 4 || frame[0] != 0xFF || (frame[1] & 0xE0) != 0xE0)
        {
            return 0;
        }

        int version = (frame[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
        int layer = (frame[1] >> 1) & 3; // 3: Layer I, 2: Layer II, 1: Layer III
        int rateIndex = (frame[2] >> 2) & 3;
        if (version == 1 || layer == 0 || rateIndex == 3)
        {
            return 0;
        }

        int baseRate = rateIndex switch { 0 => 44100, 1 => 48000, _ => 32000 };
        sampleRate = version switch { 3 => baseRate, 2 => baseRate / 2, _ => baseRate / 4 };
        return layer switch
        {
            3 => 384,
            2 => 1152,
            _ => version == 3 ? 1152 : 576,
        };
    }

    /// <summary>Samples at 48 kHz in an Opus packet, from its TOC byte (RFC 6716 3.1); 0 when it is damaged.</summary>
    public static int OpusSamples(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty)
        {
            return 0;
        }

        int config = packet[0] >> 3;
        int frameSamples = config switch
        {
            < 12 => (config & 3) switch { 0 => 480, 1 => 960, 2 => 1920, _ => 2880 }, // SILK: 10, 20, 40, 60 ms
            < 16 => (config & 1) == 0 ? 480 : 960, // Hybrid: 10, 20 ms
            _ => (config & 3) switch { 0 => 120, 1 => 240, 2 => 480, _ => 960 }, // CELT: 2.5, 5, 10, 20 ms
        };
        int frames = (packet[0] & 3) switch
        {
            0 => 1,
            1 or 2 => 2,
            _ => packet.Length >= 2 ? packet[1] & 0x3F : 0,
        };
        return frames * frameSamples;
    }
}
