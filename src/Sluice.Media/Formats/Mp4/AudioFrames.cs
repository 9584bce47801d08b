using Sluice.Media.Codecs;
using Sluice.Media.Codecs.MpegAudio;
using Sluice.Media.Codecs.Opus;

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

        int coreRate = AudioTimeline.RateOfAac(track);
        return coreRate > 0 ? 1024L * timescale / coreRate : 0;
    }

    /// <summary>The packet's duration in <paramref name="timescale"/> units, or 0 when the codec or the packet does not tell.</summary>
    public static long Duration(CodecId codec, ReadOnlySpan<byte> payload, int timescale, long aacFrameDuration) => codec switch
    {
        CodecId.AAC => aacFrameDuration,
        CodecId.MP3 => MpegAudioHeader.SamplesIn(payload, out int rate) is > 0 and var samples ? samples * (long)timescale / rate : 0,
        CodecId.Opus => OpusToc.Samples(payload) * (long)timescale / 48000,
        _ => 0,
    };
}
