using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Processes;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Streams;

/// <summary>
/// A stream whose container ffmpeg writes (<see cref="OutputFormat.MuxedByFfmpeg"/>: mpeg, asf, swf, ismv): one
/// ffmpeg for the stream, whatever its number of viewers, supervised for the feed's session. Its packets go to the
/// ffmpeg of the current run instead of a muxer; each run's output (its header, then the units its scanner cuts)
/// becomes the stream's output when the header is whole, and ends when ffmpeg does.
/// </summary>
internal sealed partial class LiveStream
{
    /// <summary>500 ms, doubling up to 30 s; a run of 30 s resets it (as the encoders').</summary>
    private static readonly Backoff FfmpegBackoff = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

    private readonly FfmpegMuxing? _muxing;
    private readonly TimeProvider _time;
    private Supervisor? _ffmpeg;
    private Supervisor? _latestFfmpeg;   // the last one started, kept after its stop for the status page
    private int _ffmpegStarts;
    private int _ffmpegRestarts;
    private volatile FfmpegMuxRun? _ffmpegRun;
    private readonly EncoderFailures _ffmpegFailures = new();
    private FfmpegMuxRun? _lastFfmpegRun;   // the run that ended last, for its exit's report (on the supervisor's loop)

    /// <summary>The ffmpeg that writes the stream's container now, or null (not such a stream, no session, between runs).</summary>
    public FfmpegMuxRun? FfmpegRun => _ffmpegRun;

    /// <summary>
    /// What the status page shows of the ffmpeg that writes the stream's container, as of an encoder's row: its state
    /// (failing while it fails the same way every time), process, starts, restarts and last message. Null for a stream
    /// whose container Sluice writes.
    /// </summary>
    public ContainerFfmpegStatus? FfmpegStatus
    {
        get
        {
            if (_muxing is null)
            {
                return null;
            }

            lock (_lock)
            {
                var run = _ffmpegRun ?? _lastFfmpegRun;
                var state = _ffmpegFailures.Reason is not null && _ffmpeg is not null ? "failing" : EncoderGroup.StateText(_latestFfmpeg?.State);
                return new ContainerFfmpegStatus(
                    Name, Config.Feed ?? "", _muxing.Muxer, state, _ffmpegRun?.ProcessId, _ffmpegStarts, _ffmpegRestarts,
                    _ffmpegFailures.Reason ?? run?.LastError, run?.CommandLine)
                {
                    SameFailures = _ffmpegFailures.Count,
                };
            }
        }
    }

    /// <summary>Stops the stream's ffmpeg (the session has ended, or the server stops); completes when it has exited.</summary>
    public Task StopFfmpegAsync()
    {
        Supervisor? supervisor;
        lock (_lock)
        {
            supervisor = _ffmpeg;
            _ffmpeg = null;
        }

        return supervisor?.StopAsync() ?? Task.CompletedTask;
    }

    /// <summary>A new session: a new ffmpeg run for the tracks the stream keeps (under the lock).</summary>
    private void StartFfmpeg(IReadOnlyList<TrackInfo> tracks, FfmpegMuxing muxing)
    {
        var selected = SelectTracks(tracks);
        _ = _ffmpeg?.StopAsync();
        _ffmpeg = null;
        if (selected.Count == 0)
        {
            return;
        }

        var supervisor = new Supervisor(stop => RunFfmpegAsync(selected, muxing, stop), FfmpegBackoff, _time, OnFfmpegExited);
        _ffmpeg = supervisor;
        _latestFfmpeg = supervisor;
        supervisor.Start();
    }

    private async Task<int?> RunFfmpegAsync(IReadOnlyList<TrackInfo> tracks, FfmpegMuxing muxing, CancellationToken stop)
    {
        var run = new FfmpegMuxRun(this, tracks, muxing, _ringBytes, PublishFfmpegOutput, _ffmpegFailures, _logger, _time);
        lock (_lock)
        {
            _ffmpegStarts++;
            _lastFfmpegRun = run;
        }

        _ffmpegRun = run;
        try
        {
            return await run.RunAsync(stop).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _ffmpegRun, null, run);
        }
    }

    private void PublishFfmpegOutput(StreamOutput output)
    {
        StreamOutput? previous;
        lock (_lock)
        {
            previous = _output;
            _output = output;
        }

        previous?.Ring.Complete();
    }

    /// <summary>The feed's packets from its newest keyframe, in the stream's track numbering (for a run's start).</summary>
    private IEnumerable<MediaPacket> FeedSinceKeyframe()
    {
        foreach (var packet in Feed.SnapshotFromKeyframe())
        {
            if ((uint)packet.Track < (uint)_trackMap.Length && _trackMap[packet.Track] is var track and >= 0)
            {
                yield return packet.AsTrack(track);
            }
        }
    }

    private void OnFfmpegExited(SupervisedExit exit)
    {
        string code = exit.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(did not start)";
        FfmpegMuxRun? run;
        lock (_lock)
        {
            _ffmpegRestarts++;
            run = _lastFfmpegRun;
        }

        string? reason = run?.LastError ?? exit.Error?.Message;
        // The same failure again and again is said once, then counted (as the encoders' are), not at every restart.
        switch (_ffmpegFailures.Ended(exit.ExitCode, reason, run?.Delivered ?? false))
        {
            case FailureVerdict.None or FailureVerdict.New:
                LogFfmpegExited(_logger, Name, code, reason ?? "", exit.Wait.TotalSeconds);
                break;
            case FailureVerdict.Repeating:
                LogFfmpegFailing(_logger, Name, code, _ffmpegFailures.Reason!);
                break;
            case FailureVerdict.Count:
                LogFfmpegStillFailing(_logger, Name, _ffmpegFailures.Count, _ffmpegFailures.Reason!, exit.Wait.TotalSeconds);
                break;
        }
    }

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Stream {Stream}: the ffmpeg writing its container exited with code {Code} ({LastError}); restarting in {Seconds} s")]
    private static partial void LogFfmpegExited(ILogger logger, string stream, string code, string lastError, double seconds);

    [LoggerMessage(EventId = 206, Level = LogLevel.Error, Message = "Stream {Stream}: the ffmpeg writing its container fails the same way every time it starts (exit code {Code}: {Reason}); it is retried with backoff, counted from now on")]
    private static partial void LogFfmpegFailing(ILogger logger, string stream, string code, string reason);

    [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "Stream {Stream}: the ffmpeg writing its container has failed {Count} times in a row the same way ({Reason}); next try in {Seconds} s")]
    private static partial void LogFfmpegStillFailing(ILogger logger, string stream, int count, string reason, double seconds);
}

/// <summary>What the status page shows of the ffmpeg that writes one stream's container (Format mpeg, asf, swf, ismv).</summary>
internal sealed record ContainerFfmpegStatus(
    string Stream,
    string Feed,
    string Format,
    string State,
    int? ProcessId,
    int Starts,
    int Restarts,
    string? LastError,
    string? Command)
{
    /// <summary>Runs in a row that failed the same way before delivering anything (0 while it works).</summary>
    public int SameFailures { get; init; }
}
