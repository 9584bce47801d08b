using System.Net.Http;
using System.Net.Sockets;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>A real ffmpeg publishes H.264 + AAC over RTMP; real ffmpeg watches over HTTP and plays over RTMP.</summary>
public sealed class RtmpTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(20);

    /// <summary>What OBS and most recipes send: H.264 (a keyframe a second) and AAC in FLV.</summary>
    private static readonly string[] FlvH264Aac =
    [
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k", "-f", "flv",
    ];

    private static string Config(string extraFeed = "") => $"""
        RTMPPort 1935
        MaxClients 100
        MaxBandwidth 100000
        <Feed livestream.ffm>
        ACL allow 127.0.0.1
        {extraFeed}
        </Feed>
        <Stream live.ts>
        Feed livestream.ffm
        Format mpegts
        </Stream>
        <Stream live.flv>
        Feed livestream.ffm
        Format flv
        </Stream>
        """;

    [Fact]
    public async Task Ffmpeg_publishes_over_RTMP_and_viewers_decode_it_over_HTTP_and_RTMP()
    {
        await using var server = await TestServer.StartAsync(Config());
        using var feeder = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac);
        await Tools.WaitForStreamAsync(server, "live.ts", Startup);

        var results = await Task.WhenAll(
            Tools.DecodeAsync(server.Url("live.ts"), 60),
            Tools.DecodeAsync(server.Url("live.flv"), 60),
            Tools.DecodeAsync(server.RtmpUrl("live/live.flv"), 60),
            Tools.DecodeAsync(server.RtmpUrl("live/live.ts"), 60));

        foreach (var result in results)
        {
            Assert.False(result.TimedOut, result.ToString());
            Assert.Equal(0, result.ExitCode);
            Assert.Equal("", result.StdErr.Trim());
        }

        Assert.False(feeder.HasExited, feeder.StdErr);
        Assert.Contains(server.Log.Lines, l => l.Contains("Feed livestream.ffm: publisher 127.0.0.1 connected (RTMP, app live", StringComparison.Ordinal));
        Assert.Contains(server.Log.Lines, l => l.Contains("Stream live.flv: RTMP player 127.0.0.1 connected", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_player_starts_at_a_keyframe_with_the_sequence_headers_first()
    {
        await using var server = await TestServer.StartAsync(Config());
        using var feeder = FfmpegPublisher.Start(server.RtmpUrl("live/livestream.ffm"), FlvH264Aac);
        await Tools.WaitForStreamAsync(server, "live.ts", Startup);

        var packets = await Tools.FirstVideoPacketsAsync(server.RtmpUrl("live/live.ts"), 5);

        Assert.Equal(0, packets.ExitCode);
        var flags = packets.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(flags.Length >= 5, packets.ToString());
        Assert.StartsWith("K", flags[0].Split(',')[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_or_missing_publish_key_is_refused_with_an_error_status()
    {
        await using var server = await TestServer.StartAsync(Config("PublishKey s3cret"));

        using (var wrong = FfmpegPublisher.Start(server.RtmpUrl("live/livestream?key=nope"), FlvH264Aac, seconds: 5))
        {
            Assert.True(await wrong.WaitForExitAsync(TimeSpan.FromSeconds(15)), "ffmpeg with a wrong key did not exit");
            Assert.NotEqual(0, wrong.ExitCode);
            Assert.True(wrong.StdErr.Contains("NetStream.Publish.Denied: Wrong publish key for livestream.ffm", StringComparison.Ordinal), wrong.StdErr + string.Join("\n", server.Log.Lines));
        }

        using (var missing = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac, seconds: 5))
        {
            Assert.True(await missing.WaitForExitAsync(TimeSpan.FromSeconds(15)), "ffmpeg without a key did not exit");
            Assert.NotEqual(0, missing.ExitCode);
            Assert.Contains("NetStream.Publish.Denied: Publishing to livestream.ffm needs its publish key", missing.StdErr, StringComparison.Ordinal);
        }

        await server.Log.WaitForAsync("refused publisher of livestream.ffm: NetStream.Publish.Denied: Wrong publish key", TimeSpan.FromSeconds(5));

        // HTTP publishers give the same key the same way.
        using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            using var noKey = await client.PostAsync(server.Url("livestream.ffm"), new ByteArrayContent([0x1A, 0x45, 0xDF, 0xA3]));
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, noKey.StatusCode);
            using var withKey = await client.PostAsync(server.Url("livestream.ffm?key=s3cret"), new ByteArrayContent([0x1A, 0x45, 0xDF, 0xA3]));
            Assert.NotEqual(System.Net.HttpStatusCode.Forbidden, withKey.StatusCode);
        }

        using var right = FfmpegPublisher.Start(server.RtmpUrl("live/livestream.ffm?key=s3cret"), FlvH264Aac);
        await Tools.WaitForStreamAsync(server, "live.ts", Startup);
        var result = await Tools.DecodeAsync(server.Url("live.ts"), 30);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_launched_feeder_is_given_the_feed_s_publish_key()
    {
        await using var server = await TestServer.StartAsync(Config(
            "PublishKey s3cret\nLaunch ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=160x120:rate=30 -c:v libx264 -preset veryfast -g 30 -pix_fmt yuv420p -f mpegts"));
        await Tools.WaitForStreamAsync(server, "live.ts", Startup);
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("refused publisher", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_publisher_and_an_unknown_feed_are_refused()
    {
        await using var server = await TestServer.StartAsync(Config());
        using var first = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac);
        await Tools.WaitForStreamAsync(server, "live.ts", Startup);

        using (var second = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac, seconds: 5))
        {
            Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the second publisher did not exit");
            Assert.NotEqual(0, second.ExitCode);
            Assert.Contains("NetStream.Publish.BadName: livestream.ffm is already being published (from 127.0.0.1 via RTMP", second.StdErr, StringComparison.Ordinal);
        }

        using (var unknown = FfmpegPublisher.Start(server.RtmpUrl("live/nosuchfeed"), FlvH264Aac, seconds: 5))
        {
            Assert.True(await unknown.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the publisher of an unknown feed did not exit");
            Assert.Contains("NetStream.Publish.BadName: No feed is named nosuchfeed", unknown.StdErr, StringComparison.Ordinal);
        }

        var play = await Tools.DecodeAsync(server.RtmpUrl("live/nosuchstream"), 10);
        Assert.NotEqual(0, play.ExitCode);
        Assert.Contains("NetStream.Play.StreamNotFound", play.StdErr, StringComparison.Ordinal);

        // The first publisher was not disturbed.
        Assert.False(first.HasExited, first.StdErr);
        var result = await Tools.DecodeAsync(server.Url("live.ts"), 30);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Viewers_connected_before_a_publisher_is_killed_keep_receiving_frames_from_the_next_one()
    {
        await using var server = await TestServer.StartAsync(Config());
        var feeder = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac);
        try
        {
            await Tools.WaitForStreamAsync(server, "live.ts", Startup);

            // 300 frames at 30 fps: more than the first publisher sends while this viewer watches.
            var viewer = Tools.DecodeAsync(server.Url("live.ts"), 300, TimeSpan.FromSeconds(40));
            await server.Log.WaitForAsync("Stream live.ts", TimeSpan.FromSeconds(5));
            await Task.Delay(1000);
            feeder.Dispose();
            await server.Log.WaitForAsync("RTMP 127.0.0.1: publisher of feed livestream.ffm disconnected: it closed the connection without unpublishing", TimeSpan.FromSeconds(15));

            feeder = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac);
            await server.Log.WaitForAsync("(same as before: viewers continue)", Startup);

            var result = await viewer;
            Assert.False(result.TimedOut, result.ToString());
            Assert.Equal(0, result.ExitCode);
        }
        finally
        {
            feeder.Dispose();
        }
    }

    [Fact]
    public async Task A_publisher_that_sends_garbage_or_stops_mid_message_is_disconnected_with_the_reason()
    {
        await using var server = await TestServer.StartAsync(Config());
        using var feeder = FfmpegPublisher.Start(server.RtmpUrl("live/livestream"), FlvH264Aac);
        await Tools.WaitForStreamAsync(server, "live.ts", Startup);

        // Not RTMP at all.
        await SendAsync(server, "GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        await server.Log.WaitForAsync("C0 version 71 is not RTMP (3)", TimeSpan.FromSeconds(5));

        // A handshake, then a message announced as 16 MiB.
        await SendAsync(server, [.. Handshake(), 0x03, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20, 0, 0, 0, 0]);
        await server.Log.WaitForAsync("a message of 16777215 bytes on chunk stream 3 exceeds the limit", TimeSpan.FromSeconds(5));

        // A handshake, then the first half of a 100-byte message, then the end of the connection.
        await SendAsync(server, [.. Handshake(), 0x03, 0, 0, 0, 0, 0, 100, 20, 0, 0, 0, 0, .. new byte[50]]);
        await server.Log.WaitForAsync("the connection closed in the middle of a message", TimeSpan.FromSeconds(5));

        var result = await Tools.DecodeAsync(server.Url("live.ts"), 30);
        Assert.Equal(0, result.ExitCode);
        Assert.False(feeder.HasExited, feeder.StdErr);
    }

    [Fact]
    public async Task A_publisher_that_goes_silent_is_dropped_after_the_idle_timeout()
    {
        await using var server = await TestServer.StartAsync(Config());
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.RtmpPort!.Value);
        var stream = client.GetStream();
        await stream.WriteAsync(Handshake().AsMemory(0, 100));
        // Before it publishes, the deadline from accept (RequestHeaderTimeout, 10 s) closes it, however it drips.
        await server.Log.WaitForAsync("it did not publish or play within 10 s of connecting", TimeSpan.FromSeconds(15));
    }

    /// <summary>
    /// Enhanced RTMP, as OBS 30+ sends H.265: a publisher (written here; Debian's ffmpeg 5.1 has no Enhanced RTMP
    /// output) announces 'hvc1' in connect and sends ExVideoTagHeader messages; HTTP viewers get H.265 that ffmpeg
    /// decodes. (In FLV and over RTMP it goes out as Enhanced FLV/RTMP, which ffmpeg 5.1 cannot read: that direction
    /// is checked at the message level in the media tests.)
    /// </summary>
    [Fact]
    public async Task An_Enhanced_RTMP_publisher_of_H265_is_taken_and_viewers_decode_it()
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-hevc-{Guid.NewGuid():N}.mkv");
        var encode = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "12", "-c:v", "libx265", "-x265-params", "keyint=25:bframes=0:log-level=error",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-y", file], TimeSpan.FromSeconds(60));
        Assert.True(encode.ExitCode == 0, encode.ToString());
        var source = new PacketList();
        var demuxer = new Sluice.Media.Formats.Matroska.MatroskaDemuxer();
        demuxer.Read(new System.Buffers.ReadOnlySequence<byte>(await File.ReadAllBytesAsync(file)), source);
        File.Delete(file);
        Assert.Equal([Sluice.Media.CodecId.H265, Sluice.Media.CodecId.AAC], source.Tracks.Select(t => t.Codec));

        await using var server = await TestServer.StartAsync(Config());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.RtmpPort!.Value, cts.Token);
        var net = client.GetStream();
        await net.WriteAsync((byte[])[3, .. new byte[1536]], cts.Token);
        byte[] answer = new byte[1 + 2 * 1536];
        await net.ReadExactlyAsync(answer, cts.Token);
        await net.WriteAsync(answer.AsMemory(1, 1536), cts.Token); // C2 echoes S1
        var drain = Task.Run(async () =>
        {
            var sink = new byte[65536];
            try
            {
                while (await net.ReadAsync(sink, cts.Token) > 0)
                {
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // the test is over
            }
        });

        const int chunk = Sluice.Media.Formats.Rtmp.Rtmp.OutgoingChunkSize;
        var commands = new System.Buffers.ArrayBufferWriter<byte>();
        Sluice.Media.Formats.Rtmp.RtmpChunkWriter.WriteControl(commands, Sluice.Media.Formats.Rtmp.Rtmp.SetChunkSize, chunk, Sluice.Media.Formats.Rtmp.Rtmp.DefaultChunkSize);
        void Command(uint streamId, byte[] payload) => Sluice.Media.Formats.Rtmp.RtmpChunkWriter.Write(
            commands, Sluice.Media.Formats.Rtmp.Rtmp.CommandChunkStream, Sluice.Media.Formats.Rtmp.Rtmp.CommandAmf0, streamId, 0, payload, chunk);
        Command(0, Sluice.Media.Formats.Rtmp.RtmpCommand.Build("connect", 1, new Dictionary<string, object?>
        {
            ["app"] = "live", ["type"] = "nonprivate", ["tcUrl"] = server.RtmpUrl("live"), ["fourCcList"] = "hvc1",
        }));
        Command(0, Sluice.Media.Formats.Rtmp.RtmpCommand.Build("createStream", 2, null));
        Command(1, Sluice.Media.Formats.Rtmp.RtmpCommand.Build("publish", 3, null, "livestream", "live"));
        await net.WriteAsync(commands.WrittenMemory, cts.Token);
        await server.Log.WaitForAsync("Feed livestream.ffm: publisher 127.0.0.1 connected (RTMP", TimeSpan.FromSeconds(10));

        // The sequence headers, then the packets at their own pace, as a live encoder sends them.
        var muxer = new Sluice.Media.Formats.Rtmp.RtmpMuxer(source.Tracks);
        await net.WriteAsync(muxer.Header, cts.Token);
        var publishing = Task.Run(async () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long first = source.Packets[0].Dts;
            foreach (var packet in source.Packets)
            {
                var due = TimeSpan.FromSeconds((packet.Dts - first) / 90000.0);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed, cts.Token);
                }

                await net.WriteAsync(muxer.Write(packet).Prefix, cts.Token);
            }
        });

        await Tools.WaitForStreamAsync(server, "live.ts", Startup);
        var probe = await Tools.ProbeStreamsAsync(server.Url("live.ts"));
        Assert.Contains("\"codec_name\": \"hevc\"", probe.StdOut);
        var result = await Tools.DecodeAsync(server.Url("live.ts"), 60);
        Assert.False(result.TimedOut, result.ToString());
        Assert.True(result.ExitCode == 0 && result.StdErr.Trim() == "", result.ToString());

        Assert.False(publishing.IsFaulted, publishing.Exception?.ToString());
        Assert.Contains(server.Log.Lines, l => l.Contains("Feed livestream.ffm: tracks #0 video hevc 320x240", StringComparison.Ordinal));
        await cts.CancelAsync();
        client.Close();
        await Task.WhenAll(publishing, drain).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>What a demuxer reads from a file: the tracks and every packet.</summary>
    private sealed class PacketList : Sluice.Media.IPacketSink
    {
        public IReadOnlyList<Sluice.Media.TrackInfo> Tracks { get; private set; } = [];

        public List<Sluice.Media.MediaPacket> Packets { get; } = [];

        public void OnTracks(IReadOnlyList<Sluice.Media.TrackInfo> tracks) => Tracks = tracks;

        public void Accept(Sluice.Media.MediaPacket packet) => Packets.Add(packet);
    }

    /// <summary>C0, C1 and C2 of a plain handshake.</summary>
    private static byte[] Handshake() => [3, .. new byte[1536], .. new byte[1536]];

    private static async Task SendAsync(TestServer server, byte[] bytes)
    {
        using var client = new TcpClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync("127.0.0.1", server.RtmpPort!.Value, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(bytes, cts.Token);
        client.Client.Shutdown(SocketShutdown.Send);
        var sink = new byte[65536];
        try
        {
            while (await stream.ReadAsync(sink, cts.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // The server closed the connection at once.
        }
    }
}
