using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Sluice.Tests.Support;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// RTMP clients that never publish or play, against the real executable: they may hold no memory beyond what they
/// send, no time beyond RequestHeaderTimeout, and leave a line an interval in the log, not one each.
/// </summary>
[Collection(FloodCollection.Name)]
public sealed partial class RtmpFloodTests(ITestOutputHelper output)
{
    private static string Config(int rtmpPort, double headerTimeout = 10) => $"""
        HTTPBindAddress 127.0.0.1
        RTMPPort {rtmpPort}
        MaxHTTPConnections 3000
        MaxClients 3000
        MaxClientsPerAddress 3000
        MaxBandwidth 10000000
        RequestHeaderTimeout {headerTimeout}
        <Feed livestream.ffm>
        </Feed>
        <Stream live.ts>
        Feed livestream.ffm
        Format mpegts
        </Stream>
        """;

    [Fact]
    public async Task Clients_that_declare_two_8_MiB_messages_after_the_handshake_take_no_memory_and_a_publisher_still_gets_in()
    {
        int rtmp = Ports.Free();
        await using var server = await ServerProcess.StartAsync(Config(rtmp));
        await Task.Delay(2000);
        long baseline = server.RssKiB();

        var clients = await Task.WhenAll(Enumerable.Range(0, 150).Select(async _ =>
        {
            var socket = await HandshakeAsync(rtmp);
            // Two messages of 8 MiB begun on chunk streams 4 and 5, 128 bytes of each sent.
            foreach (byte csid in (byte[])[4, 5])
            {
                try
                {
                    await socket.SendAsync((byte[])[csid, 0, 0, 0, 0x80, 0, 0, 9, 1, 0, 0, 0, .. new byte[128]]);
                }
                catch (SocketException)
                {
                    // Closed at the first header already.
                }
            }

            return socket;
        }));
        await Task.Delay(1000);
        long during = server.RssKiB();
        int closedByServer = clients.Count(IsClosed);
        foreach (var socket in clients)
        {
            socket.Dispose();
        }

        // A real publisher and a viewer afterwards.
        using var feeder = FfmpegPublisher.Start($"rtmp://127.0.0.1:{rtmp}/live/livestream", ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p", "-f", "flv"], seconds: 20);
        await Task.Delay(3000);
        var decoded = await Tools.DecodeAsync(server.Url("live.ts"), 30);
        long after = server.RssKiB();
        output.WriteLine($"RSS {baseline / 1024} MiB before, {during / 1024} MiB with 150 clients, {after / 1024} MiB after; {closedByServer} of 150 closed by the server");

        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Length == 0, $"viewer: {decoded}\n{server.Output}");
        Assert.Equal(150, closedByServer);
        // Before the limits, 150 such clients took 2.3 GiB. A bound of 64 MiB over the baseline: the runtime's own noise.
        Assert.True(during - baseline < 64 * 1024, $"RSS {baseline / 1024} MiB before, {during / 1024} MiB with 150 clients");
        Assert.Contains("exceeds the limit of 65536 bytes", server.Output);
        // And after they closed, with a publisher and a viewer on it now: near the baseline still.
        Assert.True(after - baseline < 48 * 1024, $"RSS {baseline / 1024} MiB before, {after / 1024} MiB after");
    }

