using System.Net;
using System.Net.Sockets;
using System.Text;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// What an attacker could read or do around publishing: a feed's key on the status page or in a log, a launched
/// feeder's key on its command line, a web page that publishes, refusals that flood the log; and the access log and
/// error texts that echo what a client sent.
/// </summary>
public sealed class PublishSecurityTests
{
    private const string Key = "s3cr3t-KEY";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(20);

    private static string Config(TempLog log, string feedExtra = "") => $"""
        MaxClients 100
        MaxBandwidth 100000
        CustomLog {log.Path}
        <Feed keyed.ffm>
        PublishKey {Key}
        {feedExtra}
        </Feed>
        <Feed open.ffm>
        </Feed>
        <Feed web.ffm>
        PublishOrigin http://elsewhere.example
        </Feed>
        <Stream keyed>
        Feed keyed.ffm
        Format webm
        </Stream>
        <Stream open>
        Feed open.ffm
        Format webm
        </Stream>
        <Stream web>
        Feed web.ffm
        Format webm
        </Stream>
        <Stream stat.html>
        Format status
        </Stream>
        """;

    [Fact]
    public async Task A_publish_key_is_on_no_status_page_and_in_no_log_and_refusals_leave_a_few_lines_without_a_stack_trace()
    {
        using var log = new TempLog();
        await using var server = await TestServer.StartAsync(Config(log));
        using var feeder = FfmpegPublisher.Start(server.Url($"keyed.ffm?key={Key}"));
        await Tools.WaitForStreamAsync(server, "keyed", Startup);
        var viewer = Tools.DecodeAsync(server.Url("keyed"), 120);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string page = await http.GetStringAsync(server.Url("stat.html"));
        string json = await http.GetStringAsync(server.Url("stat.json"));
        Assert.Contains("keyed.ffm?key=REDACTED", json);
        Assert.Contains("keyed.ffm?key=REDACTED", page);

        // 50 publishers with a wrong key and one on the busy feed, each refused while its body still arrives.
        byte[] body = await WebmAsync();
        var refused = Enumerable.Range(0, 50).Select(i => PostAsync(server.Url($"keyed.ffm?key=wrong{i}"), body, origin: null));
        var statuses = await Task.WhenAll(refused);
        Assert.All(statuses, s => Assert.True(s is 403 or 0, $"a wrong key got {s}"));
        Assert.True(await PostAsync(server.Url($"keyed.ffm?key={Key}"), body, origin: null) is 409 or 0);

        var decoded = await viewer;
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Length == 0, $"viewer: {decoded}");
        await server.Log.WaitForAsync("more publishers refused in the last 10 s", TimeSpan.FromSeconds(15));

