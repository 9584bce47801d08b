using System.Text.RegularExpressions;

namespace Sluice.Server.Tests;

/// <summary>The server reads time from its TimeProvider only, so that tests can fake it: no other clock in its source.</summary>
public sealed partial class ClockRulesTests
{
    [Fact]
    public void No_source_file_of_the_server_reads_a_clock_other_than_its_TimeProvider()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Sluice.slnx")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Sluice.slnx above the test's folder");
        }

        var found = new List<string>();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "src", "Sluice.Server"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (!lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal) && Clock().IsMatch(lines[i]))
                {
                    found.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        Assert.Empty(found);
    }

    [GeneratedRegex(@"\b(DateTime(Offset)?\.(UtcNow|Now|Today)|Stopwatch\.|Environment\.TickCount)")]
    private static partial Regex Clock();
}
