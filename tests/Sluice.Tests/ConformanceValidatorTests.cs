using Sluice.Tests.Support;
using Sluice.Tests.Support.Conformance;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>The conformance validator on output of today's server kept as files (Fixtures/Conformance, see its README).</summary>
public sealed class ConformanceFixtureTests(ITestOutputHelper output)
{
    private static string Fixture(string name) => Path.Combine(Configs.RepoRoot, "tests", "Sluice.Tests", "Fixtures", "Conformance", name);

    [Fact]
    public void The_DASH_audio_of_a_Matroska_feed_as_served_before_the_timeline_fixes_breaks_the_audio_rules()
    {
        var capture = new DashCapture("matroska/dash");
        foreach (string file in Directory.GetFiles(Fixture("matroska-h264-aac-dash")).Order(StringComparer.Ordinal))
        {
            if (file.EndsWith(".mpd", StringComparison.Ordinal))
            {
                capture.Manifests.Add(File.ReadAllText(file));
            }
            else if (!file.EndsWith(".md", StringComparison.Ordinal))
            {
                capture.Bodies[Path.GetFileName(file)] = File.ReadAllBytes(file);
            }
        }

        var findings = Validator.CheckDash(capture);
        output.WriteLine(Validator.Report(findings, 50));
    }
}
