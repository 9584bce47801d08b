using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Streams;

namespace Sluice.Server;

/// <summary>
/// The running server's state for one configuration: its feeds, the live streams reading them, the
/// limits and connections. Knows nothing of Kestrel; the HTTP side is in <see cref="Hosting"/>.
/// </summary>
public sealed partial class SluiceServer : IDisposable
{
    private readonly ILogger _logger;

    public SluiceServer(ServerConfig config, ILoggerFactory loggers, TimeProvider? time = null)
    {
        Config = config;
        Time = time ?? TimeProvider.System;
        Loggers = loggers;
        _logger = loggers.CreateLogger("Sluice.Server");
        Limits = new Limits(config);
        ViewerPolicy = new ViewerPolicy { SlowViewerTimeout = TimeSpan.FromSeconds(config.SlowViewerTimeout) };
        AccessLog = AccessLog.Open(config.CustomLog);

        Feeds = config.Feeds.ToFrozenDictionary(f => f.Name, f => new Feed(f, loggers.CreateLogger("Sluice.Feed"), Time), StringComparer.Ordinal);
        var streams = new Dictionary<string, LiveStream>(StringComparer.Ordinal);
        foreach (var stream in config.Streams)
        {
            if (stream.IsStatus || stream.Feed is null || !Feeds.TryGetValue(stream.Feed, out var feed))
            {
                continue;
            }

            var format = OutputFormat.Find(stream.Format);
            if (format is null)
            {
                LogFormatNotServed(_logger, stream.Location.ToString(), stream.Name, stream.Format, string.Join(", ", OutputFormat.Names));
                continue;
            }

            streams[stream.Name] = new LiveStream(stream, feed, format, loggers.CreateLogger("Sluice.Stream"));
        }

        Streams = streams.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public ServerConfig Config { get; }
    public TimeProvider Time { get; }
    public ILoggerFactory Loggers { get; }
    public Limits Limits { get; }
    public AccessLog? AccessLog { get; }
    public FrozenDictionary<string, Feed> Feeds { get; }
    public FrozenDictionary<string, LiveStream> Streams { get; }
    public ViewerPolicy ViewerPolicy { get; }
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// Ends every viewer and publisher connection: their responses never end by themselves, and a server
    /// that stops must not wait for them (nor leave a launched feeder publishing into a closing server).
    /// </summary>
    public void CloseStreamingConnections()
    {
        Limits.Stop();
        foreach (var connection in Limits.Connections)
        {
            if (connection.Kind is ClientKind.Viewer or ClientKind.Publisher)
            {
                connection.Abort?.Invoke();
            }
        }
    }

    public void Dispose() => AccessLog?.Dispose();

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "{Location}: Stream {Stream}: Format {Format} is not served yet and the stream is off; formats served: {Formats}")]
    private static partial void LogFormatNotServed(ILogger logger, string location, string stream, string format, string formats);
}
