using System.CommandLine;
using System.Net;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;
using Sluice.Server.Transcoding;

namespace Sluice;

/// <summary>The sluice command: reads an ffserver.conf (or the built-in one) and serves it.</summary>
internal static class Program
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private static int Main(string[] args)
    {
        // Socket completions run on the threads that poll the sockets instead of being queued to the thread pool, with
        // Kestrel's inline scheduling (SluiceHost) the way an event loop works: read before any socket exists. An
        // operator's own setting (0 turns it off) wins.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        var config = new Option<FileInfo?>("--config", "-f")
        {
            Description = "The ffserver.conf to serve (default: the built-in configuration with a test-pattern feed).",
        };
        var port = new Option<int?>("--port")
        {
            Description = "Listen on this port instead of the config's Port/HTTPPort.",
        };
        var bind = new Option<string?>("--bind")
        {
            Description = "Listen on this address instead of the config's BindAddress/HTTPBindAddress.",
        };
        var check = new Option<bool>("--check")
        {
            Description = "Only read and check the configuration, then exit (0 when it is valid).",
        };
        var root = new RootCommand("Sluice: a live streaming server that serves ffserver.conf configurations.")
        {
            config, port, bind, check,
        };
        root.SetAction(parse => Run(parse.GetValue(config), parse.GetValue(port), parse.GetValue(bind), parse.GetValue(check)));
        return root.Parse(args).Invoke();
    }

    private static int Run(FileInfo? configFile, int? port, string? bind, bool checkOnly)
    {
        ConfigParseResult parsed;
        if (configFile is null)
        {
            parsed = ConfigParser.Parse(EmbeddedConfig(), "(built-in config)");
        }
        else if (!configFile.Exists)
        {
            Console.Error.WriteLine($"sluice: {configFile.FullName}: no such file");
            return 2;
        }
        else
        {
            parsed = ConfigParser.ParseFile(configFile.FullName);
        }

        foreach (var warning in parsed.Warnings)
        {
            Console.Error.WriteLine($"{warning.Location}: warning: {warning.Message}");
        }

        foreach (var error in parsed.Errors)
        {
            Console.Error.WriteLine(error.ToString());
        }

        if (!parsed.Succeeded || parsed.Config is null)
        {
            Console.Error.WriteLine($"sluice: the configuration has {parsed.Errors.Length} error(s); not starting.");
            return 1;
        }

        // The feed files' paths: one the server cannot write, or a ReadOnlyFile it cannot read, stops it here.
        var fileErrors = Sluice.Server.Feeds.FeedFileCheck.Errors(parsed.Config);
        foreach (var error in fileErrors)
        {
            Console.Error.WriteLine(error.ToString());
        }

        if (fileErrors.Count > 0)
        {
            Console.Error.WriteLine($"sluice: the configuration has {fileErrors.Count} error(s); not starting.");
            return 1;
        }

        if (port is < 0 or > 65535)
        {
            Console.Error.WriteLine($"sluice: --port {port}: a port is 0 to 65535");
            return 2;
        }

        IPAddress? bindAddress = null;
        if (bind is not null && !IPAddress.TryParse(bind, out bindAddress))
        {
            Console.Error.WriteLine($"sluice: --bind {bind}: not an IP address");
            return 2;
        }

        // Every encoder a stream asks for is tried with the real ffmpeg before anything is served.
        var encoding = EncoderCheck.RunAsync(parsed.Config, TimeProvider.System).GetAwaiter().GetResult();
        foreach (var warning in encoding.Warnings)
        {
            Console.Error.WriteLine($"{warning.Location}: warning: {warning.Message}");
        }

        foreach (var error in encoding.Errors)
        {
            Console.Error.WriteLine(error.ToString());
        }

        if (!encoding.Succeeded)
        {
            Console.Error.WriteLine($"sluice: {encoding.Summary}; not starting.");
            return 1;
        }

        if (checkOnly)
        {
            Console.Error.WriteLine($"sluice: {parsed.Config.Source}: configuration is valid ({parsed.Config.Feeds.Length} feeds, {parsed.Config.Streams.Length} streams).");
            return 0;
        }

        var app = SluiceHost.Build(parsed.Config, new SluiceHostOptions { Port = port, BindAddress = bindAddress, Encoding = encoding });
        try
        {
            app.Start();
        }
        catch (IOException ex)
        {
            // Kestrel names the address it failed on ("Failed to bind to address http://127.0.0.1:1935: ..."): say which listener that is.
            var config = parsed.Config;
            bool rtmpFailed = config.RTMPPort is { } failedRtmp && ex.Message.Contains($":{failedRtmp}:", StringComparison.Ordinal);
            string listener = rtmpFailed
                ? $"RTMP {bindAddress ?? config.RTMPBindAddress ?? config.HTTPBindAddress}:{config.RTMPPort} (RTMPPort)"
                : $"HTTP {bindAddress ?? config.HTTPBindAddress}:{port ?? config.HTTPPort}";
            Console.Error.WriteLine($"sluice: cannot listen on {listener}: {ex.Message}");
            return 1;
        }

        int? rtmpPort = parsed.Config.RTMPPort;
        foreach (string url in app.Urls)
        {
            // Kestrel names every listener http://; the RTMP one is not.
            bool rtmp = rtmpPort is { } p && new Uri(url).Port == p;
            Console.Error.WriteLine($"sluice: serving on {(rtmp ? "rtmp" + url[url.IndexOf(':')..] : url)}");
        }

        app.WaitForShutdown();
        return 0;
    }

    private static string EmbeddedConfig()
    {
        using var stream = typeof(Program).Assembly.GetManifestResourceStream("Sluice.default.conf")
            ?? throw new InvalidOperationException("the built-in configuration is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
