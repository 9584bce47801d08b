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
    public Task Check_lists_the_errors_of_every_section_and_exits_non_zero() =>
        AssertCheckRefusesAsync(
            "HTTPPort 8090\nRTMPPort 8090\n<Feed a.ffm>\nFileMaxSize 8K\n</Feed>\n<Stream s>\nFeed a.ffm\nVideoQMin 70\n</Stream>\n",
            file =>
            [
                $"{file}:2: RTMPPort 8090 is also the HTTPPort; RTMP needs a port of its own (1935 is RTMP's)",
                $"{file}:4: FileMaxSize 8K is too small: the minimum is 16K (16384 bytes)",
                $"{file}:8: invalid VideoQMin '70': expected a whole number from 0 to 69",
                "sluice: the configuration has 3 error(s); not starting.",
            ]);

    [Fact]
    public Task Check_of_a_file_stream_whose_file_is_missing_names_the_file_line_and_exits_non_zero()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"sluice-missing-{Guid.NewGuid():N}.mp4");
        return AssertCheckRefusesAsync(
            $"<Stream clip.webm>\nFormat webm\nFile {missing}\nNoLoop\n</Stream>\n",
            file =>
            [
                $"{file}:3: <Stream clip.webm> plays the file {missing}, which does not exist; give the path of a Matroska/WebM, MPEG-TS, FLV or MP4/MOV file",
                "sluice: the configuration has 1 error(s); not starting.",
            ]);
    }

    /// <summary>`sluice --check` of a config file holding <paramref name="text"/> exits 1 with exactly these lines (given the file's path).</summary>
    private static async Task AssertCheckRefusesAsync(string text, Func<string, string[]> expected)
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-check-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, text);
        try
        {
            var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--check", "-f", file], TimeSpan.FromSeconds(30));
            Assert.Equal(1, result.ExitCode);
            Assert.Equal(expected(file), result.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("HTTP")]
    [InlineData("RTMP")]
    public async Task A_port_already_taken_names_the_listener_that_could_not_bind(string taken)
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int busy = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        int free = Ports.Free();
        var (http, rtmp) = taken == "HTTP" ? (busy, free) : (free, busy);
        string file = Path.Combine(Path.GetTempPath(), $"sluice-busy-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, $"HTTPPort {http}\nHTTPBindAddress 127.0.0.1\nRTMPPort {rtmp}\n<Feed a.ffm>\n</Feed>\n<Stream s>\nFeed a.ffm\n</Stream>\n");
        try
        {
            var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--config", file], TimeSpan.FromSeconds(30));
            Assert.Equal(1, result.ExitCode);
            string expected = taken == "HTTP" ? $"sluice: cannot listen on HTTP 127.0.0.1:{busy}: " : $"sluice: cannot listen on RTMP 127.0.0.1:{busy} (RTMPPort): ";
            Assert.Contains(expected, result.StdErr);
            Assert.DoesNotContain("   at ", result.StdErr + result.StdOut); // the reason in one line, no stack trace beside it
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
