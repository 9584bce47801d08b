using System.Diagnostics;
using System.Text;

namespace Sluice.Tests.Support;

/// <summary>
/// The real sluice executable as a child process, as scripts/run starts it (optionally under <c>prlimit</c>): for tests
/// that need its own memory figures or process limits, which an in-process server shares with the test host.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _config;

    private ServerProcess(Process process, string config, int port)
    {
        _process = process;
        _config = config;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    /// <summary>The config file it was started with (its messages name it).</summary>
    public string ConfigPath => _config;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything it printed (the server log and the access log), both streams.</summary>
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    public string Url(string path, string host = "127.0.0.1") => $"http://{host}:{Port}/{path.TrimStart('/')}";

    /// <summary>Starts the server on a config (its text; HTTPPort is given on the command line) and waits until it serves.</summary>
    /// <param name="openFiles">Runs it under <c>prlimit --nofile=N:N</c>.</param>
    /// <param name="environment">Variables set for it (PATH, to give it other programs).</param>
    public static async Task<ServerProcess> StartAsync(string configText, int? openFiles = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, configText);
        int port = Ports.Free();
        string sluice = Path.Combine(AppContext.BaseDirectory, "sluice.dll");
        var (program, args) = openFiles is { } n
            ? ("prlimit", new List<string> { $"--nofile={n}:{n}", "dotnet", sluice })
            : ("dotnet", new List<string> { sluice });
        args.AddRange(["--config", file, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        args.ForEach(info.ArgumentList.Add);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        var server = new ServerProcess(process, file, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!server.Output.Contains("sluice: serving on", StringComparison.Ordinal))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string output = server.Output;
                await server.DisposeAsync();
                throw new InvalidOperationException($"sluice did not start:\n{output}");
            }

            await Task.Delay(100);
        }

        return server;
    }

    /// <summary>Its resident memory now, from /proc (VmRSS), in KiB.</summary>
    public long RssKiB()
    {
        foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        ProcessRunner.Kill(_process);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Killed; its pipes are closed with it.
        }

        _process.Dispose();
        File.Delete(_config);
    }
}
