using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>The sluice command itself, as scripts/run starts it.</summary>
public sealed class CommandLineTests
{
    private static string Sluice => Path.Combine(AppContext.BaseDirectory, "sluice.dll");

    [Fact]
    public async Task The_seed_config_is_valid_with_a_warning_for_the_preset_line_ffserver_refused()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--check", "-f", Configs.SeedPath], TimeSpan.FromSeconds(30));
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"{Configs.SeedPath}:17: warning: AVOptionVideo preset medium: libvpx has no 'preset' option", result.StdErr);
        Assert.Contains("configuration is valid (1 feeds, 1 streams)", result.StdErr);
    }

    [Fact]
    public async Task A_bad_config_lists_every_error_with_file_and_line_and_does_not_start()
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-bad-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, "Port 99999\n<Feed a.ffm>\nFileMaxSize 200\n</Feed>\n<Stream s>\nFeed b.ffm\nVideoCodek libvpx\n");
        try
        {
            var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--config", file, "--port", "0"], TimeSpan.FromSeconds(30));
            Assert.Equal(1, result.ExitCode);
            var lines = result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(
            [
                $"{file}:1: invalid port '99999' for Port: expected a whole number from 1 to 65535",
                $"{file}:3: invalid FileMaxSize '200': expected a number with a K, M or G suffix (1024-based), e.g. 200K or 5M",
                $"{file}:5: <Stream s> is never closed; add </Stream> after its last directive",
                $"{file}:6: <Stream s> reads Feed b.ffm, but no <Feed b.ffm> is defined; defined feeds: a.ffm; did you mean 'a.ffm'?",
                $"{file}:7: unknown directive 'VideoCodek' inside <Stream s> (line 5); did you mean 'VideoCodec'?",
                "sluice: the configuration has 5 error(s); not starting.",
            ], lines);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_missing_config_file_is_named()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "-f", "/nonexistent/ffserver.conf"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("sluice: /nonexistent/ffserver.conf: no such file", result.StdErr.Trim());
    }
}
