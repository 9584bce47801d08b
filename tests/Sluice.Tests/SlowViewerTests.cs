using System.Net;
using System.Net.Sockets;
using System.Text;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>A viewer that stops reading hurts only itself.</summary>
public sealed class SlowViewerTests
{
    /// <summary>With the shortest timeout and with one longer than the 5 s grace of Kestrel's own minimum response rate.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public async Task A_viewer_that_stops_reading_is_disconnected_and_the_others_go_on(int timeoutSeconds)
    {
        await using var server = await TestServer.StartAsync(Configs.Open(extraGlobal: $"SlowViewerTimeout {timeoutSeconds}"));
        // A fat feed (a cellular automaton: noise that VP8 cannot squeeze) fills the stalled viewer's buffers quickly.
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), [.. FfmpegPublisher.WebmVp8Vorbis.Select(a => a == "512k" ? "4M" : a)], size: "640x480", pattern: "cellauto");
        await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(20));

        // A viewer with a tiny receive window that reads the response headers and then nothing more.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(IPAddress.Loopback, server.Port);
        await stalled.SendAsync(Encoding.ASCII.GetBytes("GET /livestream HTTP/1.1\r\nHost: x\r\nUser-Agent: stalled\r\n\r\n"));
        var head = new byte[512];
        int n = await stalled.ReceiveAsync(head);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(head, 0, n));

        // Meanwhile a real player decodes without error.
        var decoded = await Tools.DecodeAsync(server.Url("livestream"), 90);
        Assert.Equal(0, decoded.ExitCode);
        Assert.True(decoded.StdErr.Trim() == "", decoded.StdErr);

        try
        {
            await server.Log.WaitForAsync($"Viewer 127.0.0.1 of livestream disconnected: it stayed behind (or took no data) for more than {timeoutSeconds} s", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException missing)
        {
            // What the server saw meanwhile, for a failure that only a loaded machine shows.
            var viewers = server.Server.Limits.Connections.Select(c => $"{c.Kind} {c.Target} {c.State}: {c.BytesSent} B sent");
            throw new TimeoutException($"{missing.Message}\nconnections: {string.Join("; ", viewers)}\nfeed: {server.Server.Feeds["livestream.ffm"].MeasuredBitRate / 1000} kbit/s, "
                + $"{server.Server.Feeds["livestream.ffm"].PacketsReceived} packets\nfeeder exited: {feeder.HasExited}\n{feeder.StdErr}", missing);
        }
        Assert.False(feeder.HasExited, feeder.StdErr);

        // The server closed the stalled connection: draining it ends (0 bytes or a reset) instead of blocking.
        var drain = new byte[64 * 1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            while (await stalled.ReceiveAsync(drain, deadline.Token) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }

        Assert.False(deadline.IsCancellationRequested, "the stalled connection was not closed");
        await Task.Delay(200);
        Assert.DoesNotContain(server.Server.Limits.Connections, c => c.Kind == Sluice.Server.Delivery.ClientKind.Viewer);
    }
}
