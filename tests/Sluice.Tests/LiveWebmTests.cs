using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>A real ffmpeg publishes WebM (VP8 + Vorbis); real ffmpeg/ffprobe watch.</summary>
public sealed class LiveWebmTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(20);

    /// <summary>Publishes the first bytes of a WebM by hand and returns the status the server answers.</summary>
    private static async Task<HttpStatusCode> PostEbmlHeadAsync(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var content = new ByteArrayContent([0x1A, 0x45, 0xDF, 0xA3]);
        using var response = await client.PostAsync(url, content);
        return response.StatusCode;
    }

    [Fact]
    public async Task Three_viewers_each_decode_60_frames_without_error()
    {
        await using var server = await TestServer.StartAsync(Configs.Open());
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", Startup);

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Tools.DecodeAsync(server.Url("livestream"), 60)));

        foreach (var result in results)
        {
            Assert.False(result.TimedOut, result.ToString());
            Assert.Equal(0, result.ExitCode);
            Assert.Equal("", result.StdErr.Trim());
        }

        Assert.False(feeder.HasExited, feeder.StdErr);
    }

    [Fact]
    public async Task A_publisher_may_use_PUT()
    {
        await using var server = await TestServer.StartAsync(Configs.Open());
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), extraInput: "-method PUT");
        await Tools.WaitForStreamAsync(server, "livestream", Startup);
        await server.Log.WaitForAsync("Feed livestream.ffm: publisher 127.0.0.1 connected (HTTP PUT)", TimeSpan.FromSeconds(5));

        var result = await Tools.DecodeAsync(server.Url("livestream"), 60);
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.StdErr.Trim() == "", result.StdErr);
    }

    [Fact]
    public async Task A_publisher_may_send_a_plain_body_ended_by_closing()
    {
        // ffmpeg -chunked_post 0: no Content-Length, no chunks, the body ends when ffmpeg closes.
        await using var server = await TestServer.StartAsync(Configs.Open());
        using (var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), extraInput: "-method PUT -chunked_post 0", seconds: 4))
        {
            await Tools.WaitForStreamAsync(server, "livestream", Startup);
            var result = await Tools.DecodeAsync(server.Url("livestream"), 60);
            Assert.Equal(0, result.ExitCode);
            Assert.True(result.StdErr.Trim() == "", result.StdErr);
            Assert.True(await feeder.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            Assert.Equal(0, feeder.ExitCode);
        }

        // ffmpeg closed after its last complete element: a normal end, not a broken feed.
        await server.Log.WaitForAsync("Feed livestream.ffm: publisher 127.0.0.1 finished after", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_publisher_may_send_a_body_with_Content_Length_instead_of_chunks()
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-put-{Guid.NewGuid():N}.webm");
        try
        {
            var made = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-f", "lavfi", "-i", "sine", "-t", "2",
                "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", "30", "-c:a", "libvorbis", "-f", "webm", file], TimeSpan.FromSeconds(30));
            Assert.Equal(0, made.ExitCode);
            await using var server = await TestServer.StartAsync(Configs.Open());
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
            long length = new FileInfo(file).Length;
            using var content = new StreamContent(File.OpenRead(file));
            content.Headers.ContentLength = length;
            using var response = await client.PutAsync(server.Url("livestream.ffm"), content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await server.Log.WaitForAsync($"Feed livestream.ffm: publisher 127.0.0.1 finished after {length} bytes", TimeSpan.FromSeconds(5));
            Assert.True(server.Server.Feeds["livestream.ffm"].PacketsReceived > 60 + 50);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Ffprobe_shows_the_feed_codecs_and_a_late_viewer_starts_at_a_keyframe()
    {
        await using var server = await TestServer.StartAsync(Configs.Open());
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", Startup);
        await Task.Delay(2500); // join in the middle of a GOP (30 frames = 1 s)

        var probe = await Tools.ProbeStreamsAsync(server.Url("livestream"));
        Assert.Equal(0, probe.ExitCode);
        using var json = JsonDocument.Parse(probe.StdOut);
        var streams = json.RootElement.GetProperty("streams").EnumerateArray().ToList();
        var video = streams.Single(s => s.GetProperty("codec_type").GetString() == "video");
        var audio = streams.Single(s => s.GetProperty("codec_type").GetString() == "audio");
        Assert.Equal("vp8", video.GetProperty("codec_name").GetString());
        Assert.Equal(320, video.GetProperty("width").GetInt32());
        Assert.Equal(240, video.GetProperty("height").GetInt32());
        Assert.Equal("vorbis", audio.GetProperty("codec_name").GetString());
        Assert.Equal(2, audio.GetProperty("channels").GetInt32());

        var packets = await Tools.FirstVideoPacketsAsync(server.Url("livestream"), 3);
        Assert.Equal(0, packets.ExitCode);
        var first = packets.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.Contains("K", first.Split(',')[1]);
    }

    [Fact]
    public async Task A_second_publisher_is_refused_with_409_and_the_first_goes_on()
    {
        await using var server = await TestServer.StartAsync(Configs.Open());
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", Startup);

        // A second ffmpeg fails (the server answers 409 and closes).
        using var second = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the second publisher was not refused");
        Assert.NotEqual(0, second.ExitCode);
        await server.Log.WaitForAsync("refused publisher 127.0.0.1: livestream.ffm is already being published (from 127.0.0.1 via HTTP", TimeSpan.FromSeconds(5));

        // The same by hand: the status code says what happened.
        Assert.Equal(HttpStatusCode.Conflict, await PostEbmlHeadAsync(server.Url("livestream.ffm")));

        Assert.False(feeder.HasExited, feeder.StdErr);
        var decoded = await Tools.DecodeAsync(server.Url("livestream"), 30);
        Assert.Equal(0, decoded.ExitCode);
    }

    [Fact]
    public async Task A_feed_from_an_address_outside_its_ACL_is_refused_with_403()
    {
        await using var server = await TestServer.StartAsync("""
            <Feed livestream.ffm>
            ACL allow 10.0.0.1 10.0.0.255
            </Feed>
            <Stream livestream>
            Feed livestream.ffm
            Format webm
            </Stream>
            """);
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        Assert.True(await feeder.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the refused publisher kept running");
        Assert.NotEqual(0, feeder.ExitCode);
        await server.Log.WaitForAsync("refused publisher 127.0.0.1: Publishing to livestream.ffm from 127.0.0.1 is not allowed by the feed's ACL", TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.Forbidden, await PostEbmlHeadAsync(server.Url("livestream.ffm")));
        Assert.Null(server.Server.Feeds["livestream.ffm"].CurrentPublisher);
    }

    [Fact]
    public async Task A_viewer_outside_the_streams_ACL_is_refused_with_403()
    {
        await using var server = await TestServer.StartAsync(Configs.Open(extraStream: "ACL allow 10.0.0.0 10.255.255.255"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync(server.Url("livestream"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("Stream livestream is not available to 127.0.0.1 (the stream's ACL, test.conf:", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task With_the_seed_config_a_second_viewer_is_refused_over_MaxBandwidth()
    {
        // The seed config, unchanged: MaxBandwidth 1000 kbit/s and a 512 + 128 kbit/s stream.
        await using var server = await TestServer.StartAsync(await File.ReadAllTextAsync(Configs.SeedPath), Configs.SeedPath);
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", Startup);

        await using var first = await RawViewer.OpenAsync(server.Url("livestream"), TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, first.Response!.StatusCode);
        Assert.True(await first.WaitForBytesAsync(10_000, TimeSpan.FromSeconds(10)));

        await using var second = await RawViewer.OpenAsync(server.Url("livestream"), TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.Response!.StatusCode);
        Assert.True(second.Response.Headers.Contains("Retry-After"));
        string reason = await second.Response.Content.ReadAsStringAsync();
        Assert.Equal("The bandwidth being served (including your stream) is 1280kbit/s, and this exceeds the limit of 1000kbit/s.\n", reason);

        long before = first.Bytes;
        Assert.True(await first.WaitForBytesAsync(before + 10_000, TimeSpan.FromSeconds(10)), "the first viewer stopped receiving");
    }

    [Fact]
    public async Task A_garbage_feed_is_disconnected_with_the_offset_and_viewers_of_other_feeds_go_on()
    {
        await using var server = await TestServer.StartAsync(Configs.Open(extraGlobal: """
            <Feed other.ffm>
            </Feed>
            """));
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", Startup);
        await using var viewer = await RawViewer.OpenAsync(server.Url("livestream"), TimeSpan.FromSeconds(10));
        Assert.True(await viewer.WaitForBytesAsync(10_000, TimeSpan.FromSeconds(10)));

        using var client = new HttpClient();
        // Not a container at all.
        using (var garbage = new ByteArrayContent(Encoding.ASCII.GetBytes("this is not a video stream at all")))
        using (var response = await client.PostAsync(server.Url("other.ffm"), garbage))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        await server.Log.WaitForAsync("Feed other.ffm: publisher 127.0.0.1 disconnected: the feed is not a container Sluice reads", TimeSpan.FromSeconds(5));

        // An EBML header followed by junk: the reason names the byte offset.
        var broken = new byte[] { 0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x82, 0x81, 0x77 }.Concat(Enumerable.Repeat((byte)0xFF, 64)).ToArray();
        using (var content = new ByteArrayContent(broken))
        using (var response = await client.PostAsync(server.Url("other.ffm"), content))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        var line = await server.Log.WaitForAsync("Feed other.ffm: publisher 127.0.0.1 disconnected: Matroska:", TimeSpan.FromSeconds(5));
        Assert.Contains("at byte", line);

        long before = viewer.Bytes;
        Assert.True(await viewer.WaitForBytesAsync(before + 10_000, TimeSpan.FromSeconds(10)), "the viewer stopped receiving");
        Assert.False(viewer.Ended);
        // Each refusal is its one line: no stack trace from Kestrel draining a body whose read was left open.
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("   at ", StringComparison.Ordinal) || l.Contains("draining", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task When_the_publisher_drops_and_comes_back_a_connected_viewer_decodes_across_the_gap()
    {
        await using var server = await TestServer.StartAsync(Configs.Open());
        var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", Startup);

        // 150 frames at 30 fps: about 2 s before the drop, the gap, and the rest after the return.
        var decoding = Tools.DecodeAsync(server.Url("livestream"), 150, TimeSpan.FromSeconds(40));
        await Task.Delay(2000);
        feeder.Dispose();
        await server.Log.WaitForAsync("Feed livestream.ffm: publisher 127.0.0.1 disconnected", TimeSpan.FromSeconds(10));
        await Task.Delay(1500);
        using var again = FfmpegPublisher.Start(server.Url("livestream.ffm"));

        var result = await decoding;
        Assert.False(result.TimedOut, result.ToString());
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.StdErr.Trim() == "", result.StdErr);
        Assert.True(server.Log.Contains("(same as before: viewers continue)"));
    }
}
