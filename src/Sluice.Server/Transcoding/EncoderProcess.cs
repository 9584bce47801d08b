using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sluice.Server.Processes;

namespace Sluice.Server.Transcoding;

/// <summary>
/// One ffmpeg encoder process: started with its three pipes (under <see cref="ChildProcess"/>, so it dies with the
/// server), its stderr read line by line (progress lines to <see cref="EncoderProgress"/>, the rest to the server
/// log), and stopped with a grace: on a stop its input is ended and it has <see cref="StopGrace"/> on the server's
/// clock to finish before it is killed.
/// </summary>
internal sealed partial class EncoderProcess : IDisposable
{
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly TimeProvider _time;

    private EncoderProcess(Process process, TimeProvider time)
    {
        _process = process;
        _time = time;
    }

    public int Id => _process.Id;

    public Stream Stdin => _process.StandardInput.BaseStream;

    public Stream Stdout => _process.StandardOutput.BaseStream;

    /// <summary>The last line ffmpeg printed that was not progress: its latest warning or error.</summary>
    public string? LastMessage { get; private set; }

    /// <summary>Starts ffmpeg with these arguments; throws what starting a process throws (no ffmpeg, no setpriv).</summary>
    public static async Task<EncoderProcess> StartAsync(IEnumerable<string> arguments, TimeProvider time) =>
        new(await ChildProcess.StartAsync(ChildProcess.Piped(EncoderCheck.Ffmpeg, arguments)).ConfigureAwait(false), time);

    /// <summary>
    /// Reads stderr until ffmpeg closes it: a progress line goes to <paramref name="progress"/>, any other line to
    /// the log (as <paramref name="feed"/>'s encoder for <paramref name="streams"/>) unless <paramref name="quiet"/>
    /// says it was logged before.
    /// </summary>
    public async Task ReadErrorsAsync(EncoderProgress progress, ILogger logger, string feed, string streams, Func<string, bool> quiet)
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (progress.Read(line) || string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                LastMessage = line.Trim();
                if (!quiet(LastMessage))
                {
                    LogOutput(logger, feed, streams, line);
                }
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Waits for ffmpeg to exit. On <paramref name="stop"/>, <paramref name="endInput"/> ends its stdin and it gets
    /// <see cref="StopGrace"/> to finish; then it is killed. Returns its exit code, or null when it had to be killed.
    /// </summary>
    public Task<int?> WaitAsync(Action endInput, CancellationToken stop) =>
        ChildProcess.WaitOrStopAsync(_process, stop, endInput, StopGrace, _time);

    public void Dispose() => _process.Dispose();

    [LoggerMessage(EventId = 221, Level = LogLevel.Warning, Message = "Feed {Feed}: encoder for streams {Streams}: {Line}")]
    private static partial void LogOutput(ILogger logger, string feed, string streams, string line);
}
