using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

public sealed class EncoderSpecTests
{
    private static EncoderSpec Video(string encoder, CodecSettings settings, params (string Name, string Value)[] options) => new()
    {
        Kind = MediaKind.Video,
        Encoder = encoder,
        Codec = StreamCodecCheck.CodecOfEncoder(encoder),
        Settings = settings,
        Options = [.. options.Select(o => KeyValuePair.Create(o.Name, o.Value))],
    };

    private static EncoderSpec Audio(string encoder, CodecSettings settings, params (string Name, string Value)[] options) =>
        Video(encoder, settings, options) with { Kind = MediaKind.Audio };

    [Fact]
    public void A_libvpx_stream_gets_its_rate_size_and_frame_rate_and_the_real_time_defaults()
    {
        var spec = Video("libvpx", new CodecSettings { BitRate = 512, Width = 640, Height = 360, FrameRate = 25 });

        Assert.Equal(
            ["-c:v:0", "libvpx", "-b:v:0", "512k", "-filter:v:0", "scale=640:360,fps=25", "-g:v:0", "50",
             "-deadline:v:0", "realtime", "-cpu-used:v:0", "6", "-lag-in-frames:v:0", "0"],
            spec.Arguments(0));
    }

    [Fact]
    public void Without_a_frame_rate_or_a_gop_the_keyframes_come_every_two_seconds_at_25_fps()
    {
        Assert.Equal(
            ["-c:v:0", "libvpx", "-g:v:0", "50", "-deadline:v:0", "realtime", "-cpu-used:v:0", "6", "-lag-in-frames:v:0", "0"],
            Video("libvpx", new CodecSettings()).Arguments(0));
    }

    [Theory]
    [InlineData(29.97, "fps=29.97", "60")]
    [InlineData(30000.0 / 1001, "fps=29.97", "60")]
    [InlineData(12.5, "fps=12.5", "25")]
    [InlineData(0.2, "fps=0.2", "1")]   // at least one frame a GOP
    public void A_frame_rate_is_written_with_three_decimals_at_most_and_sets_the_gop(double rate, string filter, string gop)
    {
        var args = Video("libvpx", new CodecSettings { FrameRate = rate }).Arguments(0).ToList();
        Assert.Equal(filter, args[args.IndexOf("-filter:v:0") + 1]);
        Assert.Equal(gop, args[args.IndexOf("-g:v:0") + 1]);
    }

    [Fact]
    public void A_size_needs_both_width_and_height()
    {
        var args = Video("libvpx", new CodecSettings { Width = 640 }).Arguments(0);
        Assert.DoesNotContain("-filter:v:0", args);
    }

    [Fact]
    public void Every_video_directive_has_its_option_in_a_fixed_order()
    {
        var settings = new CodecSettings
        {
            BitRate = 1000,
            Width = 1280,
            Height = 720,
            FrameRate = 30,
            GopSize = 15,
            PixelFormat = "yuv420p",
            BitRateTolerance = 100,
            BufferSize = 40,
            BitRateRangeMin = 500,
            BitRateRangeMax = 1500,
            QMin = 10,
            QMax = 40,
            Preset = "fast",
        };
        var spec = Video("libx264", settings, ("profile", "main"), ("tune", "film"));

        Assert.Equal(
            ["-c:v:1", "libx264", "-b:v:1", "1000k", "-pix_fmt:v:1", "yuv420p", "-filter:v:1", "scale=1280:720,fps=30",
             "-g:v:1", "15", "-bt:v:1", "100k", "-bufsize:v:1", "327680", "-minrate:v:1", "500k", "-maxrate:v:1", "1500k",
             "-qmin:v:1", "10", "-qmax:v:1", "40",
             "-preset:v:1", "veryfast",          // the live default, as no AVOption sets preset; AVPresetVideo (a preset
                                                 // file) does not: its lines come in as options, read at start-up
             "-profile:v:1", "main", "-tune:v:1", "film"],
            spec.Arguments(1));
    }

