using System.Globalization;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Streams;

/// <summary>
/// The command line of the ffmpeg that writes a stream's container when Sluice does not (Format mpeg, asf, swf,
/// ismv): the stream's tracks come in as Matroska on stdin, each is encoded with the stream's codec directives (or
/// the codec ffserver took by default for the format, ffmpeg's muxer default), and the container goes to stdout.
/// </summary>
internal static class FfmpegMuxArguments
{
    public static List<string> For(StreamConfig stream, FfmpegMuxing muxing, IReadOnlyList<TrackInfo> tracks)
    {
        var args = new List<string>
        {
            "-hide_banner", "-loglevel", "warning", "-nostats", "-nostdin",
            "-probesize", "32768", "-analyzeduration", "0",
            "-f", "matroska", "-i", "pipe:0",
        };
        foreach (var track in tracks)
        {
            bool video = track.Kind == MediaKind.Video;
            args.AddRange(["-map", video ? "0:v:0" : "0:a:0"]);
            args.AddRange(Codec(stream, track, video ? stream.Video : stream.Audio, video ? muxing.VideoEncoder : muxing.AudioEncoder));
            if (!video && stream.Audio.SampleRate is null && muxing.AudioSampleRates is { Count: > 0 } rates && !rates.Contains(track.SampleRate))
            {
                // The format takes only some rates (SWF's MP3: 44.1, 22.05, 11.025 kHz): the nearest one at or below.
                int rate = rates.Where(r => r <= track.SampleRate).DefaultIfEmpty(rates.Min()).Max();
                args.AddRange(["-ar:a:0", rate.ToString(CultureInfo.InvariantCulture)]);
            }
        }

        args.AddRange(["-f", muxing.Muxer, "-flush_packets", "1", "pipe:1"]);
        return args;
    }

    /// <summary>
    /// The codec options of one output stream: copy when the stream says copy, or names no codec and the feed already
    /// carries the format's default one as asked (an H.264 feed into ismv); otherwise the named (or default) encoder
    /// with the stream's bitrate, size, rate and AVOptions, as Sluice's own encoders take them.
    /// </summary>
    private static IEnumerable<string> Codec(StreamConfig stream, TrackInfo track, CodecSettings settings, string formatDefault)
    {
        string specifier = track.Kind == MediaKind.Video ? "-c:v:0" : "-c:a:0";
        string encoder = settings.Codec is { } named ? EncoderSpec.EncoderName(named) : formatDefault;
        var codec = StreamCodecCheck.CodecOfEncoder(encoder);
        if (EncoderSpec.IsCopy(settings.Codec)
            || (settings.Codec is null && codec != CodecId.Unknown && codec == track.Codec && StreamCodecCheck.Differences(stream, track).Count == 0))
        {
            return [specifier, "copy"];
        }

        var spec = new EncoderSpec
        {
            Kind = track.Kind,
            Encoder = encoder,
            Codec = codec,
            Settings = settings,
            Options = [.. settings.Options.Select(o => KeyValuePair.Create(o.Name, o.Value))],
        };
        return spec.Arguments(0);
    }
}
