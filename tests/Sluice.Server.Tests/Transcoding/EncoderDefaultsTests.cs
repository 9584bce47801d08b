using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>
/// ffserver 3.4's encoder defaults (its add_codec under UseDefaults), as the exact ffmpeg options Sluice passes for a
/// config: the parser fills bitrate, frame rate and size; these add the maximum rate, the buffer and the tolerance.
/// </summary>
public sealed class EncoderDefaultsTests
{
    private static StreamConfig Stream(string directives, string head = "")
    {
        var result = ConfigParser.Parse($"{head}<Feed f.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\n{directives}\n</Stream>\n", "t.conf");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Config!.Streams.Single(s => s.Name == "s");
    }

    private static (string[] Arguments, List<ConfigDiagnostic> Warnings) Video(StreamConfig stream, string encoder)
    {
        var spec = new EncoderSpec
        {
            Kind = MediaKind.Video, Encoder = encoder, Codec = StreamCodecCheck.CodecOfEncoder(encoder), Settings = stream.Video,
            Location = stream.Video.CodecLocation,
        };
        var warnings = new List<ConfigDiagnostic>();
        return ([.. EncoderDefaults.Apply(stream, spec, warnings).Arguments(0)], warnings);
    }

    [Fact]
    public void A_buffer_size_gets_the_maximum_rate_of_twice_the_bitrate_that_ffmpeg_needs_beside_it()
    {
        var (args, _) = Video(Stream("Format mpjpeg\nVideoCodec mjpeg\nVideoBufferSize 40\nNoAudio"), "mjpeg");

        // 64 kbit/s, 5 fps and 160x128 are the parser's (ffserver's) defaults; maxrate and bt are ffserver's too.
        Assert.Equal(
            ["-c:v:0", "mjpeg", "-b:v:0", "64k", "-filter:v:0", "scale=160:128,fps=5", "-g:v:0", "10",
             "-bufsize:v:0", "327680", "-maxrate:v:0", "128k", "-bt:v:0", "16000"],
            args);
    }

    [Fact]
    public void A_bitrate_alone_gets_the_maximum_rate_a_one_second_buffer_and_a_quarter_as_tolerance()
    {
        var (args, _) = Video(Stream("VideoCodec libvpx\nVideoBitRate 512\nVideoFrameRate 30\nVideoSize 320x240\nNoAudio"), "libvpx");

        Assert.Equal(
            ["-c:v:0", "libvpx", "-b:v:0", "512k", "-filter:v:0", "scale=320:240,fps=30", "-g:v:0", "60",
             "-maxrate:v:0", "1024k", "-bufsize:v:0", "1024000", "-bt:v:0", "128000",
             "-deadline:v:0", "realtime", "-cpu-used:v:0", "6", "-lag-in-frames:v:0", "0"],
            args);
    }

    [Fact]
    public void At_a_low_frame_rate_the_tolerance_is_one_frame_s_worth()
    {
        var (args, _) = Video(Stream("VideoCodec libx264\nVideoBitRate 100\nVideoFrameRate 2\nVideoSize 320x240\nNoAudio"), "libx264");

        Assert.Equal("50000", args[Array.IndexOf(args, "-bt:v:0") + 1]);   // max(100000 / 4, 100000 / 2)
    }

    [Fact]
    public void A_configured_range_buffer_or_tolerance_is_kept_and_the_buffer_follows_the_range_s_top()
    {
        var (ranged, _) = Video(Stream("VideoCodec libx264\nVideoBitRate 300\nVideoBitRateRange 100-600\nVideoSize 320x240\nVideoFrameRate 25\nNoAudio"), "libx264");
        Assert.Equal(
            ["-c:v:0", "libx264", "-b:v:0", "300k", "-filter:v:0", "scale=320:240,fps=25", "-g:v:0", "50",
             "-minrate:v:0", "100k", "-maxrate:v:0", "600k", "-bufsize:v:0", "600000", "-bt:v:0", "75000",
             "-preset:v:0", "veryfast", "-tune:v:0", "zerolatency"],
            ranged);

        var (set, _) = Video(Stream("VideoCodec libx264\nVideoBitRate 300\nVideoBufferSize 100\nVideoBitRateTolerance 30\nVideoSize 320x240\nVideoFrameRate 25\nNoAudio"), "libx264");
        Assert.Equal(1, set.Count(a => a == "-bufsize:v:0"));
        Assert.Equal("819200", set[Array.IndexOf(set, "-bufsize:v:0") + 1]);
        Assert.Equal("30k", set[Array.IndexOf(set, "-bt:v:0") + 1]);
        Assert.Equal("600k", set[Array.IndexOf(set, "-maxrate:v:0") + 1]);
    }

