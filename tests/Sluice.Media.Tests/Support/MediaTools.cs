using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sluice.Media.Tests.Support;

/// <summary>Runs the real ffmpeg and ffprobe, always with a timeout; a process that overruns it is killed.</summary>
internal static class MediaTools
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr);

    public static Result Run(string executable, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
        process.StandardInput.Close();
        var stdout = new MemoryStream();
        var stdoutTask = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderrTask = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? DefaultTimeout))
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // it exited meanwhile
            }

            process.WaitForExit();
            throw new TimeoutException($"{executable} {string.Join(' ', arguments)} did not finish within {timeout ?? DefaultTimeout}");
        }

        process.WaitForExit();
        stdoutTask.Wait(TimeSpan.FromSeconds(10));
        stderrTask.Wait(TimeSpan.FromSeconds(10));
        return new Result(process.ExitCode, stdout.ToArray(), stderrTask.Result);
    }

    /// <summary>Runs ffmpeg (quiet, no stdin) and fails the test on a non-zero exit.</summary>
    public static byte[] Ffmpeg(params string[] arguments)
    {
        var result = Run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", .. arguments]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg {string.Join(' ', arguments)} exited with {result.ExitCode}: {result.Stderr}");
        }

        return result.Stdout;
    }

    /// <summary>The stderr of decoding <paramref name="path"/> completely with ffmpeg at -v error (empty when clean).</summary>
    public static string DecodeErrors(string path)
    {
        var result = Run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"]);
        return result.ExitCode == 0 ? result.Stderr : $"exit code {result.ExitCode}: {result.Stderr}";
    }

    public static JsonElement Ffprobe(params string[] arguments)
    {
        var result = Run("ffprobe", ["-hide_banner", "-v", "error", "-of", "json", .. arguments]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffprobe {string.Join(' ', arguments)} exited with {result.ExitCode}: {result.Stderr}");
        }

        return JsonDocument.Parse(Encoding.UTF8.GetString(result.Stdout)).RootElement.Clone();
    }
}
