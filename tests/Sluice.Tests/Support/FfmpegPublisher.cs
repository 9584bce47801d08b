using System.Diagnostics;
using System.Text;

namespace Sluice.Tests.Support;

/// <summary>A real ffmpeg publishing a live test pattern (VP8 + Vorbis in WebM by default) to a feed URL.</summary>
public sealed class FfmpegPublisher : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private FfmpegPublisher(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (_stderr) { _stderr.AppendLine(e.Data); } } };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public static readonly string[] WebmVp8Vorbis =
    [
        "-c:v", "libvpx", "-b:v", "512k", "-g", "30", "-deadline", "realtime", "-cpu-used", "8",
        "-c:a", "libvorbis", "-b:a", "128k", "-ac", "2",
        "-f", "webm", "-cluster_time_limit", "200", "-flush_packets", "1",
    ];

    /// <summary>H.264 + AAC in Matroska, as a phone or a camera app would push it.</summary>
    public static readonly string[] MatroskaH264Aac =
    [
        "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k",
        "-f", "matroska", "-cluster_time_limit", "200", "-flush_packets", "1",
    ];

    /// <summary>Starts ffmpeg: a 320x240 30 fps test pattern and a 440 Hz tone, in real time, encoded by <paramref name="encode"/>.</summary>
    public static FfmpegPublisher Start(string url, string[]? encode = null, string size = "320x240", string? extraInput = null, double? seconds = null, string pattern = "testsrc", int rate = 30)
    {
        var args = new List<string> { "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i", $"{pattern}=size={size}:rate={rate}", "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000" };
        if (seconds is double s)
        {
            args.AddRange(["-t", s.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        args.AddRange(encode ?? WebmVp8Vorbis);
        if (extraInput is not null)
        {
            args.AddRange(extraInput.Split(' '));
        }

        args.Add(url);
        return new FfmpegPublisher(ProcessRunner.Start("ffmpeg", args));
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StdErr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <summary>
    /// Waits for ffmpeg to exit and for its last output lines, without blocking a thread: the output is read by the
    /// socket threads, which a blocked one could be.
    /// </summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        ProcessRunner.Kill(_process);
        _process.Dispose();
    }
}
