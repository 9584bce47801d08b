namespace Sluice.Media;

/// <summary>
/// What a track carries. <see cref="Index"/> is the track's position in its feed's track list,
/// the value of <see cref="MediaPacket.Track"/>.
/// </summary>
public sealed record TrackInfo
{
    public required int Index { get; init; }
    public required MediaKind Kind { get; init; }
    public required CodecId Codec { get; init; }

    /// <summary>The container's own codec name when it had one (Matroska "V_VP8", ...), for logs.</summary>
    public string? ContainerCodecName { get; init; }

    /// <summary>Codec private data (Matroska CodecPrivate, avcC, AudioSpecificConfig, Vorbis headers...).</summary>
    public ReadOnlyMemory<byte> CodecPrivate { get; init; }

    public int Width { get; init; }
    public int Height { get; init; }

    /// <summary>Frame duration in <see cref="MediaTime"/> ticks when the container states one, else 0.</summary>
    public long DefaultDuration { get; init; }

    /// <summary>
    /// The container's time resolution in <see cref="MediaTime"/> ticks when it is coarser than a tick (90 for the
    /// milliseconds of FLV, RTMP and Matroska at its usual scale), else 0: times are exact.
    /// </summary>
    public long TimePrecision { get; init; }

    public int SampleRate { get; init; }
    public int Channels { get; init; }
    public int BitDepth { get; init; }

    /// <summary>Codec delay and seek pre-roll (Opus) in nanoseconds, as Matroska states them.</summary>
    public long CodecDelayNs { get; init; }
    public long SeekPreRollNs { get; init; }

    public string? Language { get; init; }

    /// <summary>True when two descriptions can be served to the same viewer without a new container header.</summary>
    public bool IsCompatibleWith(TrackInfo other) =>
        Kind == other.Kind && Codec == other.Codec && Width == other.Width && Height == other.Height
        && SampleRate == other.SampleRate && Channels == other.Channels
        && CodecPrivate.Span.SequenceEqual(other.CodecPrivate.Span);

    public override string ToString() => Kind switch
    {
        MediaKind.Video => $"#{Index} video {CodecIds.FfmpegName(Codec)} {Width}x{Height}",
        MediaKind.Audio => $"#{Index} audio {CodecIds.FfmpegName(Codec)} {SampleRate} Hz {Channels} ch",
        _ => $"#{Index} {Kind.ToString().ToLowerInvariant()} {CodecIds.FfmpegName(Codec)}",
    };
}
