using System.Diagnostics;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>The sluice command with streams that need encoding: checked before serving, and no ffmpeg outlives it.</summary>
public sealed class EncoderStartupTests
{
    private static string Sluice => Path.Combine(AppContext.BaseDirectory, "sluice.dll");

    private static async Task<ProcessResult> RunWithConfigAsync(string text, Func<string, string[]>? args = null)
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-enc-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, text);
        try
        {
            var result = await ProcessRunner.RunAsync("dotnet", args?.Invoke(file) ?? [Sluice, "--config", file, "--port", "0"], TimeSpan.FromSeconds(60));
            return result with { StdErr = result.StdErr.Replace(file, "FILE", StringComparison.Ordinal) };
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_encoder_ffmpeg_does_not_have_stops_the_server_with_the_line_and_ffmpegs_message()
    {
        var result = await RunWithConfigAsync("<Feed f.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\nVideoCodec libnope\nVideoSize 320x240\n</Stream>\n");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FILE:5: VideoCodec libnope: ffmpeg has no encoder 'libnope' (ffmpeg: \"Codec 'libnope' is not recognized by FFmpeg.\")", result.StdErr);
        Assert.Contains("not starting", result.StdErr);
    }

    [Fact]
    public async Task An_option_value_the_encoder_refuses_is_reported_at_its_line()
    {
        var result = await RunWithConfigAsync("<Feed f.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\nVideoCodec libvpx\nVideoSize 320x240\nAVOptionVideo deadline sometime\n</Stream>\n",
            file => [Sluice, "--check", "-f", file]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FILE:7: <Stream s>: ffmpeg refuses these settings:", result.StdErr);
        Assert.Contains("deadline", result.StdErr);
    }

    [Fact]
    public async Task The_ffmpeg_of_a_format_it_writes_is_tried_at_start_up_and_its_refusal_stops_the_server()
    {
        var result = await RunWithConfigAsync(
            // 5 fps needs mpeg1video's unofficial rates; a stream that asks for ffmpeg's normal strictness refuses them.
            "<Feed f.ffm>\n</Feed>\n<Stream s.mpg>\nFeed f.ffm\nFormat mpeg\nVideoFrameRate 5\nVideoSize 320x240\nAVOptionVideo strict normal\n</Stream>\n" +
            "<Stream t.asf>\nFeed f.ffm\nFormat asf\n</Stream>\n",
            file => [Sluice, "--check", "-f", file]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FILE:3: <Stream s.mpg>: ffmpeg refuses these settings: [mpeg1video @", result.StdErr);
        Assert.Contains("MPEG-1/2 does not support 5/1 fps", result.StdErr);
        Assert.DoesNotContain("t.asf", result.StdErr);
    }

    [Fact]
    public async Task An_option_the_encoder_lacks_is_dropped_with_a_warning_and_a_codec_the_format_cannot_carry_is_an_error()
    {
        var result = await RunWithConfigAsync(
            "<Feed f.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\nAudioCodec libopus\nAVOptionAudio crf 20\n</Stream>\n" +
            "<Stream t>\nFormat webm\nFeed f.ffm\nVideoCodec libx264\n</Stream>\n",
            file => [Sluice, "--check", "-f", file]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FILE:6: warning: AVOptionAudio crf 20: encoder libopus has no option 'crf'", result.StdErr);
        Assert.Contains("FILE:11: VideoCodec libx264 makes h264, which Format webm cannot carry (it carries vp8, vp9, av1)", result.StdErr);
    }

    [Fact]
    public async Task The_legacy_codecs_of_ffserver_configs_pass_the_check_in_formats_that_carry_them_and_are_refused_with_the_formats_codecs_elsewhere()
    {
        const string video = "VideoSize 352x288\nVideoFrameRate 25\nNoAudio\n";
        var passing = await RunWithConfigAsync(
            "<Feed f.ffm>\n</Feed>\n" +
            $"<Stream a.flv>\nFeed f.ffm\nFormat flv\nVideoCodec flv\n{video}</Stream>\n" +
            $"<Stream b.ts>\nFeed f.ffm\nFormat mpegts\nVideoCodec mpeg4\n{video}</Stream>\n" +
            $"<Stream c.ts>\nFeed f.ffm\nFormat mpegts\nVideoCodec mpeg2video\n{video}</Stream>\n" +
            $"<Stream d.mp4>\nFeed f.ffm\nFormat mp4\nVideoCodec mpeg1video\n{video}</Stream>\n" +
            $"<Stream e.mkv>\nFeed f.ffm\nFormat matroska\nVideoCodec h263\n{video}</Stream>\n" +
            "<Stream f.ts>\nFeed f.ffm\nFormat mpegts\nAudioCodec mp2\nAudioSampleRate 48000\nNoVideo\n</Stream>\n",
            file => [Sluice, "--check", "-f", file]);
        Assert.True(passing.ExitCode == 0, passing.StdErr);
        Assert.DoesNotContain("cannot carry", passing.StdErr);

        var refused = await RunWithConfigAsync(
            "<Feed f.ffm>\n</Feed>\n" +
            $"<Stream a.ts>\nFeed f.ffm\nFormat mpegts\nVideoCodec h263\n{video}</Stream>\n" +
            "<Stream b.flv>\nFeed f.ffm\nFormat flv\nAudioCodec mp2\nNoVideo\n</Stream>\n",
            file => [Sluice, "--check", "-f", file]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("FILE:6: VideoCodec h263 makes h263, which Format mpegts cannot carry (it carries h264, hevc, mpeg4, mpeg1video, mpeg2video)", refused.StdErr);
        Assert.Contains("FILE:14: AudioCodec mp2 makes mp2, which Format flv cannot carry (it carries aac, mp3)", refused.StdErr);
    }

    [Fact]
    public async Task Killing_the_server_leaves_no_encoder_or_launched_feeder_behind()
    {
        int port = Ports.Free();
        string marker = $"sine=frequency={Random.Shared.Next(300, 3000)}";
        string file = Path.Combine(Path.GetTempPath(), $"sluice-kill-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, $"""
            HTTPPort {port}
            HTTPBindAddress 127.0.0.1
            <Feed f.ffm>
            Launch ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=320x240:rate=25 -re -f lavfi -i {marker} -c:v libx264 -preset veryfast -g 25 -c:a aac -f matroska
            </Feed>
            <Stream s>
            Feed f.ffm
            VideoCodec libvpx
            VideoSize 160x120
            AudioCodec libvorbis
            </Stream>
            <Stream stat.html>
            Format status
            </Stream>
            """);
        using var server = ProcessRunner.Start("dotnet", [Sluice, "-f", file]);
        try
        {
            int? encoder = null;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
            while (encoder is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                try
                {
                    using var json = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/stat.json"));
                    var encoders = json.RootElement.GetProperty("encoders");
                    if (encoders.GetArrayLength() == 1 && encoders[0].GetProperty("processId").ValueKind == JsonValueKind.Number)
                    {
                        encoder = encoders[0].GetProperty("processId").GetInt32();
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet, or one poll slower than 5 s on a loaded machine: the deadline decides.
                }
            }

            Assert.NotNull(encoder);
            var feeder = Processes.Children(server.Id).Single(p => p.CommandLine.Contains(marker, StringComparison.Ordinal));
            Assert.Contains(Processes.Children(server.Id), p => p.Pid == encoder);
            Assert.True(Processes.IsRunning(encoder.Value));

            server.Kill(); // SIGKILL: no shutdown code runs
            server.WaitForExit(5000);

            var gone = Stopwatch.StartNew();
            while ((Processes.IsRunning(encoder.Value) || Processes.IsRunning(feeder.Pid)) && gone.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50);
            }

            Assert.False(Processes.IsRunning(encoder.Value), "the encoder outlived the killed server");
            Assert.False(Processes.IsRunning(feeder.Pid), "the launched feeder outlived the killed server");
        }
        finally
        {
            ProcessRunner.Kill(server);
            File.Delete(file);
        }
    }
}
