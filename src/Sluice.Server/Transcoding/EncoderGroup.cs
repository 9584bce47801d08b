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
                return new EncoderStatus(
                    _feed, Renditions.Select(r => r.Name).ToList(), StateText(_latest?.State), _run?.ProcessId, _starts, _restarts,
                    run?.LastError, _run?.Speed, run?.Frames ?? 0, run?.DroppedPackets ?? 0, run?.CommandLine);
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

    /// <summary>The state's name on the status page and in stat.json.</summary>
    private static string StateText(SupervisorState? state) => state switch
    {
        SupervisorState.Starting => "starting",
        SupervisorState.Running => "running",
        SupervisorState.Backoff => "restarting",
        SupervisorState.Stopped => "stopped",
        _ => "idle",
    };

    private async Task<int?> RunOnceAsync(IReadOnlyList<TrackInfo> tracks, CancellationToken stop)
    {
        var run = new EncoderRun(_feed, tracks, Renditions, _logger, _time);
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
        lock (_lock)
        {
            _restarts++;
            lastError = _lastRun?.LastError;
        }

        string streams = string.Join(", ", Renditions.Select(r => r.Name));
        if (exit.Error is { } error)
        {
            LogFailed(_logger, _feed, streams, exit.Wait.TotalSeconds, error);
            return;
        }

        LogExited(_logger, _feed, streams, exit.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "(did not start)", lastError ?? "", exit.Wait.TotalSeconds);
    }

    [LoggerMessage(EventId = 225, Level = LogLevel.Warning, Message = "Feed {Feed}: encoder for streams {Streams} exited with code {Code} ({LastError}); restarting in {Seconds} s")]
    private static partial void LogExited(ILogger logger, string feed, string streams, string code, string lastError, double seconds);

    [LoggerMessage(EventId = 227, Level = LogLevel.Error, Message = "Feed {Feed}: encoder for streams {Streams} failed; restarting in {Seconds} s")]
    private static partial void LogFailed(ILogger logger, string feed, string streams, double seconds, Exception error);
}
