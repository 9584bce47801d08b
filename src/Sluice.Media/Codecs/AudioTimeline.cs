using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.MpegAudio;
using Sluice.Media.Codecs.Opus;

namespace Sluice.Media.Codecs;

/// <summary>
/// Rebuilds an audio track's times from its sample count, for containers that round times to the millisecond
/// (Matroska at its usual scale, FLV, RTMP): an AAC frame of 1024 samples at 48 kHz lasts 21.333 ms, which such a
/// container writes as 21 or 22 ms, and an output in the audio's own timescale would show 1008 and 1056 where every
/// frame is 1024. The timeline counts samples from the first packet's time (snapped to the sample grid), so that each
/// time is <c>anchor + samples so far</c> exactly; the source's times are only compared with it:
/// <list type="bullet">
/// <item>a source more than half a frame (or more than the container's precision) away is a real discontinuity: the
/// timeline is anchored anew there, and the gap or the overlap is kept;</item>
/// <item>a source that drifts slowly against its own sample count (an encoder's audio clock against its timestamps)
/// is followed one sample at a time once the smoothed difference exceeds the container's precision, so no step is
/// larger than one sample.</item>
/// </list>
/// Times stay on the 90 kHz <see cref="MediaTime"/> clock, each the nearest tick to its sample position: converted to
/// the sample rate (rounded to nearest) they give back the exact sample positions for rates up to 90 kHz.
/// </summary>
public sealed class AudioTimeline
{
    private const double Smoothing = 1.0 / 32;

    private readonly int _rate;
    private readonly double _precision; // the container's time resolution, in samples
    private long _position = long.MinValue; // the next packet's position in samples (at _rate) since time 0
    private double _offset;                 // smoothed source time minus position, in samples

    /// <param name="sampleRate">The rate the frame sizes count in (AAC: the core rate of its AudioSpecificConfig).</param>
    /// <param name="precisionTicks">The container's time resolution in 90 kHz ticks (90 for milliseconds).</param>
    public AudioTimeline(int sampleRate, long precisionTicks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        _rate = sampleRate;
        _precision = Math.Max(precisionTicks, 1) * (double)sampleRate / MediaTime.TicksPerSecond;
    }

    public int SampleRate => _rate;

    /// <summary>How many times the timeline was anchored anew at a discontinuity of the source (the first anchor not counted).</summary>
    public long Discontinuities { get; private set; }

    /// <summary>How many one-sample steps it took to follow a drifting source.</summary>
    public long DriftSteps { get; private set; }

    /// <summary>
    /// The exact time of a packet of <paramref name="samples"/> samples that the source times at
    /// <paramref name="sourceTicks"/>, and its exact duration; a packet whose sample count is unknown (0) keeps its own
    /// time and anchors the timeline after it anew.
    /// </summary>
    public (long Ticks, long Duration) Next(long sourceTicks, int samples)
    {
        double source = sourceTicks * (double)_rate / MediaTime.TicksPerSecond;
        if (samples <= 0)
        {
            _position = long.MinValue;
            return (sourceTicks, 0);
        }

        if (_position == long.MinValue)
        {
            Anchor(source);
        }
        else
        {
            double deviation = source - _position;
            if (Math.Abs(deviation) > Math.Max(samples / 2.0, _precision * 1.5))
            {
                Anchor(source);
                Discontinuities++;
            }
            else
            {
                _offset += (deviation - _offset) * Smoothing;
                if (Math.Abs(_offset) > _precision)
                {
                    int step = Math.Sign(_offset);
                    _position += step;
                    _offset -= step;
                    DriftSteps++;
                }
            }
        }

        long ticks = ToTicks(_position);
        _position += samples;
        return (ticks, ToTicks(_position) - ticks);
    }

    private void Anchor(double source)
    {
        _position = (long)Math.Round(source, MidpointRounding.AwayFromZero);
        _offset = 0;
    }

    private long ToTicks(long position) =>
        (long)Math.Round(position * (double)MediaTime.TicksPerSecond / _rate, MidpointRounding.AwayFromZero);

    /// <summary>
    /// The samples in one packet of <paramref name="track"/> and the rate they count in, for the codecs whose packets
    /// say how long they play: AAC (1024 at the AudioSpecificConfig's core rate; HE-AAC's 2048 output samples are 1024
    /// at its core rate), MP1/2/3 (the frame header's count and rate), AC-3 (1536), Opus (the TOC, at 48 kHz). 0 for
    /// the others (Vorbis, FLAC, PCM) and for a packet that does not parse.
    /// </summary>
    public static int SamplesOf(TrackInfo track, ReadOnlySpan<byte> payload, out int rate)
    {
        ArgumentNullException.ThrowIfNull(track);
        rate = 0;
        switch (track.Codec)
        {
            case CodecId.AAC:
                rate = RateOfAac(track);
                return rate > 0 ? 1024 : 0;
            case CodecId.MP3:
            case CodecId.MP2:
                return MpegAudioHeader.SamplesIn(payload, out rate);
            case CodecId.AC3:
                rate = track.SampleRate;
                return rate > 0 ? 1536 : 0;
            case CodecId.Opus:
                rate = 48000;
                return OpusToc.ValidSamples(payload);
            default:
                return 0;
        }
    }

    /// <summary>The core rate an AAC track's 1024-sample frames count in (its AudioSpecificConfig's, else the track's).</summary>
    public static int RateOfAac(TrackInfo track)
    {
        ArgumentNullException.ThrowIfNull(track);
        int rate = AudioSpecificConfig.Parse(track.CodecPrivate.Span)?.SampleRate ?? 0;
        return rate > 0 ? rate : track.SampleRate;
    }
}