    [Fact]
    public void IntraOnly_makes_every_frame_a_keyframe_whatever_the_gop()
    {
        var args = Video("mjpeg", new CodecSettings { IntraOnly = true, GopSize = 30 }).Arguments(0);
        Assert.Equal(["-c:v:0", "mjpeg", "-g:v:0", "1"], args); // mjpeg has no live defaults
    }

    [Fact]
    public void A_range_needs_both_its_ends()
    {
        var args = Video("mjpeg", new CodecSettings { BitRateRangeMax = 1500 }).Arguments(0);
        Assert.DoesNotContain("-maxrate:v:0", args);
    }

    [Theory]
    [InlineData("libx264")]
    [InlineData("libx265")]
    public void X264_and_x265_default_to_veryfast_and_zerolatency_unless_an_option_says_otherwise(string encoder)
    {
        Assert.Equal(
            ["-c:v:0", encoder, "-g:v:0", "50", "-preset:v:0", "veryfast", "-tune:v:0", "zerolatency"],
            Video(encoder, new CodecSettings()).Arguments(0));
        Assert.Equal(
            ["-c:v:0", encoder, "-g:v:0", "50", "-tune:v:0", "zerolatency", "-preset:v:0", "slow"],
            Video(encoder, new CodecSettings(), ("preset", "slow")).Arguments(0));
    }

    [Fact]
    public void Libvpx_keeps_its_real_time_defaults_out_of_the_way_of_options_that_set_them()
    {
        Assert.Equal(
            ["-c:v:0", "libvpx-vp9", "-g:v:0", "50", "-lag-in-frames:v:0", "0", "-deadline:v:0", "good"],
            Video("libvpx-vp9", new CodecSettings(), ("deadline", "good")).Arguments(0));
        Assert.Equal(
            ["-c:v:0", "libvpx", "-g:v:0", "50", "-lag-in-frames:v:0", "0", "-cpu-used:v:0", "2"],
            Video("libvpx", new CodecSettings(), ("cpu-used", "2")).Arguments(0));
        Assert.Equal(
            ["-c:v:0", "libvpx", "-g:v:0", "50", "-deadline:v:0", "realtime", "-cpu-used:v:0", "6", "-lag-in-frames:v:0", "16"],
            Video("libvpx", new CodecSettings(), ("lag-in-frames", "16")).Arguments(0));
    }

    [Theory]
    [InlineData(5.0, true)]            // ffserver's default: refused by mpeg1video without it
    [InlineData(15.0, true)]
    [InlineData(7.0, true)]            // written as 5 fps, the nearest economy rate
    [InlineData(null, true)]           // the feed's rate, whatever it is
    [InlineData(25.0, false)]
    [InlineData(30000.0 / 1001, false)]
    [InlineData(24.0, false)]
    public void Mpeg1video_at_a_rate_mpeg1_does_not_have_is_allowed_the_economy_rates(double? rate, bool strict)
    {
        var args = Video("mpeg1video", new CodecSettings { FrameRate = rate }).Arguments(0).ToList();
        Assert.Equal(strict, args.Contains("-strict:v:0"));
        if (strict)
        {
            Assert.Equal("unofficial", args[args.IndexOf("-strict:v:0") + 1]);
        }
    }

    [Fact]
    public void An_option_that_sets_the_strictness_wins_and_other_encoders_get_none()
    {
        var args = Video("mpeg1video", new CodecSettings { FrameRate = 5 }, ("strict", "experimental")).Arguments(0).ToList();
        Assert.Single(args, a => a.StartsWith("-strict", StringComparison.Ordinal));
        Assert.Equal("experimental", args[args.IndexOf("-strict:v:0") + 1]);
        Assert.DoesNotContain("-strict:v:0", Video("mpeg2video", new CodecSettings { FrameRate = 5 }).Arguments(0));
    }

