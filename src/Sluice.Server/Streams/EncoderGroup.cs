using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sluice.Media;

namespace Sluice.Server.Streams;

/// <summary>
/// The streams of a feed that one ffmpeg encodes, and that ffmpeg's supervision: started, restarted with
/// exponential backoff when it dies (from the feed's newest keyframe), stopped on request.
/// </summary>
internal sealed partial class EncoderGroup
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>A run this long resets the backoff.</summary>
    private static readonly TimeSpan StableRun = TimeSpan.FromSeconds(30);

    private readonly string _feed;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private CancellationTokenSource? _stop;
    private Task _supervisor = Task.CompletedTask;
    private volatile EncoderRun? _run;
    private EncoderRun? _lastRun;
    private int _starts;
    private int _restarts;
    private string _state = "idle";

    public EncoderGroup(string feed, IReadOnlyList<Rendition> renditions, ILogger logger)
    {
        _feed = feed;
        Renditions = renditions;
        _logger = logger;
    }

    public IReadOnlyList<Rendition> Renditions { get; }

    /// <summary>The run that takes packets now, or null.</summary>
    public EncoderRun? Run => _run;

    public bool IsRunning
    {
        get { lock (_lock) { return _stop is not null; } }
    }

    public EncoderStatus Status
    {
        get
        {
            lock (_lock)
            {
                var run = _run ?? _lastRun;
                return new EncoderStatus(
                    _feed, Renditions.Select(r => r.Name).ToList(), _state, _run?.ProcessId, _starts, _restarts,
                    run?.LastError, _run?.Speed, run?.Frames ?? 0, run?.DroppedPackets ?? 0, run?.CommandLine);
            }
        }
    }

    /// <summary>Starts supervising an encoder for a session with these source tracks (no-op when running).</summary>
    public void Start(IReadOnlyList<TrackInfo> tracks, CancellationToken disposed)
    {
        lock (_lock)
        {
            if (_stop is not null)
            {
                return;
            }

            var stop = CancellationTokenSource.CreateLinkedTokenSource(disposed);
            _stop = stop;
            _state = "starting";
            var snapshot = tracks.ToList();
            _supervisor = Task.Run(() => SuperviseAsync(snapshot, stop.Token));
        }
    }

    /// <summary>Stops the encoder; ffmpeg gets the end of its input and a moment to finish.</summary>
    public Task StopAsync()
    {
        lock (_lock)
        {
            _stop?.Cancel();
            _stop?.Dispose();
            _stop = null;
            return _supervisor;
        }
    }

    private async Task SuperviseAsync(IReadOnlyList<TrackInfo> tracks, CancellationToken stop)
    {
        var backoff = MinBackoff;
        while (!stop.IsCancellationRequested)
        {
            var run = new EncoderRun(_feed, tracks, Renditions, _logger);
            var started = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                _starts++;
                _state = "running";
                _lastRun = run;
            }

            _run = run;
            int? exitCode;
            try
            {
                exitCode = await run.RunAsync(stop).ConfigureAwait(false);
            }
            finally
            {
                _run = null;
            }

            if (stop.IsCancellationRequested)
            {
                break;
            }

            if (Stopwatch.GetElapsedTime(started) >= StableRun)
            {
                backoff = MinBackoff;
            }

            lock (_lock)
            {
                _restarts++;
                _state = "restarting";
            }

            LogExited(_logger, _feed, string.Join(", ", Renditions.Select(r => r.Name)), exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(did not start)", run.LastError ?? "", backoff.TotalSeconds);
            try
            {
                await Task.Delay(backoff, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }

        lock (_lock)
        {
            if (_stop is null)
            {
                _state = "stopped";
            }
        }
    }

    [LoggerMessage(EventId = 225, Level = LogLevel.Warning, Message = "Feed {Feed}: encoder for streams {Streams} exited with code {Code} ({LastError}); restarting in {Seconds} s")]
    private static partial void LogExited(ILogger logger, string feed, string streams, string code, string lastError, double seconds);
}
