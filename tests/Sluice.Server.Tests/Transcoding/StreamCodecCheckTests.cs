using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

public sealed class StreamCodecCheckTests
{
    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240, DefaultDuration = MediaTime.TicksPerSecond / 25 };
    private static readonly TrackInfo Aac = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 44100, Channels = 2 };

    private static StreamConfig Stream(CodecSettings? video = null, CodecSettings? audio = null) =>
        new() { Name = "s", Video = video ?? new CodecSettings(), Audio = audio ?? new CodecSettings() };

    [Theory]
    [InlineData("libvpx", CodecId.VP8)]
    [InlineData("vp8", CodecId.VP8)]
    [InlineData("libvpx-vp9", CodecId.VP9)]
    [InlineData("vp9", CodecId.VP9)]
    [InlineData("libaom-av1", CodecId.AV1)]
    [InlineData("libsvtav1", CodecId.AV1)]
    [InlineData("librav1e", CodecId.AV1)]
    [InlineData("libx264", CodecId.H264)]
    [InlineData("LibX264", CodecId.H264)]
    [InlineData("h264", CodecId.H264)]
    [InlineData("libx265", CodecId.H265)]
    [InlineData("hevc", CodecId.H265)]
    [InlineData("libtheora", CodecId.Theora)]
    [InlineData("mjpeg", CodecId.MJPEG)]
    [InlineData("libvorbis", CodecId.Vorbis)]
    [InlineData("libopus", CodecId.Opus)]
    [InlineData("aac", CodecId.AAC)]
    [InlineData("libfdk_aac", CodecId.AAC)]
    [InlineData("libmp3lame", CodecId.MP3)]
    [InlineData("mp3", CodecId.MP3)]
    [InlineData("flac", CodecId.FLAC)]
    [InlineData("flv", CodecId.FLV1)]
    [InlineData("mpeg4", CodecId.MPEG4)]
    [InlineData("libxvid", CodecId.MPEG4)]
    [InlineData("mpeg1video", CodecId.MPEG1Video)]
    [InlineData("mpeg2video", CodecId.MPEG2Video)]
    [InlineData("h263", CodecId.H263)]
    [InlineData("h263p", CodecId.H263)]
    [InlineData("mp2", CodecId.MP2)]
    [InlineData("libtwolame", CodecId.MP2)]
    [InlineData("msmpeg4", CodecId.MSMPEG4V3)]
    [InlineData("wmv2", CodecId.WMV2)]
    [InlineData("wmav2", CodecId.WMAV2)]
    [InlineData("adpcm_swf", CodecId.Unknown)]
    [InlineData("copy", CodecId.Unknown)]
    [InlineData("", CodecId.Unknown)]
    public void An_encoder_name_gives_the_codec_it_makes(string encoder, CodecId codec) =>
        Assert.Equal(codec, StreamCodecCheck.CodecOfEncoder(encoder));

    [Fact]
    public void A_stream_that_asks_nothing_or_what_the_feed_has_finds_no_difference()
    {
        Assert.Empty(StreamCodecCheck.Differences(Stream(), Vp8));
        Assert.Empty(StreamCodecCheck.Differences(Stream(), Aac));
        Assert.Empty(StreamCodecCheck.Differences(Stream(new CodecSettings { Codec = "libvpx", Width = 320, Height = 240, FrameRate = 25 }), Vp8));
        Assert.Empty(StreamCodecCheck.Differences(Stream(audio: new CodecSettings { Codec = "aac", SampleRate = 44100, Channels = 2 }), Aac));
    }

    [Fact]
    public void Copy_asks_for_no_codec()
    {
        Assert.Empty(StreamCodecCheck.Differences(Stream(new CodecSettings { Codec = "copy" }), Vp8));
        Assert.Empty(StreamCodecCheck.Differences(Stream(new CodecSettings { Codec = "Copy" }), Vp8));
    }

    [Fact]
    public void Each_video_difference_is_named_in_the_config_s_and_the_feed_s_terms()
    {
        var settings = new CodecSettings { Codec = "libx264", Width = 640, Height = 360, FrameRate = 30 };
        Assert.Equal(
            ["asks libx264, feed has vp8", "asks 640x360, feed has 320x240", "asks 30 fps, feed has 25 fps"],
            StreamCodecCheck.Differences(Stream(settings), Vp8));
    }

    [Fact]
    public void An_encoder_Sluice_does_not_know_differs_from_every_feed_codec() =>
        Assert.Equal(["asks mpeg4, feed has vp8"], StreamCodecCheck.Differences(Stream(new CodecSettings { Codec = "mpeg4" }), Vp8));

    [Theory]
    [InlineData(25.2, false)]     // within 1 %
    [InlineData(24.8, false)]
    [InlineData(25.3, true)]
    [InlineData(29.97, true)]
    public void A_frame_rate_differs_when_it_is_more_than_one_percent_off(double fps, bool differs) =>
        Assert.Equal(differs, StreamCodecCheck.Differences(Stream(new CodecSettings { FrameRate = fps }), Vp8).Count > 0);

    [Fact]
    public void A_frame_rate_is_not_compared_when_the_feed_states_none() =>
        Assert.Empty(StreamCodecCheck.Differences(Stream(new CodecSettings { FrameRate = 30 }), Vp8 with { DefaultDuration = 0 }));

    [Fact]
    public void The_frame_rate_difference_is_written_with_three_decimals_at_most() =>
        Assert.Equal(
            ["asks 29.97 fps, feed has 25 fps"],
            StreamCodecCheck.Differences(Stream(new CodecSettings { FrameRate = 30000.0 / 1001 }), Vp8));

    [Fact]
    public void A_width_without_a_height_is_not_a_size()
    {
        Assert.Empty(StreamCodecCheck.Differences(Stream(new CodecSettings { Width = 640 }), Vp8));
        Assert.Empty(StreamCodecCheck.Differences(Stream(new CodecSettings { Height = 360 }), Vp8));
        Assert.Equal(["asks 320x480, feed has 320x240"], StreamCodecCheck.Differences(Stream(new CodecSettings { Width = 320, Height = 480 }), Vp8));
    }

    [Fact]
    public void Each_audio_difference_is_named()
    {
        var settings = new CodecSettings { Codec = "libopus", Channels = 1, SampleRate = 48000 };
        Assert.Equal(
            ["asks libopus, feed has aac", "asks 1 channels, feed has 2", "asks 48000 Hz, feed has 44100 Hz"],
            StreamCodecCheck.Differences(Stream(audio: settings), Aac));
    }

    [Fact]
    public void A_track_is_compared_with_its_own_kind_s_directives_only()
    {
        var video = new CodecSettings { Codec = "libx264", Width = 640, Height = 360, Channels = 6, SampleRate = 8000 };
        var audio = new CodecSettings { Codec = "libopus", Width = 1, Height = 1, FrameRate = 1 };

        Assert.Equal(["asks libopus, feed has aac"], StreamCodecCheck.Differences(Stream(video, audio), Aac));
        Assert.Equal(["asks libx264, feed has vp8", "asks 640x360, feed has 320x240"], StreamCodecCheck.Differences(Stream(video, audio), Vp8));
    }
}
