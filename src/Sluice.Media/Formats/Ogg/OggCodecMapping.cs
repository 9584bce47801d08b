namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// How one codec lives in an Ogg logical bitstream: its header packets (the first goes alone on the stream's
/// beginning-of-stream page, each of the others starts and ends pages of its own) and the granule position a page
/// that ends with a given packet gets.
/// </summary>
internal abstract class OggCodecMapping
{
    protected OggCodecMapping(ReadOnlyMemory<byte>[] headerPackets)
    {
        HeaderPackets = headerPackets;
    }

    public IReadOnlyList<ReadOnlyMemory<byte>> HeaderPackets { get; }

    public abstract bool IsVideo { get; }

    /// <summary>
    /// The granule position of the page that ends with <paramref name="packet"/>, the next packet of this stream;
    /// <paramref name="isKeyframe"/> tells whether a decoder can start at it.
    /// </summary>
    public abstract long GranuleAfter(MediaPacket packet, out bool isKeyframe);

    public static bool CanCarry(CodecId codec) => codec is CodecId.Vorbis or CodecId.Opus or CodecId.Theora;

    /// <summary>The mapping for <paramref name="track"/>; ArgumentException when its codec or headers do not fit Ogg.</summary>
    public static OggCodecMapping Create(TrackInfo track) => track.Codec switch
    {
        CodecId.Vorbis => new VorbisMapping(track),
        CodecId.Opus => new OpusMapping(track),
        CodecId.Theora => new TheoraMapping(track),
        _ => throw new ArgumentException($"track {track.Index}: codec {CodecIds.FfmpegName(track.Codec)} cannot be written to Ogg (Vorbis, Opus and Theora can)"),
    };

    /// <summary><paramref name="ticks"/> (90 kHz) as a count of <paramref name="rate"/> Hz units, rounded to nearest.</summary>
    internal static long ToUnits(long ticks, long rate, long per = 1)
    {
        Int128 numerator = (Int128)ticks * rate;
        Int128 denominator = (Int128)MediaTime.TicksPerSecond * per;
        Int128 half = denominator / 2;
        return (long)(numerator >= 0 ? (numerator + half) / denominator : -((-numerator + half) / denominator));
    }
}

/// <summary>
/// Audio granule positions: a running count of samples, started from the first packet's time, so that every page's
/// granule is exact whatever the precision of the packet times (Matroska's are milliseconds). When a packet's time is
/// more than <see cref="ResyncMilliseconds"/> ahead of the count (packets were lost upstream), the count jumps to it;
/// it never goes back, so granule positions only increase.
/// </summary>
internal abstract class AudioMapping : OggCodecMapping
{
    public const int ResyncMilliseconds = 10;

    private long _next = long.MinValue;

    protected AudioMapping(ReadOnlyMemory<byte>[] headerPackets, int granuleRate)
        : base(headerPackets)
    {
        GranuleRate = granuleRate;
    }

    /// <summary>Granule units per second (the sample rate; 48,000 for Opus).</summary>
    public int GranuleRate { get; }

    public sealed override bool IsVideo => false;

    /// <summary>Granule position at which a packet presented at time 0 starts (Opus: its pre-skip).</summary>
    protected virtual long StartOffset => 0;

    /// <summary>The granule units the packet adds (0 when it cannot be parsed).</summary>
    protected abstract int UnitsIn(ReadOnlySpan<byte> packet);

    public sealed override long GranuleAfter(MediaPacket packet, out bool isKeyframe)
    {
        isKeyframe = true;
        long start = ToUnits(packet.Pts, GranuleRate) + StartOffset;
        if (_next == long.MinValue)
        {
            _next = Math.Max(0, start);
        }
        else if (start - _next > (long)GranuleRate * ResyncMilliseconds / 1000)
        {
            _next = start;
        }

        _next += UnitsIn(packet.Payload.Span);
        return _next;
    }
}
