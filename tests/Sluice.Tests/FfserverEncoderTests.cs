using System.Text.Json;
using Sluice.Server.Transcoding;
using Sluice.Server.Configuration;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// Configs ffserver 3.4 started, on the encoder side: its defaults filled in, a missing preset file let go, the
/// encoder a Format needs checked before serving, and an encoder that fails at every run said once, shown on the
/// status page, and its viewers let go.
/// </summary>
public sealed class FfserverEncoderTests
{
    private static string Sluice => Path.Combine(AppContext.BaseDirectory, "sluice.dll");

    private static string Config(string stream) => $"""
        MaxClients 100
        MaxBandwidth 100000
        <Feed in.ffm>
        FileMaxSize 2M
        </Feed>
        {stream}
        <Stream stat.html>
        Format status
        </Stream>
        """;

    private static async Task<ProcessResult> CheckAsync(string text)
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-ffs-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, text);
        try
        {
            var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--check", "-f", file], TimeSpan.FromSeconds(60));
            return result with { StdErr = result.StdErr.Replace(file, "FILE", StringComparison.Ordinal) };
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_mjpeg_stream_with_a_buffer_size_and_no_maximum_rate_starts_and_its_viewer_gets_jpeg_frames()
    {
        await using var server = await TestServer.StartAsync(Config("<Stream cam.mjpg>\nFeed in.ffm\nFormat mpjpeg\nVideoCodec mjpeg\nVideoBufferSize 40\nNoAudio\n</Stream>"));
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), FfmpegPublisher.MatroskaH264Aac, seconds: 8);
        await Tools.WaitForStreamAsync(server, "cam.mjpg", TimeSpan.FromSeconds(30));

        var probe = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-f", "mpjpeg", "-read_intervals", "%+#3",
            "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", server.Url("cam.mjpg")], TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, probe.ToString());
        Assert.Equal("mjpeg,160,128", probe.StdOut.Trim());   // ffserver's default size, as 3.4 made it

        var frames = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-f", "mpjpeg",
            "-i", server.Url("cam.mjpg"), "-frames:v", "5", "-f", "null", "-"], TimeSpan.FromSeconds(30));
        Assert.True(frames.ExitCode == 0 && frames.StdErr.Trim() == "", frames.ToString());
        Assert.Contains(server.Log.Lines, l => l.Contains("-bufsize:v:0 327680 -maxrate:v:0 128k -bt:v:0 16000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_preset_file_starts_the_server_with_a_warning_at_the_preset_s_line()
    {
        await using var server = await ServerProcess.StartAsync(Config("<Stream s>\nFeed in.ffm\nFormat webm\nVideoCodec libvpx\nVideoSize 320x240\nAVPresetVideo nosuch\nNoAudio\n</Stream>"));

        string folders = string.Join(", ", EncoderPreset.Folders());
        string expected = $":11: warning: AVPresetVideo nosuch: no preset file nosuch.ffpreset or libvpx-nosuch.ffpreset in {folders}; "
            + "ffserver 3.4 said \"File for preset 'nosuch' not found\" and started without it, and so does Sluice";
        var line = Assert.Single(server.Output.Split('\n'), l => l.Contains("AVPresetVideo", StringComparison.Ordinal));
        Assert.Equal(server.ConfigPath + expected, line.TrimEnd());
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task The_encoder_a_format_needs_is_checked_at_start_up_and_the_refusal_says_whose_it_is()
    {
        // Format mpjpeg names no codec: every feed (H.264, VP8) is encoded with mjpeg, so mjpeg is tried now.
        var refused = await CheckAsync(Config("<Stream cam.mjpg>\nFeed in.ffm\nFormat mpjpeg\nVideoSize 320x240\nAVOptionVideo huffman nope\nNoAudio\n</Stream>"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("FILE:10: <Stream cam.mjpg>: ffmpeg refuses these settings:", refused.StdErr);
        Assert.Contains("huffman", refused.StdErr);
        Assert.Contains("sluice: ffmpeg refuses the encoder settings of 1 stream(s); not starting.", refused.StdErr);

        var own = await CheckAsync(Config("<Stream s>\nFeed in.ffm\nFormat webm\nVideoCodec libx264\nVideoSize 320x240\nNoAudio\n</Stream>"));
        Assert.Equal(1, own.ExitCode);
        Assert.Contains("FILE:9: VideoCodec libx264 makes h264, which Format webm cannot carry", own.StdErr);
        Assert.DoesNotContain("ffmpeg refuses", own.StdErr);
        Assert.Contains("sluice: Sluice refuses 1 encoder setting(s) it cannot run (each line above says why", own.StdErr);

        // Format webm names no codec: a VP8 feed passes, an H.264 one is encoded with libvpx, which is tried too,
        // and what ffmpeg refuses of it is a warning (the server starts: VP8 feeds work).
        var possible = await CheckAsync(Config("<Stream w>\nFeed in.ffm\nFormat webm\nAVOptionVideo deadline sometime\nNoAudio\n</Stream>"));
        Assert.Equal(0, possible.ExitCode);
        Assert.Contains("FILE:9: warning: <Stream w>: a feed whose codecs Format webm cannot carry is encoded with libvpx, and ffmpeg refuses these settings:", possible.StdErr);
        Assert.Contains("such a feed's viewers would get nothing", possible.StdErr);
    }

    [Fact]
    public async Task An_encoder_that_fails_at_every_run_is_logged_once_shown_as_failing_and_its_viewer_s_response_ends()
    {
        // An ffmpeg whose encoder runs fail, as one built without what the stream's settings need would: the real
        // ffmpeg, given a pixel format it does not know when it encodes a feed (stdin); the start-up check runs as usual.
        string bin = Path.Combine(Path.GetTempPath(), $"sluice-bin-{Guid.NewGuid():N}");
        Directory.CreateDirectory(bin);
        string wrapper = Path.Combine(bin, "ffmpeg");
        string ffmpeg = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':')
            .Select(d => Path.Combine(d, "ffmpeg")).First(File.Exists);
        await File.WriteAllTextAsync(wrapper, $$"""
            #!/bin/bash
            args=("$@")
            if [[ " ${args[*]} " == *" pipe:0 "* ]]; then
              last=${args[-1]}; unset 'args[-1]'
              exec {{ffmpeg}} "${args[@]}" -pix_fmt:v:0 nosuchformat "$last"
            fi
            exec {{ffmpeg}} "$@"
            """);
        Assert.Equal(0, (await ProcessRunner.RunAsync("chmod", ["+x", wrapper], TimeSpan.FromSeconds(10))).ExitCode);
        try
        {
            await using var server = await ServerProcess.StartAsync(
                Config("<Stream s>\nFeed in.ffm\nFormat webm\nVideoCodec libvpx\nVideoSize 320x240\nVideoFrameRate 25\nNoAudio\n</Stream>"),
                environment: new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" });
            using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), seconds: 10);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

            // The viewer waits for the stream's first packets; its response ends once the encoder is known to fail.
            var started = DateTime.UtcNow;
            var body = await http.GetByteArrayAsync(server.Url("s"));
            Assert.Empty(body);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));

            using var stat = JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json")));
            var encoder = stat.RootElement.GetProperty("encoders")[0];
            Assert.Equal("failing", encoder.GetProperty("state").GetString());
            Assert.Contains("nosuchformat", encoder.GetProperty("lastError").GetString());
            Assert.True(encoder.GetProperty("sameFailures").GetInt32() >= 2);
            var stream = stat.RootElement.GetProperty("streams").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "s");
            Assert.StartsWith("encoded (its encoder fails: ", stream.GetProperty("mode").GetString());

            // Let it restart a few more times (0.5, 1, 2 s apart): still one line of each kind.
            await Task.Delay(TimeSpan.FromSeconds(4));
            var lines = server.Output.Split('\n');
            Assert.Single(lines, l => l.Contains("fails the same way every time it starts", StringComparison.Ordinal) && l.Contains("nosuchformat", StringComparison.Ordinal));
            Assert.Single(lines, l => l.Contains("Unknown pixel format requested: nosuchformat", StringComparison.Ordinal) && l.Contains("encoder for streams s:", StringComparison.Ordinal));
            Assert.Single(lines, l => l.Contains("encoder started", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("of s: closing the response: the stream has nothing to send (its encoder fails: ", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }
}
