using System.Globalization;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Server.Processes;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>
/// The streams of a feed that one ffmpeg encodes, and that ffmpeg's supervision: started, restarted with
/// exponential backoff when it dies (from the feed's newest keyframe), stopped on request.
/// </summary>
internal sealed partial class EncoderGroup
{
    /// <summary>500 ms, doubling up to 30 s; a run of 30 s resets it.</summary>
    private static readonly Backoff Backoff = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

    private readonly string _feed;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private Supervisor? _current;    // from Start until StopAsync
    private Supervisor? _latest;     // the last one started, kept after its stop for the status page
    private volatile EncoderRun? _run;
    private EncoderRun? _lastRun;
    private int _starts;
    private int _restarts;
    private readonly EncoderFailures _failures = new();

    public EncoderGroup(string feed, IReadOnlyList<Rendition> renditions, ILogger logger, TimeProvider time)
    {
        _feed = feed;
        Renditions = renditions;
        _logger = logger;
        _time = time;
    }

    public IReadOnlyList<Rendition> Renditions { get; }

    /// <summary>The run that takes packets now, or null.</summary>
    public EncoderRun? Run => _run;

    public bool IsRunning
    {
        get { lock (_lock) { return _current is not null; } }
    }

    public EncoderStatus Status
    {
        get
        {
            lock (_lock)
            {
                var run = _run ?? _lastRun;
                var state = _failures.Reason is not null && _current is not null ? "failing" : StateText(_latest?.State);
                return new EncoderStatus(
                    _feed, Renditions.Select(r => r.Name).ToList(), state, _run?.ProcessId, _starts, _restarts,
                    _failures.Reason ?? run?.LastError, _run?.Speed, run?.Frames ?? 0, run?.DroppedPackets ?? 0, run?.CommandLine)
                {
                    SameFailures = _failures.Count,
                };
            }
        }
    }

    /// <summary>Starts supervising an encoder for a session with these source tracks (no-op when running).</summary>
    public void Start(IReadOnlyList<TrackInfo> tracks, CancellationToken disposed)
    {
        lock (_lock)
        {
            if (_current is not null)
            {
                return;
            }

            var snapshot = tracks.ToList();
            var supervisor = new Supervisor(stop => RunOnceAsync(snapshot, stop), Backoff, _time, OnExited);
            _current = supervisor;
            _latest = supervisor;
            supervisor.Start(disposed);
        }
    }

    /// <summary>Stops the encoder; ffmpeg gets the end of its input and a moment to finish.</summary>
    public Task StopAsync()
    {
        Supervisor? latest;
        lock (_lock)
        {
            _current = null;
            latest = _latest;
        }

        return latest?.StopAsync() ?? Task.CompletedTask;
    }

    /// <summary>The state's name on the status page and in stat.json (an encoder's, and a stream's container ffmpeg's).</summary>
    internal static string StateText(SupervisorState? state) => state switch
    {
        SupervisorState.Starting => "starting",
        SupervisorState.Running => "running",
        SupervisorState.Backoff => "restarting",
        SupervisorState.Stopped => "stopped",
        _ => "idle",
    };

    private async Task<int?> RunOnceAsync(IReadOnlyList<TrackInfo> tracks, CancellationToken stop)
    {
        _failures.RunStarts();
        var run = new EncoderRun(_feed, tracks, Renditions, _logger, _time, _failures.IsRepeat, announce: _failures.Count == 0);
        lock (_lock)
        {
            _starts++;
            _lastRun = run;
        }

        _run = run;
        try
        {
            return await run.RunAsync(stop).ConfigureAwait(false);
        }
        finally
        {
            // Only this run's own: a stopped supervisor's run may still drain after a new one has begun.
            Interlocked.CompareExchange(ref _run, null, run);
        }
    }

    private void OnExited(SupervisedExit exit)
    {
        string? lastError;
        bool delivered;
        lock (_lock)
        {
            _restarts++;
            lastError = _lastRun?.LastError;
            delivered = _lastRun?.Delivered ?? false;
        }

        string streams = string.Join(", ", Renditions.Select(r => r.Name));
        if (exit.Error is { } error)
        {
            LogFailed(_logger, _feed, streams, exit.Wait.TotalSeconds, error);
            return;
        }

        string code = exit.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "(did not start)";
        bool wasFailing = _failures.Reason is not null;
        switch (_failures.Ended(exit.ExitCode, lastError, delivered))
        {
            case FailureVerdict.None or FailureVerdict.New:
                if (wasFailing)
                {
                    SetFailure(null);
                }

                LogExited(_logger, _feed, streams, code, lastError ?? "", exit.Wait.TotalSeconds);
                break;
            case FailureVerdict.Repeating:
                // Its waiting viewers are told (their responses end), and the status page shows it, until a run delivers.
                SetFailure(_failures.Reason);
                LogFailing(_logger, _feed, streams, code, _failures.Reason!);
                break;
            case FailureVerdict.Count:
                LogStillFailing(_logger, _feed, streams, _failures.Count, _failures.Reason!, exit.Wait.TotalSeconds);
                break;
        }
    }

    private void SetFailure(string? reason)
    {
        foreach (var rendition in Renditions)
        {
            rendition.SetFailure(reason);
        }
    }

    [LoggerMessage(EventId = 225, Level = LogLevel.Warning, Message = "Feed {Feed}: encoder for streams {Streams} exited with code {Code} ({LastError}); restarting in {Seconds} s")]
    private static partial void LogExited(ILogger logger, string feed, string streams, string code, string lastError, double seconds);

    [LoggerMessage(EventId = 228, Level = LogLevel.Error, Message = "Feed {Feed}: encoder for streams {Streams} fails the same way every time it starts (exit code {Code}: {Reason}); its viewers are told, and it is retried with backoff, counted from now on")]
    private static partial void LogFailing(ILogger logger, string feed, string streams, string code, string reason);

    [LoggerMessage(EventId = 229, Level = LogLevel.Error, Message = "Feed {Feed}: encoder for streams {Streams} has failed {Count} times in a row the same way ({Reason}); next try in {Seconds} s")]
    private static partial void LogStillFailing(ILogger logger, string feed, string streams, int count, string reason, double seconds);

    [LoggerMessage(EventId = 227, Level = LogLevel.Error, Message = "Feed {Feed}: encoder for streams {Streams} failed; restarting in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string feed, string streams, double seconds, Exception error);
}
