using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Transcoding;
using static Sluice.Server.Tests.Support.TestTracks;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>The ffmpeg command of an encoder run, exactly, for the renditions' plans.</summary>
public sealed class EncoderCommandTests
{
    private static readonly string[] Input =
        ["-hide_banner", "-loglevel", "warning", "-nostats", "-stats_period", "1", "-progress", "pipe:2",
         "-probesize", "32768", "-analyzeduration", "0", "-f", "matroska", "-i", "pipe:0"];

    private static readonly string[] Output =
        ["-max_muxing_queue_size", "4096", "-f", "matroska", "-cluster_time_limit", "100", "-flush_packets", "1", "pipe:1"];

    private static EncoderSpec Spec(MediaKind kind, string encoder, CodecSettings settings) =>
        new() { Kind = kind, Encoder = encoder, Codec = StreamCodecCheck.CodecOfEncoder(encoder), Settings = settings };

    private static string[] Expected(params string[] outputs) => [.. Input, .. outputs, .. Output];

    [Fact]
    public void A_plan_that_encodes_nothing_copies_both_tracks()
    {
        var command = EncoderCommand.Build([new RenditionPlan(H264, Aac, null, null, "")]);

        Assert.Equal(Expected("-map", "0:v:0", "-c:v:0", "copy", "-map", "0:a:0", "-c:a:0", "copy"), command.Arguments);
        Assert.Equal([new EncoderOutput(0, MediaKind.Video), new EncoderOutput(0, MediaKind.Audio)], command.Outputs.ToArray());
    }

    [Fact]
    public void One_stream_encoded_to_vp8_and_vorbis()
    {
        var plan = new RenditionPlan(
            H264, Aac,
            Spec(MediaKind.Video, "libvpx", new CodecSettings { BitRate = 300 }),
            Spec(MediaKind.Audio, "libvorbis", new CodecSettings { BitRate = 64, SampleRate = 44100, Channels = 2 }),
            "video: asks libvpx, feed has h264");

        var command = EncoderCommand.Build([plan]);

        Assert.Equal(
            Expected(
                "-map", "0:v:0", "-c:v:0", "libvpx", "-b:v:0", "300k", "-g:v:0", "50",
                "-deadline:v:0", "realtime", "-cpu-used:v:0", "6", "-lag-in-frames:v:0", "0",
                "-map", "0:a:0", "-c:a:0", "libvorbis", "-b:a:0", "64k", "-ac:a:0", "2", "-ar:a:0", "44100"),
            command.Arguments);
    }

    [Fact]
    public void Two_streams_share_one_input_and_number_their_outputs_by_kind()
    {
        var small = new RenditionPlan(H264, Aac, Spec(MediaKind.Video, "libx264", new CodecSettings { BitRate = 200, Width = 320, Height = 180 }), null, "");
        var vp8 = new RenditionPlan(H264, null, Spec(MediaKind.Video, "libvpx", new CodecSettings()), null, "");

        var command = EncoderCommand.Build([small, vp8]);

        Assert.Equal(
            Expected(
                "-map", "0:v:0", "-c:v:0", "libx264", "-b:v:0", "200k", "-filter:v:0", "scale=320:180", "-g:v:0", "50",
                "-preset:v:0", "veryfast", "-tune:v:0", "zerolatency",
                "-map", "0:a:0", "-c:a:0", "copy",
                "-map", "0:v:0", "-c:v:1", "libvpx", "-g:v:1", "50",
                "-deadline:v:1", "realtime", "-cpu-used:v:1", "6", "-lag-in-frames:v:1", "0"),
            command.Arguments);
        Assert.Equal(1, command.Arguments.Count(a => a == "-i"));
        Assert.Equal(
            [new EncoderOutput(0, MediaKind.Video), new EncoderOutput(0, MediaKind.Audio), new EncoderOutput(1, MediaKind.Video)],
            command.Outputs.ToArray());
    }

    [Fact]
    public void A_scaled_rate_limited_stream_gets_its_filters_and_rate_control()
    {
        var settings = new CodecSettings
        {
            BitRate = 400, Width = 426, Height = 240, FrameRate = 15, BufferSize = 40, BitRateRangeMin = 100, BitRateRangeMax = 500,
            BitRateTolerance = 50, QMin = 4, QMax = 40,
        };
        var command = EncoderCommand.Build([new RenditionPlan(H264, null, Spec(MediaKind.Video, "libx264", settings), null, "")]);

        Assert.Equal(
            Expected(
                "-map", "0:v:0", "-c:v:0", "libx264", "-b:v:0", "400k", "-filter:v:0", "scale=426:240,fps=15", "-g:v:0", "30",
                "-bt:v:0", "50k", "-bufsize:v:0", "327680", "-minrate:v:0", "100k", "-maxrate:v:0", "500k",
                "-qmin:v:0", "4", "-qmax:v:0", "40", "-preset:v:0", "veryfast", "-tune:v:0", "zerolatency"),
            command.Arguments);
    }

    [Fact]
    public void The_command_line_quotes_what_a_shell_would_split()
    {
        var spec = Spec(MediaKind.Video, "libvpx", new CodecSettings()) with { Options = [KeyValuePair.Create("metadata", "title=a b")] };
        var command = EncoderCommand.Build([new RenditionPlan(H264, null, spec, null, "")]);

        Assert.StartsWith("ffmpeg -hide_banner ", command.CommandLine, StringComparison.Ordinal);
        Assert.Contains(" -metadata:v:0 'title=a b' ", command.CommandLine, StringComparison.Ordinal);
    }
}
