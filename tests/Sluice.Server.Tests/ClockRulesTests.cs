using System.Text.RegularExpressions;

namespace Sluice.Server.Tests;

/// <summary>
/// The server reads time from its TimeProvider only, so that tests can fake it: no other clock in its source, and no
/// timer of the system's (a delay, a timeout, a token source's deadline) where the clock should decide.
/// </summary>
public sealed partial class ClockRulesTests
{
    /// <summary>
    /// Where a timer of the system's is allowed, by file: the host's wiring (it makes the server's clock, and waits for
    /// the encoders as the host stops).
    /// </summary>
    private static readonly string[] SystemTimersAllowed =
    [
        Path.Combine("src", "Sluice.Server", "Hosting", "SluiceHost.cs"),
    ];

    [Fact]
    public void No_source_file_of_the_server_reads_a_clock_other_than_its_TimeProvider()
    {
        var found = new List<string>();
        foreach (var (file, lines) in SourceFiles())
        {
            for (int i = 0; i < lines.Length; i++)
            {
                if (!IsComment(lines[i]) && Clock().IsMatch(lines[i]))
                {
                    found.Add($"{file}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        Assert.Empty(found);
    }

    [Fact]
    public void No_delay_or_timeout_of_the_server_runs_on_the_system_s_timers()
    {
        var found = new List<string>();
        foreach (var (file, lines) in SourceFiles())
        {
            if (!SystemTimersAllowed.Contains(file))
            {
                found.AddRange(SystemTimers(file, lines));
            }
        }

        Assert.Empty(found);
    }

    [Theory]
    [InlineData("using var limit = new CancellationTokenSource(DiscardTime);", 1)]
    [InlineData("var t = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, n)));", 1)]
    [InlineData("using var limit = new CancellationTokenSource(DiscardTime, _time);", 0)]
    [InlineData("_stop = new CancellationTokenSource();", 0)]
    [InlineData("await Task.Delay(100);", 1)]
    [InlineData("await Task.Delay(TimeSpan.FromMilliseconds(50), context.RequestAborted);", 1)]
    [InlineData("await Task.Delay(wait, TimeProvider.System, stop);", 1)]
    [InlineData("await Task.Delay(TimeSpan.FromMilliseconds(200), _server.Time, CancellationToken.None);", 0)]
    [InlineData("await Task.Delay(AcceptRetry, _factory._time, _stop.Token);", 0)]
    [InlineData("var flush = CancellationTokenSource.CreateLinkedTokenSource(aborted);\nflush.CancelAfter(timeout);", 1)]
    [InlineData("var flush = new CancellationTokenSource();\nflush.CancelAfter(timeout);", 1)]
    [InlineData("using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _server.Time);\nidle.CancelAfter(IdleTimeout);", 0)]
    [InlineData("var source = new CancellationTokenSource(\n    Timeout.InfiniteTimeSpan, _time);\n_source.CancelAfter(timeout);", 0)]
    [InlineData("// await Task.Delay(100): a comment", 0)]
    public void The_rule_finds_the_forms_that_run_on_the_system_s_timers(string source, int expected)
    {
        Assert.Equal(expected, SystemTimers("t.cs", source.Split('\n')).Count());
    }

    /// <summary>
    /// Token sources given a delay but no clock, <c>Task.Delay</c> without a clock, and <c>CancelAfter</c> on a source
    /// not made with a clock in the same file (a linked source takes none: its deadline is the system's).
    /// </summary>
    private static IEnumerable<string> SystemTimers(string file, string[] lines)
    {
        string text = string.Join('\n', lines);
        int[] starts = new int[lines.Length];
        for (int i = 1; i < lines.Length; i++)
        {
            starts[i] = starts[i - 1] + lines[i - 1].Length + 1;
        }

        int LineOf(int index) => Array.FindLastIndex(starts, s => s <= index);

        var clockSources = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in SourceCreation().Matches(text))
        {
            if (!IsComment(lines[LineOf(m.Index)]) && Arguments(text, m.Index + m.Length) is [_, var clock] && IsClock(clock))
            {
                clockSources.Add(m.Groups["name"].Value.TrimStart('_'));
            }
        }

        foreach (Match m in TimerCall().Matches(text))
        {
            int line = LineOf(m.Index);
            if (IsComment(lines[line]))
            {
                continue;
            }

            bool systems = m.Groups["form"].Value switch
            {
                "new CancellationTokenSource(" => Arguments(text, m.Index + m.Length) is var a && a.Count > 0 && (a.Count != 2 || !IsClock(a[1])),
                "Task.Delay(" => Arguments(text, m.Index + m.Length) is not [_, var clock, ..] || !IsClock(clock),
                _ => !clockSources.Contains(m.Groups["receiver"].Value.TrimStart('_')),
            };
            if (systems)
            {
                yield return $"{file}:{line + 1}: {lines[line].Trim()}";
            }
        }
    }

    /// <summary>The top-level arguments of a call whose opening parenthesis ends just before <paramref name="from"/>.</summary>
    private static List<string> Arguments(string text, int from)
    {
        var arguments = new List<string>();
        int depth = 0;
        int start = from;
        for (int i = from; i < text.Length; i++)
        {
            char c = text[i];
            if (c is '(' or '[' or '{')
            {
                depth++;
            }
            else if ((c is ')' or ']' or '}') && depth > 0)
            {
                depth--;
            }
            else if (c == ')' || (c == ',' && depth == 0))
            {
                string argument = text[start..i].Trim();
                if (argument.Length > 0 || c == ',')
                {
                    arguments.Add(argument);
                }

                if (c == ')')
                {
                    break;
                }

                start = i + 1;
            }
        }

        return arguments;
    }

    /// <summary>An argument that names a TimeProvider the way the server's code does (<c>_time</c>, <c>server.Time</c>, ...).</summary>
    private static bool IsClock(string argument) => ClockName().IsMatch(argument);

    private static bool IsComment(string line) => line.TrimStart().StartsWith("//", StringComparison.Ordinal);

    private static IEnumerable<(string File, string[] Lines)> SourceFiles()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Sluice.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Sluice.slnx above the test's folder");
        }

        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "src", "Sluice.Server"), "*.cs", SearchOption.AllDirectories))
        {
            if (!file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                yield return (Path.GetRelativePath(root, file), File.ReadAllLines(file));
            }
        }
    }

    [GeneratedRegex(@"\b(DateTime(Offset)?\.(UtcNow|Now|Today)|Stopwatch\.|Environment\.TickCount)")]
    private static partial Regex Clock();

    [GeneratedRegex(@"(?<form>new CancellationTokenSource\(|\bTask\.Delay\(|(?<receiver>\w+)(\.Value)?!?\.CancelAfter\()")]
    private static partial Regex TimerCall();

    [GeneratedRegex(@"\b(?<name>\w+)\s*=\s*new CancellationTokenSource\(")]
    private static partial Regex SourceCreation();

    [GeneratedRegex(@"(^|\.)_?([Tt]ime|[Tt]imeProvider|[Cc]lock)$")]
    private static partial Regex ClockName();
}
