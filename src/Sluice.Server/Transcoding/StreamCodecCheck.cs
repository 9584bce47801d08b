using Sluice.Media;
using Sluice.Server.Configuration;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>Compares what a stream's codec directives ask for with what a feed track carries.</summary>
internal static class StreamCodecCheck
{
    /// <summary>Maps ffserver/ffmpeg encoder names to the codec they produce.</summary>
    public static CodecId CodecOfEncoder(string encoder) => encoder.ToLowerInvariant() switch
    {
        "libvpx" or "vp8" => CodecId.VP8,
        "libvpx-vp9" or "vp9" => CodecId.VP9,
        "libaom-av1" or "libsvtav1" or "librav1e" or "av1" => CodecId.AV1,
        "libx264" or "h264" => CodecId.H264,
        "libx265" or "hevc" or "h265" => CodecId.H265,
        "libtheora" or "theora" => CodecId.Theora,
        "mjpeg" => CodecId.MJPEG,
        "flv" or "flv1" => CodecId.FLV1,
        "mpeg4" or "libxvid" => CodecId.MPEG4,
        "mpeg1video" => CodecId.MPEG1Video,
        "mpeg2video" => CodecId.MPEG2Video,
        "h263" or "h263p" => CodecId.H263,
        "msmpeg4v2" => CodecId.MSMPEG4V2,
        "msmpeg4" or "msmpeg4v3" => CodecId.MSMPEG4V3,
        "wmv1" => CodecId.WMV1,
        "wmv2" => CodecId.WMV2,
        "libvorbis" or "vorbis" => CodecId.Vorbis,
        "libopus" or "opus" => CodecId.Opus,
        "aac" or "libfdk_aac" => CodecId.AAC,
        "mp3" or "libmp3lame" => CodecId.MP3,
        "flac" => CodecId.FLAC,
        "mp2" or "mp2fixed" or "libtwolame" => CodecId.MP2,
        "wmav1" => CodecId.WMAV1,
        "wmav2" => CodecId.WMAV2,
        _ => CodecId.Unknown,
    };

    public static List<string> Differences(StreamConfig stream, TrackInfo track)
    {
        var result = new List<string>();
        var settings = track.Kind == MediaKind.Video ? stream.Video : stream.Audio;
        if (settings.Codec is { } codec && !string.Equals(codec, "copy", StringComparison.OrdinalIgnoreCase))
        {
            var wanted = CodecOfEncoder(codec);
            if (wanted != track.Codec)
            {
                result.Add($"asks {codec}, feed has {CodecIds.FfmpegName(track.Codec)}");
            }
        }

        if (track.Kind == MediaKind.Video && settings.Width is int w && settings.Height is int h && (w != track.Width || h != track.Height))
        {
            result.Add($"asks {w}x{h}, feed has {track.Width}x{track.Height}");
        }

        if (track.Kind == MediaKind.Video && settings.FrameRate is double fps && track.DefaultDuration > 0)
        {
            double feedFps = (double)MediaTime.TicksPerSecond / track.DefaultDuration;
            if (Math.Abs(feedFps - fps) > fps * 0.01)
            {
                result.Add($"asks {fps:0.###} fps, feed has {feedFps:0.###} fps");
            }
        }

        if (track.Kind == MediaKind.Audio)
        {
            if (settings.Channels is int ch && ch != track.Channels)
            {
                result.Add($"asks {ch} channels, feed has {track.Channels}");
            }

            if (settings.SampleRate is int sr && sr != track.SampleRate)
            {
                result.Add($"asks {sr} Hz, feed has {track.SampleRate} Hz");
            }
        }

        return result;
    }
}
