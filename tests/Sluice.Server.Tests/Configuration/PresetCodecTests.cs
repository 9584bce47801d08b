using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

/// <summary>The vcodec= and acodec= lines of AVPresetVideo/AVPresetAudio files choose the codec, as ffserver 3.4 read them.</summary>
public sealed class PresetCodecTests : IDisposable
{
    private const string Feed = "<Feed f.ffm>\n</Feed>\n";
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"sluice-preset-codecs-{Guid.NewGuid():N}");

    public PresetCodecTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Preset(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    private ConfigParseResult Parse(string stream) =>
        ConfigParser.Parse(Feed + $"<Stream s.webm>\nFeed f.ffm\n{stream}\n</Stream>\n", "t.conf", [_folder]);

    private static string[] Warnings(ConfigParseResult result) =>
        [.. result.Warnings.Select(w => w.ToString()).Where(w => w.Contains("AVPreset", StringComparison.Ordinal))];

    [Fact]
    public void A_vcodec_line_chooses_the_codec_of_a_stream_that_names_none_at_the_preset_file_s_line()
    {
        var path = Preset("cam.ffpreset", "# the camera's\nvcodec=libvpx\ng=60\n");
        var result = Parse("VideoBitRate 300\nVideoSize 320x240\nVideoFrameRate 25\nAVPresetVideo cam\nNoAudio");

        Assert.Empty(result.Errors);
        Assert.Empty(Warnings(result));
        var video = result.Config!.Streams[0].Video;
        Assert.Equal("libvpx", video.Codec);
        Assert.Equal(new ConfigLocation(path, 2), video.CodecLocation);
        // The preset's options are still the encoder's (read by the encoders' check); only the codec line was taken here.
        Assert.Equal("cam", video.Preset);
    }

    [Fact]
    public void An_acodec_line_chooses_the_audio_codec()
    {
        Preset("radio.ffpreset", "acodec=libvorbis\nb=96k\n");
        var result = Parse("NoVideo\nAudioBitRate 96\nAudioSampleRate 44100\nAudioChannels 2\nAVPresetAudio radio");

        Assert.Empty(result.Errors);
        Assert.Equal("libvorbis", result.Config!.Streams[0].Audio.Codec);
    }

    [Fact]
    public void The_stream_s_own_codec_directive_wins_over_another_codec_in_the_preset_with_a_warning()
    {
        var path = Preset("cam.ffpreset", "vcodec=libx264\n");
        var result = Parse("VideoCodec libvpx\nVideoBitRate 300\nVideoSize 320x240\nVideoFrameRate 25\nAVPresetVideo cam\nNoAudio");

        Assert.Empty(result.Errors);
        Assert.Equal("libvpx", result.Config!.Streams[0].Video.Codec);
        Assert.Equal(
            [$"t.conf:9: AVPresetVideo cam: {path}:1 sets vcodec=libx264, but <Stream s.webm> names VideoCodec libvpx on line 5; ffserver 3.4 refused the config (\"Inconsistent configuration\"), Sluice encodes with libvpx, as the stream says"],
            Warnings(result));
    }

    [Fact]
    public void The_same_codec_in_the_stream_and_its_preset_written_either_way_is_no_conflict()
    {
        Preset("libvpx-cam.ffpreset", "vcodec=libvpx\ng=60\n");
        var result = Parse("VideoCodec vp8\nVideoBitRate 300\nVideoSize 320x240\nVideoFrameRate 25\nAVPresetVideo cam\nNoAudio");

        Assert.Empty(result.Errors);
        Assert.Empty(Warnings(result));
        Assert.Equal("vp8", result.Config!.Streams[0].Video.Codec);
    }

    [Fact]
    public void A_codec_line_of_the_other_kind_is_left_out_with_a_warning()
    {
        var path = Preset("cam.ffpreset", "acodec=libvorbis\ng=60\n");
        var result = Parse("VideoBitRate 300\nVideoSize 320x240\nVideoFrameRate 25\nAVPresetVideo cam\nNoAudio");

        Assert.Empty(result.Errors);
        Assert.Null(result.Config!.Streams[0].Video.Codec);
        Assert.Equal(
            [$"t.conf:8: AVPresetVideo cam: {path}:1 sets acodec=libvorbis, which a video preset cannot set; ffserver 3.4 refused the config (\"Option not found: 'acodec'\"), Sluice leaves the line out"],
            Warnings(result));
    }

    [Fact]
    public void A_stream_that_names_no_codec_finds_only_the_plain_preset_name_as_ffserver_did()
    {
        Preset("libx264-cam.ffpreset", "vcodec=libx264\n");
        var result = Parse("VideoBitRate 300\nVideoSize 320x240\nVideoFrameRate 25\nAVPresetVideo cam\nNoAudio");

        Assert.Empty(result.Errors);
        Assert.Null(result.Config!.Streams[0].Video.Codec);
    }

    [Fact]
    public void A_missing_preset_file_or_NoVideo_chooses_nothing_here()
    {
        Preset("cam.ffpreset", "vcodec=libx264\n");
        Assert.Null(Parse("VideoBitRate 300\nAVPresetVideo absent\nNoAudio").Config!.Streams[0].Video.Codec);
        Assert.Null(Parse("NoVideo\nAVPresetVideo cam\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 1").Config!.Streams[0].Video.Codec);
    }
}
