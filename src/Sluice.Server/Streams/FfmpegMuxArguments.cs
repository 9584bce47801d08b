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
    public static List<string> For(StreamConfig stream, FfmpegMuxing muxing, IReadOnlyList<TrackInfo> tracks) =>
    [
        "-hide_banner", "-loglevel", "warning", "-nostats", "-nostdin",
        "-probesize", "32768", "-analyzeduration", "0",
        "-f", "matroska", "-i", "pipe:0",
        .. Outputs(stream, muxing, tracks, "0:a:0"),
        "-f", muxing.Muxer, "-flush_packets", "1", "pipe:1",
    ];

    /// <summary>
    /// A fraction of a second of test pattern and tone through the stream's encoders and muxer, to nowhere (as
    /// <see cref="EncoderCheck"/> tests encoders at start-up); the feed is taken to bring 320x240 video and 48 kHz
    /// stereo audio to encode. Empty when the stream encodes nothing (it copies, or carries neither).
    /// </summary>
    public static List<string> Test(StreamConfig stream, FfmpegMuxing muxing)
    {
        var tracks = new List<TrackInfo>();
        if (!stream.NoVideo && !EncoderSpec.IsCopy(stream.Video.Codec))
        {
            tracks.Add(new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.Unknown, Width = 320, Height = 240 });
        }

        if (!stream.NoAudio && !EncoderSpec.IsCopy(stream.Audio.Codec))
        {
            tracks.Add(new TrackInfo { Index = tracks.Count, Kind = MediaKind.Audio, Codec = CodecId.Unknown, SampleRate = 48000, Channels = 2 });
        }

        return tracks.Count == 0 ? [] :
        [
            "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "0.3",
            .. Outputs(stream, muxing, tracks, "1:a:0"),
            "-f", muxing.Muxer, "-y", "/dev/null",
        ];
    }

    private static List<string> Outputs(StreamConfig stream, FfmpegMuxing muxing, IReadOnlyList<TrackInfo> tracks, string audioInput)
    {
        var args = new List<string>();
        foreach (var track in tracks)
        {
            bool video = track.Kind == MediaKind.Video;
            args.AddRange(["-map", video ? "0:v:0" : audioInput]);
            args.AddRange(Codec(stream, track, video ? stream.Video : stream.Audio, video ? muxing.VideoEncoder : muxing.AudioEncoder));
            if (!video && stream.Audio.SampleRate is null && muxing.AudioSampleRates is { Count: > 0 } rates && !rates.Contains(track.SampleRate))
            {
                // The format takes only some rates (SWF's MP3: 44.1, 22.05, 11.025 kHz): the nearest one at or below.
                int rate = rates.Where(r => r <= track.SampleRate).DefaultIfEmpty(rates.Min()).Max();
                args.AddRange(["-ar:a:0", rate.ToString(CultureInfo.InvariantCulture)]);
            }
        }

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
        string encoder = settings.Codec is { } named ? EncoderNames.Of(named) : formatDefault;
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
            // The preset file's options first, so that an AVOption line of the stream wins (ffmpeg takes the last).
            Options = [.. PresetOptions(settings, encoder).Concat(settings.Options).Select(o => KeyValuePair.Create(o.Name, o.Value))],
        };
        return spec.Arguments(0);
    }

    /// <summary>
    /// The options of the stream's AVPresetVideo/AVPresetAudio file for this encoder, as the encoders with a start-up
    /// spec take them (its codec lines chose the codec when the config was read); none when there is no such file.
    /// </summary>
    private static IEnumerable<AvOption> PresetOptions(CodecSettings settings, string encoder) =>
        settings.Preset is { } preset && EncoderPreset.Find(preset, encoder, EncoderPreset.Folders()) is { } path
            ? EncoderPreset.Read(path, out _).Where(o => !EncoderPreset.IsCodecLine(o.Name))
            : [];
}
