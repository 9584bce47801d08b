using System.Net;
using Xunit.Abstractions;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// A connection flood against the real executable under a small open-file limit, with a viewer decoding throughout:
/// the server refuses what does not fit instead of dying at the limit, logs it once with a count, keeps serving the
/// status page and its viewer, and gives the memory back afterwards.
/// </summary>
[Collection(FloodCollection.Name)]
public sealed partial class ConnectionFloodTests(ITestOutputHelper output)
{
    private const string Config = """
        MaxHTTPConnections 6000
        MaxClients 6000
        MaxBandwidth 10000000
        MaxClientsPerAddress 3000
        RequestHeaderTimeout 5
        <Feed feed.ffm>
        </Feed>
        <Stream live>
        Feed feed.ffm
        Format webm
        </Stream>
        <Stream stat.json>
        Format status
        </Stream>
        """;

    [Fact]
    public async Task Under_4096_open_files_4500_idle_connections_and_4500_viewers_are_refused_in_part_and_nothing_breaks()
    {
        // The idle ones are held until the flood is counted (RequestHeaderTimeout is tested on its own below).
        await using var server = await ServerProcess.StartAsync(Config.Replace("RequestHeaderTimeout 5", "RequestHeaderTimeout 60", StringComparison.Ordinal), openFiles: 4096);
        Assert.Contains("Open-file limit 4096 (hard 4096)", server.Output);
        Assert.Contains("MaxHTTPConnections 6000 needs about", server.Output);
        using var feeder = FfmpegPublisher.Start(server.Url("feed.ffm"), seconds: 60);
        await Task.Delay(4000); // the feeder's first clusters
        var viewer = Tools.DecodeAsync(server.Url("live"), frames: 30 * 35, TimeSpan.FromSeconds(60));
        await Task.Delay(2000);
        long baseline = server.RssKiB();

        // 4500 idle connections from one address: it may hold 3000 (MaxClientsPerAddress), the rest are closed at once.
        var idle = await ConnectAsync(IPAddress.Parse("127.0.0.5"), server.Port, 4500, request: null);
        int idleHeld = Held(idle);
        var (stat, statBody) = await GetAsync(server.Url("stat.json"));
        Assert.True(stat == 200, $"stat.json during the idle flood: {stat} {statBody}");

        // 4500 viewers from another: what the open-file limit leaves room for is taken, the rest closed at once.
        var viewers = await ConnectAsync(IPAddress.Parse("127.0.0.6"), server.Port, 4500, request: "GET /live HTTP/1.1\r\nHost: flood\r\n\r\n");
        long during = server.RssKiB();
        int viewersHeld = Held(viewers);
        Assert.False(server.HasExited, server.Output);
        (stat, statBody) = await GetAsync(server.Url("stat.json"));
        Assert.True(stat is 200 or 503 or 0, $"stat.json at the limit: {stat} {statBody}");

        Dispose(idle);
        Dispose(viewers);

        var decoded = await viewer;
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Length == 0, $"the viewer decoding throughout: {decoded}\n{Tail(server.Output)}");
        Assert.False(server.HasExited, server.Output);
        await WaitForAsync(async () => (await GetAsync(server.Url("stat.json"))).Status == 200, TimeSpan.FromSeconds(20));
        // What the flood took is given back (MemoryTrimmer, every 5 s): back within 40 MiB of the baseline in 30 s.
        long after = during;
        await WaitForAsync(() => Task.FromResult((after = server.RssKiB()) < baseline + 40 * 1024), TimeSpan.FromSeconds(30));

        string log = server.Output;
        output.WriteLine($"held: {idleHeld} of 4500 idle, {viewersHeld} of 4500 viewers; RSS {baseline / 1024} MiB before, {during / 1024} MiB during, {after / 1024} MiB after; log:\n{string.Join('\n', log.Split('\n').Where(l => l.Contains("Sluice.Connections", StringComparison.Ordinal) || l.Contains("Sluice.Server[", StringComparison.Ordinal)))}");
        Assert.InRange(idleHeld, 2900, 3000);
        Assert.InRange(viewersHeld, 1, 1500);
        // Each kind of refusal: a line for the first, then one summary per interval with a count.
        int refusedLines = RefusedLine().Matches(log).Count;
        Assert.InRange(refusedLines, 2, 8);
        Assert.Matches(@"\d+ more connections refused over the per-address limit in the last 10 s", log);
        Assert.Matches(@"\d+ more connections refused at the open-file limit in the last 10 s", log);
        Assert.DoesNotContain("Out of memory", log);
        // About 4000 connections held at once: 9 KiB each, measured, plus the viewers' chunk reads. Bound: 400 MiB over baseline.
        Assert.True(during - baseline < 400 * 1024, $"RSS {baseline / 1024} MiB before, {during / 1024} MiB during the flood");
    }

