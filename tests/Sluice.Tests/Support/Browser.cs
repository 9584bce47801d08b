using System.Globalization;
using System.Text.Json;

namespace Sluice.Tests.Support;

/// <summary>Runs one of the tests/browser scripts (Chromium through Playwright) and reads the JSON line it reports.</summary>
public static class Browser
{
    public static async Task<JsonElement> RunAsync(string script, params object[] arguments)
    {
        string folder = Path.Combine(Configs.RepoRoot, "tests", "browser");
        var args = new List<string> { Path.Combine(folder, script) };
        args.AddRange(arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)!));
        int seconds = arguments.OfType<int>().LastOrDefault();
        var run = await ProcessRunner.RunAsync("node", args, TimeSpan.FromSeconds(seconds + 75), folder);
        Assert.False(run.TimedOut, run.ToString());
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = json.RootElement.Clone();
        Assert.True(root.GetProperty("errors").GetArrayLength() == 0, run.StdOut);
        return root;
    }
}
