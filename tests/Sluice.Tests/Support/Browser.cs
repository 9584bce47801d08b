using System.Globalization;
using System.Text.Json;

namespace Sluice.Tests.Support;

/// <summary>Runs one of the tests/browser scripts (Chromium through Playwright) and reads the JSON line it reports.</summary>
public static class Browser
{
    /// <summary>
    /// The niceness every browser run starts at, node and the Chromium it launches alike (children inherit it). The
    /// browser stands in for a viewer on a machine of its own, the feeder for a publisher on another; here they share two
    /// cores with the server, so the browser yields to them, in every browser test: each one's player depends on its
    /// feeder keeping real time, and none measures the browser's own speed. The feeder and the server stay at the normal
    /// priority; nothing is raised.
    /// </summary>
    /// <remarks>
    /// Chromium sets its threads' niceness itself, to absolute values: run as root (CAP_SYS_NICE) under `nice -n 10`, its
    /// compositor, media, audio and IO threads ran at -8, above the feeder, the rest at 0 or 5. So the browser also runs
    /// without CAP_SYS_NICE (`setpriv`), and with RLIMIT_NICE 0 none of its threads can go below the niceness it starts
    /// at (every one read 10 in /proc/PID/task/TID/stat). Both are set before node starts, on every thread: Linux's
    /// niceness is a thread's, so setting it on a started process would reach only its main thread.
    /// </remarks>
    public const int Niceness = 10;

    public static async Task<JsonElement> RunAsync(string script, params object[] arguments)
    {
        string folder = Path.Combine(Configs.RepoRoot, "tests", "browser");
        var args = new List<string> { "--inh-caps=-sys_nice", "--bounding-set=-sys_nice", "--", "nice", "-n", Niceness.ToString(CultureInfo.InvariantCulture), "node", Path.Combine(folder, script) };
        args.AddRange(arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)!));
        int seconds = arguments.OfType<int>().LastOrDefault();
        var run = await ProcessRunner.RunAsync("setpriv", args, TimeSpan.FromSeconds(seconds + 75), folder);
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = json.RootElement.Clone();
        Assert.True(root.GetProperty("errors").GetArrayLength() == 0, run.StdOut);
        return root;
    }
}
