using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>Players of each format, for real: Chromium with mpegts.js, an &lt;img&gt; for MJPEG, ffmpeg and ffprobe.</summary>
public sealed class FormatPlaybackTests
{
    internal static Task<JsonElement> WatchAsync(string url, string kind, int seconds = 4) => Browser.RunAsync("watch.mjs", url, kind, seconds);

    [Fact]
    public async Task An_mpegts_feed_plays_in_Chromium_through_mpegts_js()
    {
        await using var server = await TestServer.StartAsync("MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 4M\n</Feed>\n<Stream live.ts>\nFeed in.ffm\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mpegts"]);
        await Tools.WaitForStreamAsync(server, "live.ts", TimeSpan.FromSeconds(20));
        await Task.Delay(2000);

        var watched = await WatchAsync(server.Url("live.ts"), "mpegts");
        Assert.Equal(320, watched.GetProperty("end").GetProperty("width").GetInt32());
        Assert.True(watched.GetProperty("advanced").GetDouble() >= 2.0, watched.ToString());
    }

    [Fact]
    public async Task A_fragmented_mp4_stream_plays_in_Chromium_through_media_source_extensions()
    {
        await using var server = await TestServer.StartAsync("MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 4M\n</Feed>\n<Stream live.mp4>\nFeed in.ffm\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "high", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "matroska", "-cluster_time_limit", "200", "-flush_packets", "1"]);
        await Tools.WaitForStreamAsync(server, "live.mp4", TimeSpan.FromSeconds(20));
        await Task.Delay(2000);

        var watched = await WatchAsync(server.Url("live.mp4"), "mse");
        Assert.Equal(320, watched.GetProperty("end").GetProperty("width").GetInt32());
        Assert.True(watched.GetProperty("advanced").GetDouble() >= 2.0, watched.ToString());
    }

    [Fact]
    public async Task A_vp8_feed_shows_as_moving_jpeg_in_an_img_and_as_a_snapshot()
    {
        await using var server = await TestServer.StartAsync(
            "MaxClients 100\nMaxBandwidth 100000\n<Feed in.ffm>\nFileMaxSize 4M\n</Feed>\n" +
            "<Stream cam.mjpg>\nFeed in.ffm\nNoAudio\nVideoFrameRate 10\nVideoSize 320x240\nVideoBitRate 2000\n</Stream>\n" +
            "<Stream snap.jpg>\nFeed in.ffm\nNoAudio\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"));
        await Tools.WaitForStreamAsync(server, "cam.mjpg", TimeSpan.FromSeconds(30));

        var frames = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-f", "mpjpeg", "-i", server.Url("cam.mjpg"), "-frames:v", "10", "-f", "null", "-"], TimeSpan.FromSeconds(30));
        Assert.True(frames.ExitCode == 0 && frames.StdErr.Trim() == "", frames.ToString());

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        using var snapshot = await http.GetAsync(server.Url("snap.jpg"));
        Assert.Equal("image/jpeg", snapshot.Content.Headers.ContentType?.MediaType);
        byte[] jpeg = await snapshot.Content.ReadAsByteArrayAsync();
        Assert.Equal(jpeg.Length, snapshot.Content.Headers.ContentLength);
        Assert.Equal([0xFF, 0xD8], jpeg[..2]);
        string file = Path.Combine(Path.GetTempPath(), $"sluice-snap-{Guid.NewGuid():N}.jpg");
        await File.WriteAllBytesAsync(file, jpeg);
        try
        {
            var probe = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", file], TimeSpan.FromSeconds(10));
            Assert.Equal("mjpeg,320,240", probe.StdOut.Trim());
        }
        finally
        {
            File.Delete(file);
        }

        var watched = await WatchAsync(server.Url("cam.mjpg"), "img", 2);
        Assert.Equal(320, watched.GetProperty("end").GetProperty("width").GetInt32());
        Assert.Equal(240, watched.GetProperty("end").GetProperty("height").GetInt32());
    }
}
