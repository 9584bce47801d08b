using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;

namespace Sluice.Server.Transcoding;

/// <summary>
/// What one stream reads for one session: the feed tracks it keeps, and the encoder of each (null: the packets
/// pass unchanged, or are copied through ffmpeg beside an encoded track).
/// </summary>
internal sealed record RenditionPlan(TrackInfo? Video, TrackInfo? Audio, EncoderSpec? VideoEncoder, EncoderSpec? AudioEncoder, string Reason)
{
    public bool Encodes => VideoEncoder is not null || AudioEncoder is not null;
}

/// <summary>
/// The one place that decides, for a stream and a session's feed tracks, what passes through and what is encoded
/// (pure: the stream's config, its Format, its checked encoders and the tracks in; the plan out).
/// </summary>
internal static class RenditionPlanner
{
    /// <summary>
    /// The plan for a session with these tracks. <paramref name="leftOut"/> gets each feed track the Format cannot
    /// carry and no encoder Sluice knows could make carriable.
    /// </summary>
    public static RenditionPlan Plan(StreamConfig config, OutputFormat format, StreamEncoding encoding, IReadOnlyList<TrackInfo> tracks, List<TrackInfo> leftOut)
    {
        var video = config.NoVideo ? null : tracks.FirstOrDefault(t => t.Kind == MediaKind.Video);
        var audio = config.NoAudio ? null : tracks.FirstOrDefault(t => t.Kind == MediaKind.Audio);
        var reasons = new List<string>();
        var videoEncoder = video is null ? null : Choose(config, format, video, encoding.Video, encoding.VideoFallback, config.Video, reasons, leftOut, ref video);
        var audioEncoder = audio is null ? null : Choose(config, format, audio, encoding.Audio, encoding.AudioFallback, config.Audio, reasons, leftOut, ref audio);
        return new RenditionPlan(video, audio, videoEncoder, audioEncoder, string.Join("; ", reasons));
    }

    private static EncoderSpec? Choose(
        StreamConfig config, OutputFormat format, TrackInfo track, EncoderSpec? named, EncoderSpec? checkedFallback, CodecSettings settings,
        List<string> reasons, List<TrackInfo> leftOut, ref TrackInfo? kept)
    {
        bool carried = format.CanCarry(track.Codec);
        if (named is not null)
        {
            var differences = StreamCodecCheck.Differences(config, track);
            if (differences.Count == 0 && carried)
            {
                return null;
            }

            reasons.AddRange(differences.Select(d => $"{track.Kind.ToString().ToLowerInvariant()}: {d}"));
            return named;
        }

        if (carried)
        {
            return null;
        }

        // The encoder the start-up check tried for this stream, else the Format's first (with the stream's settings).
        var fallback = checkedFallback ?? (EncoderSpec.FormatDefault(format, track.Kind, settings) is { } chosen ? EncoderDefaults.Apply(config, chosen, null) : null);
        if (fallback is null)
        {
            leftOut.Add(track);
            kept = null;
            return null;
        }

        reasons.Add($"Format {format.Name} cannot carry {CodecIds.FfmpegName(track.Codec)}, so it is encoded with {fallback.Encoder}");
        return fallback;
    }
}