    [Fact]
    public async Task With_no_BindAddress_the_server_listens_on_IPv6_and_IPv4_and_an_IPv6_viewer_decodes()
    {
        await using var server = await ServerProcess.StartAsync(Config.Replace("Format webm", "Format webm\nACL allow ::1\nACL allow 127.0.0.1", StringComparison.Ordinal) + "\nCustomLog -\n");
        Assert.Contains($"sluice: serving on http://[::]:{server.Port}", server.Output);
        using var feeder = FfmpegPublisher.Start(server.Url("feed.ffm"), seconds: 30);
        await Task.Delay(3000);
        var v6 = await Tools.DecodeAsync(server.Url("live", "[::1]"), frames: 60);
        Assert.True(v6.ExitCode == 0 && v6.StdErr.Length == 0, $"IPv6 viewer: {v6}\n{Tail(server.Output)}");
        var v4 = await Tools.DecodeAsync(server.Url("live"), frames: 30);
        Assert.True(v4.ExitCode == 0 && v4.StdErr.Length == 0, $"IPv4 viewer: {v4}");
        // The access log names each client by its own family's address (an IPv4 client is not ::ffff:127.0.0.1).
        Assert.Contains("::1 - - [", server.Output);
        Assert.DoesNotContain("::ffff:", server.Output);
    }

    [Fact]
    public async Task A_connection_that_sends_no_whole_request_head_is_closed_at_RequestHeaderTimeout_however_it_drips()
    {
        await using var server = await ServerProcess.StartAsync(Config);
        using var silent = await ConnectOneAsync(IPAddress.Loopback, server.Port);
        using var dripping = await ConnectOneAsync(IPAddress.Loopback, server.Port);
        var started = DateTime.UtcNow;
        var drip = Task.Run(async () =>
        {
            foreach (byte b in "GET /stat.json HTTP/1.1\r\nHost: x\r\nX-Slow: "u8.ToArray())
            {
                try
                {
                    await dripping.SendAsync(new[] { b });
                }
                catch (SocketException)
                {
                    return;
                }

                await Task.Delay(500);
            }
        });
        var silentClosed = ReadUntilClosedAsync(silent);
        var drippingClosed = ReadUntilClosedAsync(dripping);
        Assert.True(await Task.WhenAll(silentClosed, drippingClosed).WaitAsync(TimeSpan.FromSeconds(15)) is [true, true]);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        Assert.InRange(seconds, 4, 8); // RequestHeaderTimeout 5, swept once a second
        await drip.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static async Task<bool> ReadUntilClosedAsync(Socket socket)
    {
        var buffer = new byte[256];
        try
        {
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset: closed as well.
        }

        return true;
    }

    private static async Task<Socket> ConnectOneAsync(IPAddress source, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(source, 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>Opens connections in parallel batches; each sends <paramref name="request"/> if given, and then reads nothing.</summary>
    private static async Task<List<Socket>> ConnectAsync(IPAddress source, int port, int count, string? request)
    {
        var sockets = new List<Socket>(count);
        byte[]? bytes = request is null ? null : Encoding.ASCII.GetBytes(request);
        for (int i = 0; i < count; i += 250)
        {
            var batch = Enumerable.Range(0, Math.Min(250, count - i)).Select(async _ =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.ReceiveBufferSize = 4096; // a viewer that reads nothing fills little of the server's memory
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(10));
                    if (bytes is not null)
                    {
                        await socket.SendAsync(bytes);
                    }
                }
                catch (Exception ex) when (ex is SocketException or TimeoutException)
                {
                    // Refused or reset at once: counted as not held.
                }

                return socket;
            });
            sockets.AddRange(await Task.WhenAll(batch));
        }

        await Task.Delay(1500); // the server closes what it refuses at once
        return sockets;
    }

    /// <summary>The connections the server still holds: connected, not closed or reset by it.</summary>
    private static int Held(List<Socket> sockets)
    {
        int held = 0;
        foreach (var socket in sockets)
        {
            if (!socket.Connected)
            {
                continue;
            }

            try
            {
                // Readable with nothing to read means the server closed it; a viewer's socket has data, or nothing yet.
                bool closed = socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
                held += closed ? 0 : 1;
            }
            catch (SocketException)
            {
            }
        }

        return held;
    }

    private static void Dispose(List<Socket> sockets) => sockets.ForEach(s => s.Dispose());

    private static async Task<(int Status, string Body)> GetAsync(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(url);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException or IOException)
        {
            return (0, ex.Message);
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds} s");
            }

            await Task.Delay(200);
        }
    }

    private static string Tail(string log) => string.Join('\n', log.Split('\n').TakeLast(40));

    [GeneratedRegex(@"Sluice\.Connections\[52[01]\]")]
    private static partial Regex RefusedLine();
}
