using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Server;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;

namespace Sluice.Tests.Support;

/// <summary>A real Sluice server (Kestrel) on a free loopback port, with its log captured.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _feedFiles;

    private TestServer(WebApplication app, int port, int? rtmpPort, CapturedLog log, string? feedFiles)
    {
        _app = app;
        _feedFiles = feedFiles;
        Port = port;
        RtmpPort = rtmpPort;
        Log = log;
    }

    public int Port { get; }

    /// <summary>The RTMP listener's port, when the config has RTMPPort (replaced by a free one).</summary>
    public int? RtmpPort { get; }

    public string RtmpUrl(string path) => $"rtmp://127.0.0.1:{RtmpPort}/{path.TrimStart('/')}";

    public CapturedLog Log { get; }

    public SluiceServer Server => _app.Services.GetRequiredService<SluiceServer>();

    public string Url(string path) => $"http://127.0.0.1:{Port}/{path.TrimStart('/')}";

    public static async Task<TestServer> StartAsync(string configText, string file = "test.conf")
    {
        var parsed = ConfigParser.Parse(configText, file);
        Assert.True(parsed.Succeeded, string.Join("\n", parsed.Errors));
        return await StartAsync(parsed.Config!);
    }

    public static async Task<TestServer> StartAsync(ServerConfig config)
    {
        // Feed files go to a directory of this server's own: the seed and built-in configs name /tmp/feed1.ffm, which
        // two servers running at once (or a later run with other tracks) would otherwise share. ReadOnlyFiles stay.
        string? feedFiles = null;
        if (config.Feeds.Any(f => f.File is not null && !f.ReadOnly))
        {
            string dir = feedFiles = Directory.CreateTempSubdirectory("sluice-test-feeds-").FullName;
            config = config with { Feeds = [.. config.Feeds.Select(f => f.File is null || f.ReadOnly ? f : f with { File = Path.Combine(dir, Path.GetFileName(f.File)) })] };
        }

        var log = new CapturedLog();
        for (int attempt = 0; ; attempt++)
        {
            int port = Ports.Free();
            int? rtmpPort = config.RTMPPort is null ? null : Ports.Free();
            // Build runs the encoder check synchronously: off the socket threads, whose completions it waits for.
            var app = await Task.Run(() => SluiceHost.Build(config, new SluiceHostOptions
            {
                Port = port,
                RtmpPort = rtmpPort,
                BindAddress = IPAddress.Loopback,
                ConsoleLog = false,
                MinimumLogLevel = LogLevel.Debug,
                ConfigureLogging = b => b.AddProvider(log),
            }));
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await app.StartAsync(cts.Token);
                return new TestServer(app, port, rtmpPort, log, feedFiles);
            }
            catch (IOException) when (attempt < 3)
            {
                await app.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync();
        if (_feedFiles is not null)
        {
            Directory.Delete(_feedFiles, recursive: true);
        }
    }
}

/// <summary>Every log line of a test server, to assert on.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    public async Task<string> WaitForAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var line = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no log line with \"{text}\" within {timeout.TotalSeconds} s; log:\n{string.Join("\n", _lines)}");
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
    }
}
