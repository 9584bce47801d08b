using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Tests.Support;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>What a stream passes through and what it encodes, for a feed's tracks and the stream's codec directives.</summary>
public sealed class RenditionPlanTests
{
    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240, DefaultDuration = MediaTime.TicksPerSecond / 25 };
    private static readonly TrackInfo Vorbis = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, SampleRate = 48000, Channels = 2 };
    private static readonly TrackInfo H264 = Vp8 with { Codec = CodecId.H264 };
    private static readonly TrackInfo Aac = Vorbis with { Codec = CodecId.AAC };

    private static RenditionPlan Plan(StreamConfig stream, StreamEncoding encoding, IReadOnlyList<TrackInfo> tracks, ILogger? logger = null)
    {
        var format = OutputFormat.Find(stream.Format)!;
        var output = new Feed(new FeedConfig { Name = $"{stream.Name} (output)" }, NullLogger.Instance);
        return new Rendition(stream, format, encoding, output, logger ?? NullLogger.Instance).Decide(tracks);
    }

    private static EncoderSpec Spec(MediaKind kind, string encoder, CodecSettings settings) =>
        new() { Kind = kind, Encoder = encoder, Codec = StreamCodecCheck.CodecOfEncoder(encoder), Settings = settings };

    private static StreamConfig Webm(CodecSettings? video = null, CodecSettings? audio = null) => new()
    {
        Name = "live.webm",
        Feed = "f.ffm",
        Format = "webm",
        Video = video ?? new CodecSettings(),
        Audio = audio ?? new CodecSettings(),
        Location = new ConfigLocation("t.conf", 7),
    };

    [Fact]
    public void Tracks_the_format_carries_pass_through_when_the_stream_names_no_codec()
    {
        var plan = Plan(Webm(), StreamEncoding.None, [Vp8, Vorbis]);

        Assert.Equal(new RenditionPlan(Vp8, Vorbis, null, null, ""), plan);
        Assert.False(plan.Encodes);
    }

    [Fact]
    public void The_codec_and_size_asked_for_being_the_feed_s_pass_through()
    {
        var video = new CodecSettings { Codec = "libvpx", Width = 320, Height = 240, FrameRate = 25 };
        var audio = new CodecSettings { Codec = "vorbis", SampleRate = 48000, Channels = 2 };
        var encoding = new StreamEncoding(Spec(MediaKind.Video, "libvpx", video), Spec(MediaKind.Audio, "libvorbis", audio));

        var plan = Plan(Webm(video, audio), encoding, [Vp8, Vorbis]);

        Assert.False(plan.Encodes);
        Assert.Equal("", plan.Reason);
        Assert.Same(Vp8, plan.Video);
    }

    [Fact]
    public void Another_size_is_encoded_with_the_named_encoder_and_says_why()
    {
        var video = new CodecSettings { Codec = "libvpx", Width = 640, Height = 360 };
        var spec = Spec(MediaKind.Video, "libvpx", video);

        var plan = Plan(Webm(video), new StreamEncoding(spec, null), [Vp8, Vorbis]);

        Assert.Same(spec, plan.VideoEncoder);
        Assert.Null(plan.AudioEncoder);
        Assert.True(plan.Encodes);
        Assert.Equal("video: asks 640x360, feed has 320x240", plan.Reason);
        Assert.Equal((Vp8, Vorbis), (plan.Video, plan.Audio)); // the feed's tracks it reads
    }

    [Fact]
    public void Another_codec_rate_and_channels_are_encoded_with_every_difference_in_the_reason()
    {
        var video = new CodecSettings { Codec = "libvpx-vp9", FrameRate = 30 };
        var audio = new CodecSettings { Codec = "libopus", SampleRate = 48000, Channels = 1 };
        var encoding = new StreamEncoding(Spec(MediaKind.Video, "libvpx-vp9", video), Spec(MediaKind.Audio, "libopus", audio));

        var plan = Plan(Webm(video, audio), encoding, [Vp8, Vorbis]);

        Assert.Equal("libvpx-vp9", plan.VideoEncoder?.Encoder);
        Assert.Equal("libopus", plan.AudioEncoder?.Encoder);
        Assert.Equal("video: asks libvpx-vp9, feed has vp8; video: asks 30 fps, feed has 25 fps; audio: asks libopus, feed has vorbis; audio: asks 1 channels, feed has 2", plan.Reason);
    }

    [Fact]
    public void A_codec_the_format_cannot_carry_is_encoded_with_the_format_s_first_fallback()
    {
        var plan = Plan(Webm(), StreamEncoding.None, [H264, Aac]);

        Assert.Equal("libvpx", plan.VideoEncoder?.Encoder);
        Assert.Equal(CodecId.VP8, plan.VideoEncoder?.Codec);
        Assert.Equal("libvorbis", plan.AudioEncoder?.Encoder);
        Assert.Null(plan.VideoEncoder?.Location); // Sluice chose it, no line named it
        Assert.Equal("Format webm cannot carry h264, so it is encoded with libvpx; Format webm cannot carry aac, so it is encoded with libvorbis", plan.Reason);
    }

    [Fact]
    public void The_fallback_keeps_the_stream_s_own_settings()
    {
        var video = new CodecSettings { BitRate = 800, Width = 640, Height = 360 };
        var plan = Plan(Webm(video) with { Format = "flv" }, StreamEncoding.None, [Vp8, Vorbis]);

        Assert.Equal("libx264", plan.VideoEncoder?.Encoder);
        Assert.Same(video, plan.VideoEncoder?.Settings);
        Assert.Equal("aac", plan.AudioEncoder?.Encoder);
    }

    [Fact]
    public void A_track_nothing_Sluice_encodes_can_replace_is_left_out_with_a_warning()
    {
        var log = new ListLogger();
        var plan = Plan(Webm() with { Name = "radio.mp3", Format = "mp3" }, StreamEncoding.None, [Vp8, Vorbis], log);

        Assert.Null(plan.Video);
        Assert.Null(plan.VideoEncoder);
        Assert.Same(Vorbis, plan.Audio);
        Assert.Equal("libmp3lame", plan.AudioEncoder?.Encoder);
        Assert.Equal("Format mp3 cannot carry vorbis, so it is encoded with libmp3lame", plan.Reason);
        var (id, message) = Assert.Single(log.Entries);
        Assert.Equal(212, id);
        Assert.Equal("Stream radio.mp3: feed track #0 video vp8 320x240 cannot be carried by Format mp3, and no encoder Sluice knows makes something it carries; the track is left out", message);
    }

    [Fact]
    public void NoVideo_and_NoAudio_plan_nothing_for_their_kind()
    {
        var plan = Plan(Webm() with { NoAudio = true }, StreamEncoding.None, [H264, Aac]);
        Assert.Null(plan.Audio);
        Assert.Null(plan.AudioEncoder);
        Assert.Equal("libvpx", plan.VideoEncoder?.Encoder);

        plan = Plan(Webm() with { NoVideo = true }, StreamEncoding.None, [Vp8, Vorbis]);
        Assert.Equal(new RenditionPlan(null, Vorbis, null, null, ""), plan);
    }

    [Fact]
    public void The_first_track_of_each_kind_is_planned_for()
    {
        var second = Vp8 with { Index = 2, Width = 1280, Height = 720 };
        var plan = Plan(Webm(), StreamEncoding.None, [Vp8, Vorbis, second]);
        Assert.Same(Vp8, plan.Video);
    }

    [Fact]
    public void A_feed_without_a_kind_plans_nothing_for_it()
    {
        var video = new CodecSettings { Codec = "libvpx", Width = 640, Height = 360 };
        var plan = Plan(Webm(video), new StreamEncoding(Spec(MediaKind.Video, "libvpx", video), null), [Vorbis]);
        Assert.Equal(new RenditionPlan(null, Vorbis, null, null, ""), plan);
    }
}