    [Fact]
    public async Task A_dripped_handshake_is_closed_at_RequestHeaderTimeout_and_1000_bad_clients_leave_a_few_lines()
    {
        int rtmp = Ports.Free();
        await using var server = await ServerProcess.StartAsync(Config(rtmp, headerTimeout: 2));
        using var drip = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await drip.ConnectAsync(IPAddress.Loopback, rtmp);
        // And one that never sends a byte (it never becomes a session: the accept's own sweep closes it).
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, rtmp);
        var started = DateTime.UtcNow;
        var silentClosed = Task.Run(async () =>
        {
            try
            {
                await silent.ReceiveAsync(new byte[16]);
            }
            catch (SocketException)
            {
            }

            return DateTime.UtcNow - started;
        });
        var closed = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                while (await drip.ReceiveAsync(buffer) > 0)
                {
                }
            }
            catch (SocketException)
            {
            }

            return DateTime.UtcNow - started;
        });
        await drip.SendAsync((byte[])[3]);
        while (!closed.IsCompleted && DateTime.UtcNow - started < TimeSpan.FromSeconds(8))
        {
            await Task.Delay(500);
            try
            {
                await drip.SendAsync((byte[])[0]);
            }
            catch (SocketException)
            {
                break;
            }
        }

        var lived = await closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(lived.TotalSeconds, 1.5, 6);
        Assert.InRange((await silentClosed.WaitAsync(TimeSpan.FromSeconds(10))).TotalSeconds, 1.5, 6);

        // 1000 clients that speak TLS to the RTMP port.
        for (int i = 0; i < 1000; i += 100)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, rtmp);
                await socket.SendAsync((byte[])[0x16, 3, 1, 0, 0x40]);
                var buffer = new byte[64];
                try
                {
                    while (await socket.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(5)) > 0)
                    {
                    }
                }
                catch (Exception ex) when (ex is SocketException or TimeoutException)
                {
                }
            }));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!MoreLine().IsMatch(server.Output) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        var lines = server.Output.Split('\n').Where(l => l.Contains("Sluice.Rtmp[", StringComparison.Ordinal)).ToList();
        output.WriteLine($"dripped handshake closed after {lived.TotalSeconds:0.0} s; RTMP log lines:\n{string.Join('\n', lines)}");
        Assert.InRange(lines.Count, 2, 5);
        Assert.Matches(MoreLine(), server.Output);
        Assert.Contains("it did not publish or play within 2 s of connecting", server.Output);
    }

    [Fact]
    public async Task Publishes_and_plays_of_200_names_that_do_not_exist_leave_a_line_per_kind_of_refusal_not_one_each()
    {
        int rtmp = Ports.Free();
        await using var server = await ServerProcess.StartAsync(Config(rtmp));
        await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var socket = await HandshakeAsync(rtmp);
            var commands = new System.Buffers.ArrayBufferWriter<byte>();
            void Command(uint streamId, byte[] payload) => Sluice.Media.Formats.Rtmp.RtmpChunkWriter.Write(
                commands, Sluice.Media.Formats.Rtmp.Rtmp.CommandChunkStream, Sluice.Media.Formats.Rtmp.Rtmp.CommandAmf0, streamId, 0, payload, Sluice.Media.Formats.Rtmp.Rtmp.DefaultChunkSize);
            Command(0, Sluice.Media.Formats.Rtmp.RtmpCommand.Build("connect", 1, new Dictionary<string, object?> { ["app"] = "live" }));
            Command(0, Sluice.Media.Formats.Rtmp.RtmpCommand.Build("createStream", 2, null));
            Command(1, i % 2 == 0
                ? Sluice.Media.Formats.Rtmp.RtmpCommand.Build("publish", 3, null, $"nofeed{i}", "live")
                : Sluice.Media.Formats.Rtmp.RtmpCommand.Build("play", 3, null, $"nostream{i}"));
            await socket.SendAsync(commands.WrittenMemory);
            Assert.True(IsClosed(socket), "the server kept a refused client open");
        }));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (server.Output.Split('\n').Count(l => l.Contains("more clients disconnected", StringComparison.Ordinal)) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        var lines = server.Output.Split('\n').Where(l => l.Contains("Sluice.Rtmp[", StringComparison.Ordinal)).ToList();
        output.WriteLine(string.Join('\n', lines));
        // A line each for the first refused publish and play, and a summary of each kind with its count.
        Assert.InRange(lines.Count, 4, 6);
        Assert.Contains(lines, l => l.Contains("NetStream.Publish.BadName: No feed is named nofeed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("No stream is named nostream", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("RTMP: 99 more clients disconnected", StringComparison.Ordinal) && l.Contains("No feed is named nofeed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("RTMP: 99 more clients disconnected", StringComparison.Ordinal) && l.Contains("No stream is named nostream", StringComparison.Ordinal));
    }

    private static async Task<Socket> HandshakeAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await socket.SendAsync((byte[])[3, .. new byte[1536]]);
        var reply = new byte[1 + 1536 + 1536];
        for (int got = 0; got < reply.Length;)
        {
            int n = await socket.ReceiveAsync(reply.AsMemory(got)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(n > 0, "the server closed during the handshake");
            got += n;
        }

        await socket.SendAsync(reply.AsMemory(1, 1536)); // C2 echoes S1
        return socket;
    }

    /// <summary>Whether the server has closed the socket (EOF or reset), waiting a moment for it.</summary>
    private static bool IsClosed(Socket socket)
    {
        try
        {
            var buffer = new byte[4096];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (DateTime.UtcNow < deadline)
            {
                if (socket.Poll(100_000, SelectMode.SelectRead))
                {
                    if (socket.Available == 0)
                    {
                        return true;
                    }

                    socket.Receive(buffer); // the server's own control messages, if any
                }
            }

            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    [GeneratedRegex(@"RTMP: \d+ more clients disconnected before publishing or playing in the last 10 s, as the last: 127\.0\.0\.1: RTMP: C0 version 22 is not RTMP")]
    private static partial Regex MoreLine();
}