    [Theory]
    [InlineData(5.0, null)]
    [InlineData(12.0, null)]
    [InlineData(25.0, null)]
    [InlineData(29.97, null)]
    [InlineData(7.0, "5")]
    [InlineData(8.0, "10")]
    [InlineData(20.0, "23.976")]
    public void A_rate_mpeg1video_rounds_is_warned_of_with_the_rate_it_writes(double rate, string? written)
    {
        var warning = Mpeg1FrameRates.RoundingWarning("cam.mpg", rate);
        if (written is null)
        {
            Assert.Null(warning);
        }
        else
        {
            Assert.NotNull(warning);
            string asked = rate.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            Assert.StartsWith($"<Stream cam.mpg>: VideoFrameRate {asked}: MPEG-1 video has no {asked} fps, so ffmpeg's mpeg1video writes the nearest rate it has, {written} fps", warning);
        }
    }

    [Fact]
    public void An_audio_stream_gets_its_rate_channels_and_sample_rate_and_no_video_options()
    {
        var settings = new CodecSettings { BitRate = 64, Channels = 2, SampleRate = 44100, Width = 640, Height = 360, FrameRate = 25, Preset = "voice" };
        var spec = Audio("libvorbis", settings, ("q", "4"));

        Assert.Equal(
            ["-c:a:0", "libvorbis", "-b:a:0", "64k", "-ac:a:0", "2", "-ar:a:0", "44100", "-q:a:0", "4"],
            spec.Arguments(0));
        Assert.Equal(["-c:a:2", "aac"], Audio("aac", new CodecSettings()).Arguments(2));
    }

    [Theory]
    [InlineData("vp8", "libvpx")]
    [InlineData("VP9", "libvpx-vp9")]
    [InlineData("h264", "libx264")]
    [InlineData("avc", "libx264")]
    [InlineData("hevc", "libx265")]
    [InlineData("h265", "libx265")]
    [InlineData("av1", "libaom-av1")]
    [InlineData("theora", "libtheora")]
    [InlineData("vorbis", "libvorbis")]
    [InlineData("opus", "libopus")]
    [InlineData("mp3", "libmp3lame")]
    [InlineData("jpeg", "mjpeg")]
    [InlineData("libx264", "libx264")]
    [InlineData("aac", "aac")]
    [InlineData("libsvtav1", "libsvtav1")]
    public void A_codec_as_ffserver_configs_write_it_names_its_ffmpeg_encoder(string configured, string encoder) =>
        Assert.Equal(encoder, EncoderNames.Of(configured));

    [Theory]
    [InlineData("copy", true)]
    [InlineData("COPY", true)]
    [InlineData("copy ", false)]
    [InlineData("libvpx", false)]
    [InlineData(null, false)]
    public void Copy_is_recognized_in_any_case(string? codec, bool copy) => Assert.Equal(copy, EncoderSpec.IsCopy(codec));

    public static TheoryData<string, MediaKind, string?> Fallbacks => new()
    {
        { "webm", MediaKind.Video, "libvpx" },
        { "webm", MediaKind.Audio, "libvorbis" },
        { "flv", MediaKind.Video, "libx264" },
        { "flv", MediaKind.Audio, "aac" },
        { "mpegts", MediaKind.Video, "libx264" },
        { "mpegts", MediaKind.Audio, "aac" },
        { "mpjpeg", MediaKind.Video, "mjpeg" },
        { "mpjpeg", MediaKind.Audio, null },
        { "ogg", MediaKind.Video, "libtheora" },
        { "ogg", MediaKind.Audio, "libvorbis" },
        { "mp3", MediaKind.Video, null },
        { "mp3", MediaKind.Audio, "libmp3lame" },
        { "dash", MediaKind.Audio, "aac" },
        { "hls", MediaKind.Audio, "aac" },
    };

    [Theory]
    [MemberData(nameof(Fallbacks))]
    public void A_format_s_fallback_encoder_is_the_first_whose_codec_it_carries(string format, MediaKind kind, string? encoder)
    {
        var settings = new CodecSettings { BitRate = 300 };
        var spec = EncoderSpec.FormatDefault(OutputFormat.Find(format)!, kind, settings);

        Assert.Equal(encoder, spec?.Encoder);
        if (spec is not null)
        {
            Assert.Equal(kind, spec.Kind);
            Assert.Same(settings, spec.Settings);
            Assert.True(OutputFormat.Find(format)!.CanCarry(spec.Codec));
            Assert.Null(spec.Location);
            Assert.Empty(spec.Options);
        }
    }
}
