using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Server.Feeds;

namespace Sluice.Server.Streams;

/// <summary>What the status page shows of a feed's encoder.</summary>
public sealed record EncoderStatus(
    string Feed,
    IReadOnlyList<string> Streams,
    string State,
    int? ProcessId,
    int Starts,
    int Restarts,
    string? LastError,
    double? Speed,
    long Frames,
    long DroppedPackets,
    string? Command);

/// <summary>
/// Reads a source feed for all of its streams. Per publisher session it decides, stream by stream, whether the
/// feed already carries what the stream asks for (the packets pass through untouched, no encoder runs) or not;
/// the streams that need encoding share one ffmpeg, which decodes the feed once and encodes every one of them
/// (as ffserver's single feeder did). The encoder runs while the feed has a publisher: a stream's first viewer
/// then starts at once at a keyframe, and one process serving all renditions of the feed is never restarted
/// because one stream's audience came or went. It is restarted with exponential backoff when it dies, and
/// stopped when the feed's publisher leaves or the server stops.
/// </summary>
public sealed partial class FeedTranscoder : IFeedListener, IAsyncDisposable
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>A run this long resets the backoff.</summary>
    private static readonly TimeSpan StableRun = TimeSpan.FromSeconds(30);

    private readonly Feed _source;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();

    private List<Rendition> _passing = [];
    private CancellationTokenSource? _session;
    private Task _supervisor = Task.CompletedTask;
    private volatile EncoderRun? _run;
    private EncoderRun? _lastRun;
    private IReadOnlyList<string> _encodedStreams = [];
    private int _starts;
    private int _restarts;
    private string? _state;

    public FeedTranscoder(Feed source, IReadOnlyList<Rendition> renditions, ILogger logger)
    {
        _source = source;
        Renditions = renditions;
        _logger = logger;
        source.Subscribe(this);
    }

    public IReadOnlyList<Rendition> Renditions { get; }

    public Feed Source => _source;

    public EncoderStatus Status
    {
        get
        {
            var run = _run ?? _lastRun;
            lock (_lock)
            {
                return new EncoderStatus(
                    _source.Name, _encodedStreams, _state ?? "idle", _run?.ProcessId, _starts, _restarts,
                    run?.LastError, _run?.Speed, run?.Frames ?? 0, run?.DroppedPackets ?? 0, run?.CommandLine);
            }
        }
    }

    public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues)
    {
        StopSession();
        var passing = new List<Rendition>();
        var encoding = new List<Rendition>();
        foreach (var rendition in Renditions)
        {
            var plan = rendition.Decide(tracks);
            if (plan.Encodes)
            {
                rendition.StartEncoded(plan);
                encoding.Add(rendition);
            }
            else
            {
                rendition.StartPassThrough(plan, tracks.Count);
                passing.Add(rendition);
            }
        }

        _passing = passing;
        if (encoding.Count == 0)
        {
            return;
        }

        var session = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        var snapshot = tracks.ToList();
        lock (_lock)
        {
            _session = session;
            _encodedStreams = encoding.Select(r => r.Name).ToList();
            _state = "starting";
            _supervisor = Task.Run(() => SuperviseAsync(snapshot, encoding, session.Token));
        }
    }

    public void OnPacket(MediaPacket packet)
    {
        foreach (var rendition in _passing)
        {
            rendition.Forward(packet);
        }

        if (_run is { } run)
        {
            if (run.Replayed)
            {
                run.Enqueue(packet);
            }
            else
            {
                // A new run starts from the feed's newest keyframe (this packet is in the ring already), so a
                // restarted encoder has pictures to show at once.
                run.Replayed = true;
                foreach (var queued in _source.SnapshotFromKeyframe())
                {
                    run.Enqueue(queued);
                }
            }
        }
    }

    public void OnSessionEnd() => StopSession();

    private void StopSession()
    {
        foreach (var rendition in Renditions)
        {
            rendition.EndSession();
        }

        _passing = [];
        lock (_lock)
        {
            _session?.Cancel();
            _session?.Dispose();
            _session = null;
        }
    }

    private async Task SuperviseAsync(IReadOnlyList<TrackInfo> tracks, List<Rendition> renditions, CancellationToken stop)
    {
        var backoff = MinBackoff;
        while (!stop.IsCancellationRequested)
        {
            var run = new EncoderRun(_source.Name, tracks, renditions, _logger);
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

            LogExited(_logger, _source.Name, exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(did not start)", run.LastError ?? "", backoff.TotalSeconds);
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
            if (_session is null || _session.IsCancellationRequested)
            {
                _state = "stopped";
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task supervisor;
        lock (_lock)
        {
            supervisor = _supervisor;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        try
        {
            await supervisor.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _disposed.Dispose();
    }

    [LoggerMessage(EventId = 225, Level = LogLevel.Warning, Message = "Feed {Feed}: encoder exited with code {Code} ({LastError}); restarting in {Seconds} s")]
    private static partial void LogExited(ILogger logger, string feed, string code, string lastError, double seconds);
}
