using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Ingest.Rtmp;
using Sluice.Server.Streams;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Hosting;

/// <summary>Options the command line (or a test) gives beside the config.</summary>
internal sealed record SluiceHostOptions
{
    /// <summary>Overrides the config's HTTPPort.</summary>
    public int? Port { get; init; }

    /// <summary>Overrides the config's HTTPBindAddress (tests bind to loopback).</summary>
    public IPAddress? BindAddress { get; init; }

    /// <summary>Overrides the config's RTMPPort (tests take a free port).</summary>
    public int? RtmpPort { get; init; }

    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Whether the server log goes to the console (tests capture it instead).</summary>
    public bool ConsoleLog { get; init; } = true;

    /// <summary>The start-up check of the config's encoders; run by <see cref="SluiceHost.Build"/> when not given.</summary>
    public EncoderCheck.Result? Encoding { get; init; }

    /// <summary>Extra logging set-up (tests capture the log).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}

/// <summary>Builds the Kestrel host that serves one configuration.</summary>
internal static partial class SluiceHost
{
    /// <summary>Builds the host; throws <see cref="InvalidOperationException"/> listing the problems when ffmpeg refuses a stream's encoder settings.</summary>
    public static WebApplication Build(ServerConfig config, SluiceHostOptions options)
    {
        var encoding = options.Encoding ?? EncoderCheck.RunAsync(config, TimeProvider.System).GetAwaiter().GetResult();
        if (!encoding.Succeeded)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, encoding.Errors));
        }

        // No appsettings.json to reload: without this the host watches the working directory, and every line a
        // server log written there appends wakes a file watcher.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        if (options.ConsoleLog)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.Logging.SetMinimumLevel(options.MinimumLogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // Hosting starts an Activity and a log scope for every request while this category is enabled at any level,
        // though it only ever logs at Information and below: a cost per request for nothing.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // A host that fails to start (a port in use) logs the exception with its stack trace; Sluice says why in one
        // line itself ("cannot listen on ...").
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        options.ConfigureLogging?.Invoke(builder.Logging);

        int port = options.Port ?? config.HTTPPort;
        var address = options.BindAddress ?? config.HTTPBindAddress;
        var files = OpenFileLimit.Raise();
        int children = config.Feeds.Count(f => !f.Launch.IsEmpty) + config.Feeds.Length; // a launched feeder, an encoder per feed at most
        int? descriptorCapacity = files is { } f ? (int)Math.Max(0, f.Soft - OpenFileLimit.InUse() - OpenFileLimit.Reserve - 3 * children) : null;
        ConnectionAdmission? admission = null; // made once the server exists, before any listener starts
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // Connections are counted and limited from accept by ConnectionAdmission (MaxHTTPConnections, the open-file
            // limit, MaxClientsPerAddress), which logs what it refuses; Kestrel's own counter would drop them silently.
            k.Limits.MaxConcurrentConnections = null;
            k.Limits.MaxResponseBufferSize = 256 * 1024;
            // Between requests and while a request head arrives (Kestrel's defaults, 130 s and 30 s, let an idle
            // connection live 160 s); RequestHeaderTimeout from accept is ConnectionAdmission's.
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(config.KeepAliveTimeout);
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(config.RequestHeaderTimeout);
            Listen(k, address, port, listen =>
            {
                listen.Use(next => connection => admission!.AdmitAsync(connection, next, http: true));
                listen.Use(UntilCloseBody.Adapt);
            });
            if ((options.RtmpPort ?? config.RTMPPort) is { } rtmpPort)
            {
                var rtmpAddress = options.BindAddress ?? config.RTMPBindAddress ?? address;
                Listen(k, rtmpAddress, rtmpPort, listen =>
                {
                    listen.Use(next => connection => admission!.AdmitAsync(connection, next, http: false));
                    listen.UseConnectionHandler<RtmpConnectionHandler>();
                });
            }
        });
        builder.WebHost.UseSetting(WebHostDefaults.SuppressStatusMessagesKey, "true");
        var connectionBuffers = new LargeBlockMemoryPoolFactory();
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(connectionBuffers);
        // Every listener's transport (the last one registered binds): Kestrel's connections, made when the first byte
        // arrives. Requests run on the socket threads that read them, as an event loop's would, instead of being handed
        // to the thread pool: a hop less per read (bench/README, "Inline scheduling"). Nothing Sluice runs there waits
        // for another thread; the one synchronous I/O is CustomLog's line per request.
        builder.Services.AddSingleton<IConnectionListenerFactory>(sp => new FirstByteListenerFactory(
            connectionBuffers, () => admission!, sp.GetRequiredService<SluiceServer>().Time, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(sp => new SluiceServer(config, sp.GetRequiredService<ILoggerFactory>(), TimeProvider.System, encoding));
        builder.Services.AddSingleton(sp => EndpointWiring.Rtmp(sp.GetRequiredService<SluiceServer>()));
        var launchHost = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : address.ToString();
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !address.Equals(IPAddress.IPv6Any))
        {
            launchHost = $"[{address}]";
        }

        foreach (var feed in config.Feeds.Where(f => !f.Launch.IsEmpty))
        {
            builder.Services.AddSingleton<IHostedService>(sp =>
            {
                var running = sp.GetRequiredService<SluiceServer>().Feeds[feed.Name];
                return new FeedLauncher(
                    feed,
                    () => $"http://{launchHost}:{port}/{feed.Name}",
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sluice.Launch"),
                    sp.GetRequiredService<SluiceServer>().Time,
                    token: feed.PublishKey is null ? null : running.IssueLaunchToken,
                    exited: running.RevokeLaunchToken);
            });
        }

        var app = builder.Build();
        var server = app.Services.GetRequiredService<SluiceServer>();
        var hostLogger = server.Loggers.CreateLogger("Sluice.Server");
        server.Limits.Gate.DescriptorCapacity = descriptorCapacity;
        admission = new ConnectionAdmission(server.Limits.Gate, config.RequestHeaderTimeout, server.Time, server.Loggers.CreateLogger("Sluice.Connections"));
        app.Lifetime.ApplicationStopped.Register(admission.Dispose);
        var trimmer = new MemoryTrimmer(server.Limits.Gate, server.Buffers, connectionBuffers, server.Time, hostLogger);
        app.Lifetime.ApplicationStopped.Register(trimmer.Dispose);
        if (files is { } limit)
        {
            LogOpenFiles(hostLogger, limit.Soft, limit.Hard, server.Limits.Gate.Capacity, config.ClientsPerAddress);
            if (descriptorCapacity < config.MaxHTTPConnections + ConnectionGate.StatusMargin)
            {
                LogTooFewFiles(hostLogger, config.MaxHTTPConnections, config.MaxHTTPConnections + ConnectionGate.StatusMargin + (limit.Soft - descriptorCapacity.Value), limit.Soft, limit.Hard, descriptorCapacity.Value);
            }
        }

        var dispatcher = EndpointWiring.Dispatcher(server);
        app.Lifetime.ApplicationStopping.Register(server.CloseStreamingConnections);
        app.Lifetime.ApplicationStopping.Register(() => server.StopEncodersAsync().Wait(TimeSpan.FromSeconds(5)));
        app.Lifetime.ApplicationStarted.Register(server.StartSources);
        app.Lifetime.ApplicationStopping.Register(() => server.StopSourcesAsync().Wait(TimeSpan.FromSeconds(5)));
        app.Run(dispatcher.HandleAsync);
        return app;
    }

    /// <summary>Listens on one address; "any" (IPv6's, the default) is both families on one dual-stack socket, or IPv4 alone where the machine has no IPv6.</summary>
    private static void Listen(KestrelServerOptions kestrel, IPAddress address, int port, Action<ListenOptions> configure)
    {
        if (address.Equals(IPAddress.IPv6Any))
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else
        {
            kestrel.Listen(address, port, configure);
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Open-file limit {Soft} (hard {Hard}): up to {Capacity} connections, {PerAddress} from one address")]
    private static partial void LogOpenFiles(ILogger logger, long soft, long hard, int capacity, int perAddress);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "MaxHTTPConnections {Max} needs about {Needed} open files, but the limit is {Soft} (hard {Hard}): at most {Capacity} connections will be accepted and the rest closed at once; raise the limit (ulimit -n, systemd's LimitNOFILE=) or lower MaxHTTPConnections")]
    private static partial void LogTooFewFiles(ILogger logger, int max, long needed, long soft, long hard, int capacity);
}