        var lines = server.Log.Lines.ToList();
        Assert.DoesNotContain(lines, l => l.Contains(Key, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("   at ", StringComparison.Ordinal) || l.Contains("draining", StringComparison.OrdinalIgnoreCase));
        Assert.InRange(lines.Count(l => l.Contains("Feed keyed.ffm: refused publisher", StringComparison.Ordinal)), 1, 2);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"Feed keyed\.ffm: \d+ more publishers refused in the last 10 s"));
        string access = await log.ReadAsync();
        Assert.Contains("keyed.ffm?key=REDACTED", access);
        Assert.DoesNotContain(Key, access);
    }

    [Fact]
    public async Task A_launched_feeder_has_a_single_use_token_on_its_command_line_instead_of_the_key()
    {
        using var log = new TempLog();
        await using var server = await TestServer.StartAsync(Config(log,
            "Launch ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=160x120:rate=30 -c:v libvpx -deadline realtime -cpu-used 8 -g 30 -f webm -cluster_time_limit 200"));
        await Tools.WaitForStreamAsync(server, "keyed", Startup);
        var launched = Processes.Children(Environment.ProcessId).Single(p => p.CommandLine.Contains("/keyed.ffm", StringComparison.Ordinal));
        string cmdline = await File.ReadAllTextAsync($"/proc/{launched.Pid}/cmdline");
        Assert.DoesNotContain(Key, cmdline);
        string token = cmdline.Split('\0').Single(a => a.Contains("keyed.ffm?key=", StringComparison.Ordinal)).Split("?key=")[1];
        Assert.Equal(32, token.Length);

        var decoded = await Tools.DecodeAsync(server.Url("keyed"), 30);
        Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Length == 0, $"viewer: {decoded}");

        // The token was spent by the feeder's own connection: anyone else who read it is refused.
        Assert.True(await PostAsync(server.Url($"keyed.ffm?key={token}"), await WebmAsync(), origin: null) is 403 or 0);
        Assert.Contains(server.Log.Lines, l => l.Contains("Feed keyed.ffm: refused publisher", StringComparison.Ordinal) && l.Contains("publish key", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains(token, StringComparison.Ordinal) || l.Contains(Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_web_page_may_not_publish_unless_PublishOrigin_allows_its_origin()
    {
        using var log = new TempLog();
        await using var server = await TestServer.StartAsync(Config(log));
        byte[] body = await WebmAsync();
        Assert.Equal(403, await PostAsync(server.Url("open.ffm"), body, origin: "http://elsewhere.example"));
        Assert.Contains(server.Log.Lines, l => l.Contains("Feed open.ffm: refused publisher 127.0.0.1: Publishing to open.ffm from a web page (Origin http://elsewhere.example) is not allowed", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("Feed open.ffm: publisher", StringComparison.Ordinal));

        Assert.Equal(200, await PostAsync(server.Url("web.ffm"), body, origin: "http://elsewhere.example"));
        await server.Log.WaitForAsync("Feed web.ffm: publisher 127.0.0.1 finished after", TimeSpan.FromSeconds(10));

        // A CORS preflight gets no permission.
        using var http = new HttpClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, server.Url("web.ffm"));
        preflight.Headers.Add("Origin", "http://elsewhere.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var answer = await http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, answer.StatusCode);
        Assert.DoesNotContain(answer.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_access_log_escapes_control_characters_and_answers_echo_no_unbounded_input()
    {
        using var log = new TempLog();
        await using var server = await TestServer.StartAsync(Config(log));
        string head = await RawAsync(server.Port, "GET /stat.html HTTP/1.1\r\nHost: x\r\nUser-Agent: evil\u001b[2Jterm\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", head);
        string post = await RawAsync(server.Port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 405", post);
        Assert.Contains("Allow: GET, HEAD", post);
        string method = new('X', 5000);
        string longMethod = await RawAsync(server.Port, $"{method} /open HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.True(longMethod.Length < 2000, $"an answer of {longMethod.Length} bytes to a 5000-byte method");

        string access = "";
        for (int i = 0; i < 50 && !access.Contains("evil", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
            access = await log.ReadAsync();
        }

        Assert.Contains("\"evil\\x1b[2Jterm\"", access);
        Assert.DoesNotContain('\u001b', access);
    }

    /// <summary>Two seconds of WebM made by ffmpeg, the body of a publish.</summary>
    private static async Task<byte[]> WebmAsync()
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-body-{Guid.NewGuid():N}.webm");
        var made = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-t", "2", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-f", "webm", file], TimeSpan.FromSeconds(30));
        Assert.Equal(0, made.ExitCode);
        try
        {
            return await File.ReadAllBytesAsync(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>POSTs a body (chunked, as ffmpeg does); the status, or 0 when the server closed the connection before answering.</summary>
    private static async Task<int> PostAsync(string url, byte[] body, string? origin)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StreamContent(new MemoryStream(body)) };
        request.Headers.TransferEncodingChunked = true;
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        try
        {
            using var response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static async Task<string> RawAsync(int port, string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, cts.Token);
        }
        catch (IOException)
        {
            // Closed by the server after its answer.
        }

        return Encoding.Latin1.GetString(answer.ToArray());
    }

    /// <summary>An access log file of the test's own, deleted with it.</summary>
    private sealed class TempLog : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sluice-access-{Guid.NewGuid():N}.log");

        /// <summary>What the server has written so far (it keeps the file open).</summary>
        public async Task<string> ReadAsync()
        {
            await using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(file);
            return await reader.ReadToEndAsync();
        }

        public void Dispose() => File.Delete(Path);
    }
}
