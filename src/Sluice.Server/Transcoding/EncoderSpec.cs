using System.Collections.Immutable;
using System.Globalization;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>
/// What a stream asks one ffmpeg encoder for (its video or its audio), in ffmpeg's terms: the encoder, the
/// codec it makes, the stream's codec directives, and the AVOptions that encoder really has (checked at
/// start-up, see <see cref="EncoderCheck"/>).
/// </summary>
internal sealed record EncoderSpec
{
    public required MediaKind Kind { get; init; }

    /// <summary>The ffmpeg encoder name (libvpx, libx264, libvorbis, aac, ...).</summary>
    public required string Encoder { get; init; }

    public required CodecId Codec { get; init; }

    public required CodecSettings Settings { get; init; }

    /// <summary>Options passed to the encoder as -name value, after mapping and dropping what it lacks.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Options { get; init; } = [];

    /// <summary>Rate-control options ffserver 3.4 filled in under UseDefaults (see <see cref="EncoderDefaults"/>), as -name value.</summary>
    public ImmutableArray<KeyValuePair<string, string>> Defaults { get; init; } = [];

    /// <summary>Where the stream named the codec; null when Sluice chose it because the Format needs it.</summary>
    public ConfigLocation? Location { get; init; }

    /// <summary>Without a VideoGopSize, a live stream gets a keyframe this often, so a viewer can start soon.</summary>
    public const double DefaultKeyframeSeconds = 2;

    /// <summary>
    /// The output options for this encoder as output stream <paramref name="index"/> of its kind
    /// (ffmpeg's stream specifier v:index or a:index).
    /// </summary>
    public IEnumerable<string> Arguments(int index)
    {
        string s = (Kind == MediaKind.Video ? "v:" : "a:") + index.ToString(CultureInfo.InvariantCulture);
        var settings = Settings;
        var args = new List<string> { $"-c:{s}", Encoder };
        if (settings.BitRate is { } bitRate)
        {
            args.AddRange([$"-b:{s}", $"{bitRate}k"]);
        }

        if (Kind == MediaKind.Video)
        {
            var filters = new List<string>();
            if (settings.Width is { } width && settings.Height is { } height)
            {
                filters.Add($"scale={width}:{height}");
            }

            if (settings.FrameRate is { } rate)
            {
                // The fps filter makes a constant rate before the encoder; -r alone lets some muxers keep the
                // input's timing, and libvpx then misses its bitrate by half.
                filters.Add($"fps={Number(rate)}");
            }

            if (settings.PixelFormat is { } pixelFormat)
            {
                args.AddRange([$"-pix_fmt:{s}", pixelFormat]);
            }

            if (filters.Count > 0)
            {
                args.AddRange([$"-filter:{s}", string.Join(',', filters)]);
            }

            int gop = settings.IntraOnly ? 1 : settings.GopSize ?? (int)Math.Max(1, Math.Round((settings.FrameRate ?? 25) * DefaultKeyframeSeconds));
            args.AddRange([$"-g:{s}", gop.ToString(CultureInfo.InvariantCulture)]);
            if (settings.BitRateTolerance is { } tolerance)
            {
                args.AddRange([$"-bt:{s}", $"{tolerance}k"]);
            }

            if (settings.BufferSize is { } buffer)
            {
                // ffserver gave the encoder VideoBufferSize × 8 × 1024 bits.
                args.AddRange([$"-bufsize:{s}", (buffer * 8 * 1024).ToString(CultureInfo.InvariantCulture)]);
            }

            if (settings.BitRateRangeMin is { } min && settings.BitRateRangeMax is { } max)
            {
                args.AddRange([$"-minrate:{s}", $"{min}k", $"-maxrate:{s}", $"{max}k"]);
            }

            if (settings.QMin is { } qmin)
            {
                args.AddRange([$"-qmin:{s}", qmin.ToString(CultureInfo.InvariantCulture)]);
            }

            if (settings.QMax is { } qmax)
            {
                args.AddRange([$"-qmax:{s}", qmax.ToString(CultureInfo.InvariantCulture)]);
            }

            foreach (var (name, value) in Defaults)
            {
                args.AddRange([$"-{name}:{s}", value]);
            }

            args.AddRange(LiveDefaults(s));
        }
        else
        {
            if (settings.Channels is { } channels)
            {
                args.AddRange([$"-ac:{s}", channels.ToString(CultureInfo.InvariantCulture)]);
            }

            if (settings.SampleRate is { } sampleRate)
            {
                args.AddRange([$"-ar:{s}", sampleRate.ToString(CultureInfo.InvariantCulture)]);
            }
        }

        foreach (var (name, value) in Options)
        {
            args.AddRange([$"-{name}:{s}", value]);
        }

        return args;
    }

    /// <summary>
    /// Encoder settings a live stream needs when the config says nothing: x264 without B-frames or look-ahead
    /// (zerolatency; viewers start at once and every container gets DTS = PTS order), libvpx in real-time mode
    /// and without look-ahead, and mpeg1video allowed the economy rates at a rate MPEG-1 does not have (ffserver's
    /// default 5 fps: see <see cref="Mpeg1FrameRates"/>).
    /// </summary>
    private IEnumerable<string> LiveDefaults(string s)
    {
        bool Has(string name) => Options.Any(o => o.Key == name);
        if (Encoder is "libx264" or "libx265")
        {
            if (!Has("preset"))
            {
                yield return $"-preset:{s}";
                yield return "veryfast";
            }

            if (!Has("tune"))
            {
                yield return $"-tune:{s}";
                yield return "zerolatency";
            }
        }
        else if (Encoder.StartsWith("libvpx", StringComparison.Ordinal))
        {
            if (!Has("deadline") && !Has("cpu-used"))
            {
                yield return $"-deadline:{s}";
                yield return "realtime";
                yield return $"-cpu-used:{s}";
                yield return "6";
            }

            if (!Has("lag-in-frames"))
            {
                // libvpx looks 25 frames ahead by default: almost a second more before a viewer sees anything.
                yield return $"-lag-in-frames:{s}";
                yield return "0";
            }
        }
        else if (Mpeg1FrameRates.Applies(Encoder) && !Mpeg1FrameRates.IsStandard(Settings.FrameRate) && !Has("strict"))
        {
            yield return $"-strict:{s}";
            yield return "unofficial";
        }
    }

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The ffmpeg encoder for a codec name as ffserver configs write it (vp8 → libvpx, mp3 → libmp3lame, ...).</summary>
    public static bool IsCopy(string? codec) => string.Equals(codec, "copy", StringComparison.OrdinalIgnoreCase);

    private static readonly string[] VideoFallbacks = ["libvpx", "libx264", "mjpeg", "libtheora"];
    private static readonly string[] AudioFallbacks = ["libvorbis", "aac", "libmp3lame", "libopus"];

    /// <summary>
    /// The encoder Sluice uses when a stream names no codec but its Format cannot carry the feed's
    /// (H.264 into WebM, VP8 into FLV): the first of VP8, H.264, MJPEG, Theora (video) or Vorbis, AAC, MP3,
    /// Opus (audio) the format can carry. Null when it carries none.
    /// </summary>
    public static EncoderSpec? FormatDefault(OutputFormat format, MediaKind kind, CodecSettings settings)
    {
        foreach (var encoder in kind == MediaKind.Video ? VideoFallbacks : AudioFallbacks)
        {
            var codec = StreamCodecCheck.CodecOfEncoder(encoder);
            if (format.CanCarry(codec))
            {
                return new EncoderSpec { Kind = kind, Encoder = encoder, Codec = codec, Settings = settings };
            }
        }

        return null;
    }
}
