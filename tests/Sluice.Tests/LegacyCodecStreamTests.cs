using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// ffserver configs' codecs that are older than H.264: Sorenson H.263 in FLV, MPEG-4 Part 2 and MP2 in MPEG-TS,
/// encoded by Sluice's ffmpeg from an H.264 + AAC feed and served as the format asks; and feeds that bring such
/// codecs, passed through.
/// </summary>
public sealed class LegacyCodecStreamTests
{
    private const string ConfigText = """
        MaxClients 100
        MaxBandwidth 100000
        <Feed feed.ffm>
        FileMaxSize 2M
        ACL allow 127.0.0.1
        </Feed>
        <Stream flash.flv>
        Feed feed.ffm
        Format flv
        VideoCodec flv
        VideoSize 320x240
        VideoFrameRate 25
        VideoBitRate 400
        VideoGopSize 25
        AudioCodec libmp3lame
        AudioBitRate 64
        AudioSampleRate 44100
        AudioChannels 2
        </Stream>
        <Stream camera.ts>
        Feed feed.ffm
        Format mpegts
        VideoCodec mpeg4
        VideoSize 320x240
        VideoFrameRate 25
        VideoBitRate 400
        VideoGopSize 25
        NoAudio
        </Stream>
        <Stream radio.ts>
        Feed feed.ffm
        Format mpegts
        AudioCodec mp2
        AudioBitRate 128
        AudioSampleRate 48000
        AudioChannels 2
        NoVideo
        </Stream>
        """;

    [Fact]
    public async Task Sorenson_H263_in_FLV_MPEG_4_Part_2_in_MPEG_TS_and_MP2_in_MPEG_TS_are_served_with_their_codec_and_decode_cleanly()
    {
        await using var server = await TestServer.StartAsync(ConfigText);
        using var feeder = FfmpegPublisher.Start(server.Url("feed.ffm"), FfmpegPublisher.MatroskaH264Aac, rate: 25);
        foreach (var stream in new[] { "flash.flv", "camera.ts", "radio.ts" })
        {
            await Tools.WaitForStreamAsync(server, stream, TimeSpan.FromSeconds(40));
        }

        await Task.WhenAll(
            CheckAsync(server.Url("flash.flv"), ["video flv1 320x240", "audio mp3 44100 2"]),
            CheckAsync(server.Url("camera.ts"), ["video mpeg4 320x240"]),
            CheckAsync(server.Url("radio.ts"), ["audio mp2 48000 2"]));
        Assert.False(feeder.HasExited, feeder.StdErr);
    }

    private const string PassThroughConfig = """
        RTMPPort 1935
        MaxClients 100
        MaxBandwidth 100000
        <Feed dvb.ffm>
        ACL allow 127.0.0.1
        </Feed>
        <Feed flash.ffm>
        ACL allow 127.0.0.1
        </Feed>
        <Stream dvb.ts>
        Feed dvb.ffm
        Format mpegts
        </Stream>
        <Stream dvb.mkv>
        Feed dvb.ffm
        Format matroska
        </Stream>
        <Stream flash.flv>
        Feed flash.ffm
        Format flv
        </Stream>
        """;

    [Fact]
    public async Task Feeds_of_MPEG_2_video_and_MP2_over_HTTP_and_of_Sorenson_H263_over_RTMP_pass_through_to_viewers()
    {
        await using var server = await TestServer.StartAsync(PassThroughConfig);
        using var dvb = FfmpegPublisher.Start(server.Url("dvb.ffm"), ["-c:v", "mpeg2video", "-b:v", "1M", "-g", "25", "-c:a", "mp2", "-ac", "2", "-b:a", "128k", "-f", "mpegts"], rate: 25);
        using var flash = FfmpegPublisher.Start(server.RtmpUrl("live/flash.ffm"), ["-c:v", "flv", "-b:v", "500k", "-g", "25", "-c:a", "libmp3lame", "-ar", "44100", "-ac", "2", "-f", "flv"], rate: 25);
        foreach (var stream in new[] { "dvb.ts", "dvb.mkv", "flash.flv" })
        {
            await Tools.WaitForStreamAsync(server, stream, TimeSpan.FromSeconds(40));
        }

        await Task.WhenAll(
            CheckAsync(server.Url("dvb.ts"), ["video mpeg2video 320x240", "audio mp2 48000 2"]),
            CheckAsync(server.Url("dvb.mkv"), ["video mpeg2video 320x240", "audio mp2 48000 2"]),
            CheckAsync(server.Url("flash.flv"), ["video flv1 320x240", "audio mp3 44100 2"]),
            CheckAsync(server.RtmpUrl("live/flash.flv"), ["video flv1 320x240", "audio mp3 44100 2"]));
        Assert.False(dvb.HasExited, dvb.StdErr);
        Assert.False(flash.HasExited, flash.StdErr);
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("encoding with ffmpeg", StringComparison.Ordinal));
    }

    private static async Task CheckAsync(string url, string[] expected)
    {
        var probe = await Tools.ProbeStreamsAsync(url);
        Assert.True(probe.ExitCode == 0, $"ffprobe {url}: {probe.StdErr}");
        using (var json = JsonDocument.Parse(probe.StdOut))
        {
            var streams = json.RootElement.GetProperty("streams").EnumerateArray()
                .Select(s => s.GetProperty("codec_type").GetString() == "video"
                    ? $"video {s.GetProperty("codec_name").GetString()} {s.GetProperty("width").GetInt32()}x{s.GetProperty("height").GetInt32()}"
                    : $"audio {s.GetProperty("codec_name").GetString()} {s.GetProperty("sample_rate").GetString()} {s.GetProperty("channels").GetInt32()}")
                .ToList();
            Assert.Equal(expected, streams);
        }

        // Four seconds of it, live, decoded with no error.
        var decoded = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-i", url, "-t", "4", "-f", "null", "-"], TimeSpan.FromSeconds(40));
        Assert.True(decoded.ExitCode == 0, $"ffmpeg {url}: exit {decoded.ExitCode}: {decoded.StdErr}");
        Assert.Equal("", decoded.StdErr.Trim());
    }
}
