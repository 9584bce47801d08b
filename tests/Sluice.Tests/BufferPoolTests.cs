using System.Diagnostics;
using System.Text.Json;
using Sluice.Tests.Support;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>The server's pooled payload and framing blocks, with a real publisher, real viewers and real HLS players.</summary>
public sealed class BufferPoolTests(ITestOutputHelper output)
{
    /// <summary>16 Mbit/s of H.264 (filler NAL units make it dense at no encoding cost: ~66 KB a frame) + AAC in Matroska.</summary>
    private static readonly string[] DenseH264Aac =
    [
        "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p",
        "-b:v", "16M", "-minrate", "16M", "-maxrate", "16M", "-bufsize", "2M", "-x264-params", "nal-hrd=cbr:filler=1",
        "-c:a", "aac", "-b:a", "128k",
        "-f", "matroska", "-cluster_time_limit", "200", "-flush_packets", "1",
    ];

    /// <summary>
    /// Once the feed ring, the streams' chunk rings and the HLS segments are full, every block a new packet or chunk
    /// needs is one an evicted packet, chunk or segment gave back (after the viewers holding it had copied it out), so
    /// the server makes (almost) no new ones, encoder or not; and what the viewers and players get still decodes without an error,
    /// which a block lent again too early would break.
    /// </summary>
    [Fact]
    public async Task Once_the_rings_are_full_new_packets_take_blocks_that_viewers_rings_and_segments_gave_back()
    {
        await using var server = await TestServer.StartAsync(
            "MaxClients 100\nMaxBandwidth 1000000\n<Feed in.ffm>\nFileMaxSize 1M\n</Feed>\n" +
            "<Stream live.ts>\nFeed in.ffm\nFormat mpegts\nHLSFormat fmp4\nHLSSegmentDuration 1\nHLSListSize 3\n</Stream>\n" +
            "<Stream live.webm>\nFeed in.ffm\nFormat matroska\nHLS off\n</Stream>\n" +
            "<Stream small.ts>\nFeed in.ffm\nFormat mpegts\nHLS off\nVideoCodec libx264\nVideoSize 160x120\nVideoFrameRate 30\nVideoBitRate 200\nAudioCodec aac\nAudioBitRate 64\n</Stream>\n" +
            "<Stream stat.html>\nFormat status\n</Stream>\n");
        using var feeder = FfmpegPublisher.Start(server.Url("in.ffm"), DenseH264Aac, seconds: 40);
        await Tools.WaitForStreamAsync(server, "live.ts", TimeSpan.FromSeconds(20));

        // Viewers and players for the whole run: two progressive viewers, one of a stream ffmpeg encodes from the feed
        // (the encoder's input queue holds packets too), and ffmpeg on the HLS playlist, all decoding.
        var readers = new[]
        {
            ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "10000000", "-i", server.Url("live.ts"), "-t", "22", "-f", "null", "-"], TimeSpan.FromSeconds(60)),
            ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "10000000", "-i", server.Url("live.webm"), "-t", "22", "-f", "null", "-"], TimeSpan.FromSeconds(60)),
            ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "10000000", "-i", server.Url("live.ts/index.m3u8"), "-t", "12", "-f", "null", "-"], TimeSpan.FromSeconds(60)),
            ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "10000000", "-i", server.Url("small.ts"), "-t", "18", "-f", "null", "-"], TimeSpan.FromSeconds(60)),
        };

        // The rings (4 MiB of chunks per stream, the newest GOP of the feed) and 7 one-second segments fill in ~8 s.
        var pool = server.Server.Buffers;
        await Task.Delay(TimeSpan.FromSeconds(10));
        long lent = pool.Rented, made = pool.Created;
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(10));
        long lentSince = pool.Rented - lent, madeSince = pool.Created - made;
        output.WriteLine($"before: {lent} blocks lent, {made} made; over the next {clock.Elapsed.TotalSeconds:0.0} s: {lentSince} lent, {madeSince} made, {pool.FreeBytes / 1024} KiB free");
        Assert.True(lentSince >= 300, $"only {lentSince} blocks lent in 10 s of a 16 Mbit/s feed");
        Assert.True(madeSince * 10 < lentSince, $"{madeSince} of {lentSince} blocks lent in the steady state were new ones: something holds on to them");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using (var status = JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json"))))
        {
            var buffers = status.RootElement.GetProperty("buffers");
            Assert.True(buffers.GetProperty("blocksLent").GetInt64() >= lent + lentSince);
            Assert.True(buffers.GetProperty("blocksMade").GetInt64() >= made + madeSince);
        }

        foreach (var reader in await Task.WhenAll(readers))
        {
            Assert.True(reader.ExitCode == 0 && reader.StdErr.Trim() == "", reader.ToString());
        }
    }
}
