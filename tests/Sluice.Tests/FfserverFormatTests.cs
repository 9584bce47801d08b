using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// The formats ffserver 3.4 streamed that no muxer of Sluice's wrote before: raw MJPEG and MPEG audio (Sluice's own
/// muxers) and MPEG-PS, ASF, SWF and ISMV (one ffmpeg per stream, its output cut at join points). Each stream, fed
/// H.264/AAC, is what ffprobe reads as that format with the configured (or ffserver's default) codecs, ffmpeg decodes
/// it without an error, and so does a viewer that joins later, at a later join point.
/// </summary>
public sealed class FfserverFormatTests
{
    public static TheoryData<string, string, string, string, string?> Streams => new()
    {
        // stream directives, ffprobe's format_name, codec names (video first), the name of the stream, the video's r_frame_rate when checked
        // ffmpeg reads JPEGs back to back (what its own mjpeg muxer writes) as jpeg_pipe.
        { "Format mjpeg\nNoAudio\nVideoSize 320x240\nVideoFrameRate 10\nVideoBitRate 2000", "jpeg_pipe", "mjpeg", "cam.raw", null },
        { "Format mp2\nNoVideo\nAudioCodec libmp3lame\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2", "mp3", "mp3", "radio.mp2", null },
        // ffmpeg's mp3 demuxer reads every MPEG audio layer: Layer II frames probe as format mp3, codec mp2.
        { "Format mp2\nNoVideo\nAudioCodec mp2\nAudioBitRate 128\nAudioSampleRate 44100\nAudioChannels 2", "mp3", "mp2", "layer2.mp2", null },
        { "Format mpeg\nVideoCodec mpeg1video\nVideoBitRate 800\nVideoSize 320x240\nVideoFrameRate 25\nAudioCodec mp2\nAudioBitRate 128\nAudioSampleRate 44100\nAudioChannels 2", "mpeg", "mpeg1video,mp2", "live.mpg", null },
        // ffserver's default 5 fps (no VideoFrameRate), which mpeg1video writes only with -strict unofficial.
        { "Format mpeg\nVideoBitRate 300\nVideoSize 320x240\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2", "mpeg", "mpeg1video,mp2", "slow.mpg", "5/1" },
        // AC-3 in the program stream's private stream 1: a later viewer's audio starts on a sync frame.
        { "Format mpeg\nVideoCodec mpeg1video\nVideoBitRate 800\nVideoSize 320x240\nVideoFrameRate 25\nAudioCodec ac3\nAudioBitRate 192\nAudioSampleRate 48000\nAudioChannels 2", "mpeg", "mpeg1video,ac3", "ac3.mpg", null },
        { "Format asf\nVideoBitRate 500\nVideoSize 320x240\nVideoFrameRate 25\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2", "asf", "msmpeg4v3,wmav2", "live.asf", null },
        { "Format swf\nVideoCodec flv\nVideoBitRate 500\nVideoSize 320x240\nVideoFrameRate 25\nAudioCodec libmp3lame\nAudioBitRate 64\nAudioSampleRate 22050\nAudioChannels 1", "swf", "flv1,mp3", "live.swf", null },
        { "Format ismv", "mov,mp4,m4a,3gp,3g2,mj2", "h264,aac", "live.ismv", null },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public async Task A_stream_of_the_format_probes_and_decodes_from_the_first_byte_for_a_first_and_a_later_viewer(string directives, string formatName, string codecs, string name, string? videoRate)
    {
        await using var server = await TestServer.StartAsync(
            $"MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 4M\n</Feed>\n<Stream {name}>\nFeed in.ffm\n{directives}\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), FfmpegPublisher.MatroskaH264Aac);
        await Tools.WaitForStreamAsync(server, name, TimeSpan.FromSeconds(30));
        string url = server.Url(name);

        var probe = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-show_entries", "stream=codec_name,codec_type,r_frame_rate:format=format_name", "-of", "json", url], TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, probe.ToString());
        using (var json = JsonDocument.Parse(probe.StdOut))
        {
            Assert.Equal(formatName, json.RootElement.GetProperty("format").GetProperty("format_name").GetString());
            var found = json.RootElement.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("codec_name").GetString()).Order();
            Assert.Equal(codecs.Split(',').Order(), found);
            if (videoRate is not null)
            {
                var video = json.RootElement.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("codec_type").GetString() == "video");
                Assert.Equal(videoRate, video.GetProperty("r_frame_rate").GetString());
            }
        }

        var first = await DecodeAsync(url);
        Assert.True(first.ExitCode == 0 && first.StdErr.Trim() == "", first.ToString());

        // A later viewer starts at a later join point than the output's first unit, and still decodes from its first byte.
        var output = server.Server.Streams[name].Output!;
        for (int waited = 0; output.Ring.LatestJoinPoint <= 0 && waited < 100; waited++)
        {
            await Task.Delay(100);
        }

        Assert.True(output.Ring.LatestJoinPoint > 0, $"no join point after the first unit within 10 s (latest: {output.Ring.LatestJoinPoint})");
        var later = await DecodeAsync(url);
        Assert.True(later.ExitCode == 0 && later.StdErr.Trim() == "", later.ToString());
        Assert.Same(output, server.Server.Streams[name].Output);
    }

    [Fact]
    public async Task The_ffmpeg_writing_a_stream_s_container_is_on_the_status_page_and_in_stat_json_with_its_process()
    {
        await using var server = await TestServer.StartAsync(
            "MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 4M\n</Feed>\n"
            + "<Stream live.asf>\nFeed in.ffm\nFormat asf\nVideoBitRate 300\nVideoSize 320x240\nVideoFrameRate 25\nAudioBitRate 64\nAudioSampleRate 44100\nAudioChannels 2\n</Stream>\n"
            + "<Stream stat.html>\nFormat status\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), FfmpegPublisher.MatroskaH264Aac);
        await Tools.WaitForStreamAsync(server, "live.asf", TimeSpan.FromSeconds(30));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var json = JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json")));
        var row = Assert.Single(json.RootElement.GetProperty("containerFfmpegs").EnumerateArray());
        Assert.Equal(("live.asf", "in.ffm", "asf", "running"), (row.GetProperty("stream").GetString(), row.GetProperty("feed").GetString(), row.GetProperty("format").GetString(), row.GetProperty("state").GetString()));
        Assert.Equal(1, row.GetProperty("starts").GetInt32());
        Assert.Equal(0, row.GetProperty("restarts").GetInt32());
        Assert.Equal(0, row.GetProperty("sameFailures").GetInt32());
        int pid = row.GetProperty("processId").GetInt32();
        using (var process = System.Diagnostics.Process.GetProcessById(pid))
        {
            Assert.Equal("ffmpeg", process.ProcessName);
        }

        Assert.StartsWith("ffmpeg ", row.GetProperty("command").GetString(), StringComparison.Ordinal);
        string html = await http.GetStringAsync(server.Url("stat.html"));
        Assert.Contains($"<tr><td>live.asf</td><td>in.ffm</td><td>asf</td><td>running</td><td class=n>{pid}</td><td class=n>1</td><td class=n>0</td><td class=n>0</td>", html, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> DecodeAsync(string url) =>
        ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-i", url, "-t", "2", "-f", "null", "-"], TimeSpan.FromSeconds(30));
}
