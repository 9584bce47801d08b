using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sluice.Server.Processes;

/// <summary>
/// Starts the server's child processes (launched feeders, encoders) so that none outlives the server, even
/// when the server is killed with SIGKILL: each runs under <c>setpriv --pdeathsig KILL</c>, so the kernel kills
/// it when its parent goes. The death signal is tied to the thread that forked the child, not the process, so
/// every child is started from one thread that lives as long as the server.
/// </summary>
internal static class ChildProcess
{
    private const string SetPriv = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(Process Process, TaskCompletionSource<bool> Started)> Requests = [];
    private static readonly Lazy<Thread> Starter = new(() =>
    {
        var thread = new Thread(StartLoop) { IsBackground = true, Name = "Sluice child process starter" };
        thread.Start();
        return thread;
    });

    /// <summary>Whether children get the parent-death signal (setpriv is part of util-linux on Debian).</summary>
    public static bool HasParentDeathSignal { get; } = OperatingSystem.IsLinux() && File.Exists(SetPriv);

    /// <summary>
    /// Rewrites <paramref name="info"/> to run under setpriv (when available) and starts it from the starter
    /// thread. Returns the started process; throws what <see cref="Process.Start()"/> throws.
    /// </summary>
    public static async Task<Process> StartAsync(ProcessStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (HasParentDeathSignal)
        {
            var program = info.FileName;
            var arguments = info.ArgumentList.ToList();
            info.FileName = SetPriv;
            info.ArgumentList.Clear();
            info.ArgumentList.Add("--pdeathsig");
            info.ArgumentList.Add("KILL");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(ResolveProgram(program));
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }
        }

        var process = new Process { StartInfo = info };
        var started = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Starter.Value;
        Requests.Add((process, started));
        try
        {
            await started.Task.ConfigureAwait(false);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return process;
    }

    /// <summary>What starts <paramref name="program"/> with <paramref name="arguments"/> and its stdin, stdout and stderr as pipes.</summary>
    public static ProcessStartInfo Piped(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>
    /// Waits for a child to exit. When <paramref name="stop"/> comes first, <paramref name="endInput"/> is called (the end
    /// of its stdin lets ffmpeg write what it holds and exit), the child gets <paramref name="grace"/> to exit, and is
    /// then killed with its children (and given the grace once more to be reaped). Returns its exit code, or null when it
    /// had not exited even then.
    /// </summary>
    public static async Task<int?> WaitOrStopAsync(Process process, CancellationToken stop, Action endInput, TimeSpan grace, TimeProvider time)
    {
        try
        {
            await process.WaitForExitAsync(stop).ConfigureAwait(false);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
        }

        // The grace counts from the stop: its timer is set before the input is ended.
        var withinGrace = WaitForExitAsync(process, grace, time);
        endInput();
        if (!await withinGrace.ConfigureAwait(false))
        {
            try
            {
                process.Kill(entireProcessTree: true);
                await WaitForExitAsync(process, grace, time).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException)
            {
                // it has exited meanwhile
            }
        }

        return process.HasExited ? process.ExitCode : null;
    }

    private static async Task<bool> WaitForExitAsync(Process process, TimeSpan timeout, TimeProvider time)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        try
        {
            await process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The program as the command line named it: the command itself, for messages.</summary>
    public static string DisplayCommand(Process process)
    {
        var arguments = process.StartInfo.ArgumentList;
        int skip = process.StartInfo.FileName == SetPriv && arguments.Count >= 4 ? 3 : 0;
        return string.Join(' ', arguments.Skip(skip).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
    }

    private static string ResolveProgram(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return program;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(directory, program);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        // setpriv reports "failed to execute" itself; keep the name so the message names it.
        throw new System.ComponentModel.Win32Exception(2, $"'{program}' was not found on PATH");
    }

    private static void StartLoop()
    {
        foreach (var (process, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                process.Start();
                started.SetResult(true);
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        }
    }
}
