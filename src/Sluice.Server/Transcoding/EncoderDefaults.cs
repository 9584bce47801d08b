using System.Collections.Immutable;
using System.Globalization;
using Sluice.Media;
using Sluice.Server.Configuration;

namespace Sluice.Server.Transcoding;

/// <summary>
/// The encoder settings ffserver 3.4 filled in for a stream with UseDefaults (its <c>add_codec</c>), where Sluice
/// passes encoder options to ffmpeg. The parser already fills the stream-level ones (audio 64 kbit/s, 22050 Hz, 1
/// channel; video 64 kbit/s, 5 fps, 160x128) for a stream that configures that kind; these are the rate-control
/// ones 3.4 derived from the bitrate: a maximum rate of twice the bitrate, a buffer of that maximum rate (one
/// second), and a bitrate tolerance of a quarter of the bitrate or one frame's worth, whichever is more. Without the
/// maximum rate ffmpeg refuses a VideoBufferSize outright ("Either both buffer size and max rate or neither must
/// be specified"). 3.4 also set the rate-control equation "tex^qComp", which is ffmpeg's own default, and left
/// qmin/qmax to the encoder, as Sluice does. Pure: settings in, options and warnings out.
/// </summary>
internal static class EncoderDefaults
{
    /// <summary>ffserver's video and audio bitrate in kbit/s when none is set.</summary>
    public const long BitRate = 64;

    /// <summary>ffserver's frame rate when none is set (its time base 1/5), which its tolerance is reckoned with.</summary>
    public const double FrameRate = 5;

    /// <summary>
    /// The spec with ffserver's defaults filled in (none with NoDefaults). <paramref name="warnings"/>, when given,
    /// gets each place where Sluice deliberately does otherwise than 3.4, at the stream's line.
    /// </summary>
    public static EncoderSpec Apply(StreamConfig stream, EncoderSpec spec, List<ConfigDiagnostic>? warnings)
    {
        var settings = spec.Settings;
        var line = stream.Location;
        // MJPEG has no interval to choose (every picture stands alone); a preset or AVOption "g" chooses it itself.
        if (spec.Kind == MediaKind.Video && settings.GopSize is null && !settings.IntraOnly && spec.Codec != CodecId.MJPEG && !spec.Options.Any(o => o.Key == "g"))
        {
            int frames = (int)Math.Max(1, Math.Round((settings.FrameRate ?? 25) * EncoderSpec.DefaultKeyframeSeconds));
            warnings?.Add(new ConfigDiagnostic(line, $"<Stream {stream.Name}> sets no VideoGopSize: Sluice makes a keyframe every {EncoderSpec.DefaultKeyframeSeconds:0} s ({frames} frames) so that a viewer starts soon, where ffserver 3.4 left the keyframe interval to {spec.Encoder} (add VideoGopSize to choose it)"));
        }

        if (!stream.UseDefaults)
        {
            return spec;
        }

        long? bitRate = settings.BitRate;
        if (spec.Kind == MediaKind.Video && bitRate is null && (settings.BufferSize is not null || settings.BitRateTolerance is not null || settings.BitRateRangeMax is not null))
        {
            // Rate control needs a bitrate; 3.4 had its 64 kbit/s here.
            bitRate = BitRate;
            settings = settings with { BitRate = bitRate };
            warnings?.Add(new ConfigDiagnostic(line, $"<Stream {stream.Name}> sets no VideoBitRate; using ffserver's default {BitRate} kbit/s, which its rate control needs (add VideoBitRate, or NoDefaults to turn defaults off)"));
        }

        if (spec.Location is null && !spec.Settings.IsSet)
        {
            // A codec Sluice chose because the Format needs it, for a stream that configures nothing of this kind.
            string kind = spec.Kind == MediaKind.Video ? "video" : "audio";
            string theirs = spec.Kind == MediaKind.Video ? "160x128, 5 fps, 64 kbit/s (VideoSize, VideoFrameRate, VideoBitRate)" : "22050 Hz, 1 channel, 64 kbit/s (AudioSampleRate, AudioChannels, AudioBitRate)";
            string ours = spec.Kind == MediaKind.Video ? "the feed's size and frame rate" : "the feed's sample rate and channels";
            string rate = bitRate is null ? $"{spec.Encoder}'s own bitrate" : $"{bitRate} kbit/s";
            warnings?.Add(new ConfigDiagnostic(line, $"<Stream {stream.Name}> names no {kind} codec and Format {stream.Format} needs one: Sluice encodes {kind} with {spec.Encoder} at {ours} and {rate}, where ffserver 3.4 used {theirs}; set those to choose"));
        }

        if (spec.Kind != MediaKind.Video)
        {
            return spec;
        }

        if (bitRate is not long b)
        {
            return spec with { Settings = settings };
        }

        var defaults = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        long maxRate = settings.BitRateRangeMax ?? 2 * b;
        if (settings.BitRateRangeMax is null)
        {
            defaults.Add(new("maxrate", $"{maxRate}k"));
        }

        if (settings.BufferSize is null)
        {
            defaults.Add(new("bufsize", Bits(maxRate * 1000)));
        }

        if (settings.BitRateTolerance is null)
        {
            long bits = b * 1000;
            defaults.Add(new("bt", Bits(Math.Max(bits / 4, (long)(bits / (settings.FrameRate ?? FrameRate))))));
        }

        return spec with { Settings = settings, Defaults = defaults.ToImmutable() };
    }

    private static string Bits(long bits) => bits.ToString(CultureInfo.InvariantCulture);
}
