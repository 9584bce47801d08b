using System.Net;
using System.Net.Http;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// ffserver.conf constructs that ffserver 3.4 started with (tests/Sluice.Tests/Configs/): `sluice --check` starts on each
/// with exactly the warnings below; a stream named with '/' serves at that path; a relative redirect answers as written.
/// </summary>
public sealed class Ffserver34ConfigTests
{
    private static string Sluice => Path.Combine(AppContext.BaseDirectory, "sluice.dll");

    private static string ConfigPath(string name) => Path.Combine(Configs.RepoRoot, "tests", "Sluice.Tests", "Configs", name);

    public static TheoryData<string, string[]> CheckedConfigs => new()
    {
        {
            "comments.conf",
            [
                "6: warning: ffserver 3.4 took '#' as the last address of the range, refused this line and applied no rule, so the feed took any publisher this line was meant to limit; Sluice reads '# Allowed IPs' as a comment and reads the line as 'ACL allow 127.0.0.1'",
                "8: warning: ffserver 3.4 took '#' as the number of the deprecated 'Truncate N', read it as 0 and did not truncate the feed; Sluice reads '# start empty' as a comment and reads the line as 'Truncate'",
                "9: warning: ffserver 3.4 passed '#' and every word after it to the program as arguments; Sluice reads '# the test pattern' as a comment and reads the line as 'Launch ffmpeg -f lavfi -i testsrc -f webm'",
                "16: warning: ffserver 3.4 took '#' as the author; Sluice reads '# to do' as a comment and ignores this line (quote a value that begins with #)",
                "configuration is valid (1 feeds, 1 streams).",
            ]
        },
        {
            "names.conf",
            [
                "2: warning: RTSPPort is not supported; RTSP is not served (streams are served over HTTP only)",
                "10: warning: Format rtp: RTSP/RTP is not served yet, so <Stream live/cam_1080.rtsp> is skipped (the other streams are served)",
                "14: warning: Format rtsp: RTSP/RTP is not served yet, so <Stream cam.sdp> is skipped (the other streams are served)",
                "19: warning: '<Redirect index.html>>' has more than one closing '>'; ffserver 3.4 named it 'index.html>', a URL no client asks for, Sluice names it 'index.html'",
                "configuration is valid (1 feeds, 2 streams).",
            ]
        },
        {
            "files.conf",
            [
                "6: warning: File inside <Stream> is not read when the stream has a Feed: the stream reads its Feed, as ffserver 3.4 did (3 times, on lines 6, 11, 16)",
                "7: warning: Strict is not supported; encoders run with ffmpeg's default strictness, but mpeg1video at a frame rate MPEG-1 lacks, which gets -strict unofficial (3 times, on lines 7, 12, 17)",
                "configuration is valid (1 feeds, 3 streams).",
            ]
        },
        {
            "mpeg.conf",
            [
                "4: warning: <Stream cam.mpg> sets no VideoFrameRate; using ffserver's default 5 fps (add VideoFrameRate, or NoDefaults to turn defaults off)",
                "13: warning: <Stream slow.mpg>: VideoFrameRate 7: MPEG-1 video has no 7 fps, so ffmpeg's mpeg1video writes the nearest rate it has, 5 fps (it has 23.976, 24, 25, 29.97, 30, 50, 59.94, 60 and, with -strict unofficial, which Sluice passes, 5, 10, 12, 15)",
                "configuration is valid (1 feeds, 2 streams).",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(CheckedConfigs))]
    public async Task Check_starts_on_the_config_with_exactly_these_warnings(string name, string[] expected)
    {
        string file = ConfigPath(name);
        var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--check", "-f", file], TimeSpan.FromSeconds(60));
        Assert.False(result.TimedOut, result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
            expected.Select(line => line.StartsWith("configuration", StringComparison.Ordinal) ? $"sluice: {file}: {line}" : $"{file}:{line}"),
            lines);
    }

    [Fact]
    public async Task A_stream_named_with_a_slash_serves_webm_at_that_path_and_its_hls_below_it()
    {
        await using var server = await TestServer.StartAsync(Configs.Open() + """

            <Stream live/cam.webm> # the camera, under /live
            Feed livestream.ffm
            </Stream>
            """);
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "live/cam.webm", TimeSpan.FromSeconds(20));

        var probe = await ProcessRunner.RunAsync(
            "ffprobe",
            ["-v", "error", "-rw_timeout", "5000000", "-show_entries", "format=format_name:stream=codec_name", "-of", "json", server.Url("live/cam.webm")],
            TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, probe.ToString());
        using var json = JsonDocument.Parse(probe.StdOut);
        Assert.Equal("matroska,webm", json.RootElement.GetProperty("format").GetProperty("format_name").GetString());
        Assert.Contains("vp8", json.RootElement.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("codec_name").GetString()));

        var decoded = await Tools.DecodeAsync(server.Url("live/cam.webm"), 30);
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", decoded.ToString());

        // The HLS of the stream sits below its whole name: its segmenter answers (VP8 has no HLS form, so it says why).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var playlist = await http.GetAsync(server.Url("live/cam.webm/media.m3u8"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, playlist.StatusCode);
        Assert.StartsWith("Stream live/cam.webm has no HLS yet: its tracks (", await playlist.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(feeder.HasExited, feeder.StdErr);
    }

    [Fact]
    public async Task A_redirect_whose_url_is_only_a_comment_answers_404_with_the_reason()
    {
        await using var server = await TestServer.StartAsync(Configs.Open() + """

            <Redirect old>
            URL # the new site, soon
            </Redirect>
            """);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(server.Url("old"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal("The redirect old has no target: its URL in the server's configuration is only a comment.", (await response.Content.ReadAsStringAsync()).Trim());
    }

    [Theory]
    [InlineData("index.html", "status.html")]
    [InlineData("old", "url/")]
    public async Task A_relative_redirect_answers_with_the_url_as_written(string name, string url)
    {
        await using var server = await TestServer.StartAsync(Configs.Open() + """

            <Redirect index.html> # the old front page
            URL status.html
            </Redirect>
            <Redirect old>
            URL url/
            </Redirect>
            """);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(server.Url(name));
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(url, response.Headers.Location?.OriginalString);
    }
}
