using Sluice.Media.Buffers;
using Sluice.Tests.Support;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// Every pooled block the server lends comes back: publishers over HTTP and RTMP, progressive viewers, an RTMP player,
/// HLS players (CMAF and MPEG-TS segments) and a stream ffmpeg encodes, and once they have all gone and the server has
/// stopped, the pool has nothing outstanding (docs/ownership.md).
/// </summary>
public sealed class BufferOwnershipTests(ITestOutputHelper output)
{
    private static readonly string[] FlvH264Aac =
    [
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-f", "flv",
    ];

    private const string Config = """
        RTMPPort 1935
        MaxClients 100
        MaxBandwidth 1000000
        <Feed in.ffm>
        FileMaxSize 1M
        </Feed>
        <Feed rtmp.ffm>
        ACL allow 127.0.0.1
        </Feed>
        <Stream live.ts>
        Feed in.ffm
        Format mpegts
        HLSFormat fmp4
        HLSSegmentDuration 1
        HLSListSize 3
        </Stream>
        <Stream live.mkv>
        Feed in.ffm
        Format matroska
        HLS off
        </Stream>
        <Stream small.ts>
        Feed in.ffm
        Format mpegts
        HLS off
        VideoCodec libx264
        VideoSize 160x120
        VideoFrameRate 30
        VideoBitRate 200
        AudioCodec aac
        AudioBitRate 64
        </Stream>
        <Stream pushed.flv>
        Feed rtmp.ffm
        Format flv
        HLSFormat ts
        HLSSegmentDuration 1
        HLSListSize 3
        </Stream>
        """;

    [Fact]
    public async Task Once_every_viewer_player_encoder_and_publisher_has_gone_every_block_is_back_in_the_pool()
    {
        BlockPool pool;
        long start;
        await using (var server = await TestServer.StartAsync(Config))
        {
            pool = server.Server.Buffers;
            pool.TrackLeaks = true;
            pool.CaptureRentStacks = true;
            start = pool.Outstanding;

            using var http = FfmpegPublisher.Start(server.Url("in.ffm"), FfmpegPublisher.MatroskaH264Aac, seconds: 14);
            using var rtmp = FfmpegPublisher.Start(server.RtmpUrl("live/rtmp"), FlvH264Aac, seconds: 14);
            await Tools.WaitForStreamAsync(server, "live.ts", TimeSpan.FromSeconds(20));
            await Tools.WaitForStreamAsync(server, "pushed.flv", TimeSpan.FromSeconds(20));
            await Tools.WaitForStreamAsync(server, "small.ts", TimeSpan.FromSeconds(30));

            var readers = await Task.WhenAll(
                Tools.DecodeAsync(server.Url("live.ts"), 150, TimeSpan.FromSeconds(40)),
                Tools.DecodeAsync(server.Url("live.mkv"), 150, TimeSpan.FromSeconds(40)),
                Tools.DecodeAsync(server.Url("small.ts"), 90, TimeSpan.FromSeconds(40)),
                Tools.DecodeAsync(server.Url("pushed.flv"), 90, TimeSpan.FromSeconds(40)),
                Tools.DecodeAsync(server.RtmpUrl("live/pushed.flv"), 90, TimeSpan.FromSeconds(40)),
                Tools.DecodeAsync(server.Url("live.ts/index.m3u8"), 60, TimeSpan.FromSeconds(40)),
                Tools.DecodeAsync(server.Url("pushed.flv/index.m3u8"), 60, TimeSpan.FromSeconds(40)),
                Tools.ProbeStreamsAsync(server.Url("live.ts/index.m3u8")));
            foreach (var reader in readers)
            {
                Assert.True(!reader.TimedOut && reader.ExitCode == 0 && reader.StdErr.Trim() == "", reader.ToString());
            }

            // A viewer that leaves in the middle of a chunk batch, and one that never reads what it asked for.
            using (var client = new HttpClient())
            using (var response = await client.GetAsync(server.Url("live.mkv"), HttpCompletionOption.ResponseHeadersRead))
            {
                await using var body = await response.Content.ReadAsStreamAsync();
                await body.ReadExactlyAsync(new byte[64 * 1024]);
            }

            await WaitForExitAsync(http, TimeSpan.FromSeconds(30));
            await WaitForExitAsync(rtmp, TimeSpan.FromSeconds(30));
            output.WriteLine($"publishers gone: {pool.DescribeOutstanding(0)}");
            Assert.True(pool.Outstanding > start, "the rings keep the last GOP for the next viewer while the server runs");
        }

        // The server has stopped: its rings, segments and encoders have let go; a release on a socket thread may finish late.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (pool.Outstanding != start && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        output.WriteLine($"server stopped: {pool.DescribeOutstanding(0)}");
        Assert.True(pool.Outstanding == start, pool.DescribeOutstanding());
    }

    private static async Task WaitForExitAsync(FfmpegPublisher feeder, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!feeder.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(feeder.HasExited, "the publisher did not end");
    }
}
