using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Server.Configuration;
using Sluice.Server.Processes;

namespace Sluice.Server.Feeds;

/// <summary>
/// A Feed's <c>Launch</c> line: the server runs the command with the feed's URL appended (as ffserver did),
/// restarts it with exponential backoff when it exits, and stops it with the server.
/// </summary>
internal sealed partial class FeedLauncher : BackgroundService
{
    /// <summary>1 s, doubling up to 30 s; a run of 30 s resets it.</summary>
    private static readonly Backoff Backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

    private readonly FeedConfig _feed;
    private readonly Func<string> _url;
    private readonly Func<string?>? _token;
    private readonly Action? _exited;
    private readonly ILogger _logger;
    private readonly Supervisor _supervisor;

    /// <param name="url">The feed's URL without a key.</param>
    /// <param name="time">The clock for the backoff between starts.</param>
    /// <param name="token">Makes a single-use key for one start (null: the feed needs none); the command line carries it, never the PublishKey.</param>
    /// <param name="exited">Called when a start ends (its unused key is revoked).</param>
    public FeedLauncher(FeedConfig feed, Func<string> url, ILogger logger, TimeProvider time, Func<string?>? token = null, Action? exited = null)
    {
        _feed = feed;
        _url = url;
        _token = token;
        _exited = exited;
        _logger = logger;
        _supervisor = new Supervisor(RunOnceAsync, Backoff, time, OnExited);
    }

    public int Starts { get; private set; }

    public int? ProcessId { get; private set; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _supervisor.RunAsync(stoppingToken);

    private void OnExited(SupervisedExit exit)
    {
        if (exit.Error is { } error)
        {
            LogFailed(_logger, _feed.Name, exit.Wait.TotalSeconds, error);
            return;
        }

        LogExited(_logger, _feed.Name, exit.ExitCode?.ToString() ?? "(did not start)", exit.Wait.TotalSeconds);
    }

    private async Task<int?> RunOnceAsync(CancellationToken stoppingToken)
    {
        var info = new ProcessStartInfo(_feed.Launch[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in _feed.Launch.AsSpan()[1..])
        {
            info.ArgumentList.Add(arg);
        }

        string? token = _token?.Invoke();
        info.ArgumentList.Add(token is null ? _url() : $"{_url()}?key={token}");
        Process process;
        try
        {
            process = await ChildProcess.StartAsync(info).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LogStartFailed(_logger, _feed.Name, _feed.Location.ToString(), _feed.Launch[0], ex.Message);
            return null;
        }

        using var owned = process;
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                LogOutput(_logger, _feed.Name, e.Data);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                LogOutput(_logger, _feed.Name, e.Data);
            }
        };
        Starts++;
        ProcessId = process.Id;
        string command = ChildProcess.DisplayCommand(process);
        LogStarted(_logger, _feed.Name, process.Id, token is null ? command : command.Replace(token, Security.SecretQuery.Mask, StringComparison.Ordinal));
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await process.WaitForExitAsync(stoppingToken).ConfigureAwait(false);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Stop(process);
            return null;
        }
        finally
        {
            ProcessId = null;
            _exited?.Invoke();
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException)
        {
            // Already gone, or not ours to kill any more.
        }
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Feed {Feed}: launched process {Pid}: {Command}")]
    private static partial void LogStarted(ILogger logger, string feed, int pid, string command);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Feed {Feed}: launched process exited with code {Code}; restarting in {Seconds} s")]
    private static partial void LogExited(ILogger logger, string feed, string code, double seconds);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "Feed {Feed} ({Location}): Launch could not start {Program}: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string feed, string location, string program, string reason);

    [LoggerMessage(EventId = 604, Level = LogLevel.Error, Message = "Feed {Feed}: Launch failed; restarting in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string feed, double seconds, Exception error);

    [LoggerMessage(EventId = 603, Level = LogLevel.Debug, Message = "Feed {Feed} launch: {Line}")]
    private static partial void LogOutput(ILogger logger, string feed, string line);
}