    [Fact]
    public void NoDefaults_fills_in_nothing()
    {
        var (args, _) = Video(Stream("NoDefaults\nVideoCodec libx264\nVideoBitRate 300\nVideoSize 320x240\nNoAudio"), "libx264");

        Assert.Equal(
            ["-c:v:0", "libx264", "-b:v:0", "300k", "-filter:v:0", "scale=320:240", "-g:v:0", "50", "-preset:v:0", "veryfast", "-tune:v:0", "zerolatency"],
            args);
    }

    [Fact]
    public void A_buffer_size_without_any_other_video_directive_gets_ffserver_s_bitrate_with_a_warning()
    {
        var (args, warnings) = Video(Stream("Format mpjpeg\nVideoBufferSize 40\nNoAudio"), "mjpeg");

        Assert.Equal(
            ["-c:v:0", "mjpeg", "-b:v:0", "64k", "-g:v:0", "50", "-bufsize:v:0", "327680", "-maxrate:v:0", "128k", "-bt:v:0", "16000"],
            args);
        Assert.Contains(warnings, w => w.Location.Line == 3 && w.Message == "<Stream s> sets no VideoBitRate; using ffserver's default 64 kbit/s, which its rate control needs (add VideoBitRate, or NoDefaults to turn defaults off)");
        Assert.Contains(warnings, w => w.Message.StartsWith("<Stream s> names no video codec and Format mpjpeg needs one: Sluice encodes video with mjpeg at the feed's size and frame rate and 64 kbit/s, where", StringComparison.Ordinal));
        Assert.Equal(2, warnings.Count);
    }

    [Fact]
    public void Sluice_s_keyframe_interval_and_a_codec_it_chose_are_warned_as_differences_from_ffserver()
    {
        var named = Stream("VideoCodec libvpx\nVideoSize 320x240\nVideoFrameRate 25\nNoAudio");
        var (_, gop) = Video(named, "libvpx");
        Assert.Equal(
            "<Stream s> sets no VideoGopSize: Sluice makes a keyframe every 2 s (50 frames) so that a viewer starts soon, where ffserver 3.4 left the keyframe interval to libvpx (add VideoGopSize to choose it)",
            Assert.Single(gop).Message);

        var chosen = Stream("Format mpjpeg");
        var spec = EncoderSpec.FormatDefault(OutputFormat(chosen), MediaKind.Video, chosen.Video)!;
        var warnings = new List<ConfigDiagnostic>();
        EncoderDefaults.Apply(chosen, spec, warnings);
        var warning = Assert.Single(warnings);    // mjpeg has no keyframe interval to warn of
        Assert.Equal(3, warning.Location.Line);
        Assert.Equal(
            "<Stream s> names no video codec and Format mpjpeg needs one: Sluice encodes video with mjpeg at the feed's size and frame rate and mjpeg's own bitrate, where ffserver 3.4 used 160x128, 5 fps, 64 kbit/s (VideoSize, VideoFrameRate, VideoBitRate); set those to choose",
            warning.Message);
    }

    [Fact]
    public void Audio_gets_no_rate_control_defaults()
    {
        var stream = Stream("AudioCodec libvorbis\nNoVideo");
        var spec = new EncoderSpec { Kind = MediaKind.Audio, Encoder = "libvorbis", Codec = CodecId.Vorbis, Settings = stream.Audio, Location = stream.Audio.CodecLocation };
        var warnings = new List<ConfigDiagnostic>();

        Assert.Equal(
            ["-c:a:0", "libvorbis", "-b:a:0", "64k", "-ac:a:0", "1", "-ar:a:0", "22050"],
            EncoderDefaults.Apply(stream, spec, warnings).Arguments(0));
        Assert.Empty(warnings);
    }

    private static Sluice.Media.Formats.OutputFormat OutputFormat(StreamConfig stream) => Sluice.Media.Formats.OutputFormat.Find(stream.Format)!;
}
