using Sluice.Server.Configuration;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>The start-up check reads the preset files of the streams whose container ffmpeg writes as it reads an encoder's (real ffmpeg).</summary>
public sealed class EncoderCheckPresetTests
{
    [Fact]
    public async Task A_missing_preset_of_a_stream_whose_container_ffmpeg_writes_is_warned_at_its_line_and_the_stream_starts()
    {
        var parsed = ConfigParser.Parse(
            "<Feed in.ffm>\n</Feed>\n<Stream live.asf>\nFeed in.ffm\nFormat asf\nAVPresetVideo nosuch\nVideoSize 320x240\nNoAudio\n</Stream>\n", "t.conf", presetFolders: []);
        Assert.True(parsed.Succeeded, string.Join("\n", parsed.Errors));

        var result = await EncoderCheck.RunAsync(parsed.Config!, TimeProvider.System);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var warning = Assert.Single(result.Warnings, w => w.Message.StartsWith("AVPresetVideo nosuch:", StringComparison.Ordinal));
        Assert.Equal(6, warning.Location.Line);
        Assert.StartsWith("AVPresetVideo nosuch: no preset file nosuch.ffpreset or msmpeg4-nosuch.ffpreset in ", warning.Message, StringComparison.Ordinal);
        Assert.EndsWith("; ffserver 3.4 said \"File for preset 'nosuch' not found\" and started without it, and so does Sluice", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vp6f")]
    [InlineData("VP6A")]
    public async Task A_vp6_stream_whose_container_ffmpeg_writes_is_refused_at_its_line_with_the_codecs_it_may_use(string codec)
    {
        var parsed = ConfigParser.Parse(
            $"<Feed in.ffm>\n</Feed>\n<Stream live.swf>\nFeed in.ffm\nFormat swf\nVideoSize 320x240\nVideoCodec {codec}\nNoAudio\n</Stream>\n", "t.conf", presetFolders: []);
        Assert.True(parsed.Succeeded, string.Join("\n", parsed.Errors));

        var result = await EncoderCheck.RunAsync(parsed.Config!, TimeProvider.System);

        var error = Assert.Single(result.Errors);
        Assert.Equal(7, error.Location.Line);
        Assert.Equal($"VideoCodec {codec}: ffmpeg has no VP6 encoder (its vp6, vp6f and vp6a are decoders), and no feed brings VP6 for 'VideoCodec copy' (Sluice's FLV, RTMP and Matroska readers do not read it); Format swf carries flv (Sorenson H.263, its default: leave VideoCodec out) or mjpeg", error.Message);
        Assert.Equal(0, result.FfmpegRefusals);
    }
}
