namespace Sluice.Server.Processes;

/// <summary>Where a <see cref="Supervisor"/> is in its loop.</summary>
internal enum SupervisorState
{
    /// <summary>Made, not started.</summary>
    Idle,

    /// <summary>Started; its first run has not been called yet.</summary>
    Starting,

    /// <summary>A run is under way (it has been called and has not returned).</summary>
    Running,

    /// <summary>The last run ended; waiting out the backoff before the next one.</summary>
    Backoff,

    /// <summary>Stopped, for good: the last run has returned and no other will be made.</summary>
    Stopped,
}

/// <summary>How long a <see cref="Supervisor"/> waits between runs.</summary>
/// <param name="Min">The first wait, and the wait after a stable run.</param>
/// <param name="Max">The longest wait; each wait doubles the last one up to this.</param>
/// <param name="StableRun">A run at least this long resets the wait to <paramref name="Min"/>.</param>
internal readonly record struct Backoff(TimeSpan Min, TimeSpan Max, TimeSpan StableRun)
{
    /// <summary>The wait after <paramref name="wait"/>: twice as long, at most <see cref="Max"/>.</summary>
    public TimeSpan After(TimeSpan wait) => TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, Max.Ticks));
}

/// <summary>How one run ended, as a <see cref="Supervisor"/> reports it before waiting to run again.</summary>
/// <param name="ExitCode">The run's result: the child's exit code, or null when it did not start.</param>
/// <param name="Error">What the run threw instead of returning, or null.</param>
/// <param name="Ran">How long the run took.</param>
/// <param name="Wait">How long the supervisor waits before the next run.</param>
internal readonly record struct SupervisedExit(int? ExitCode, Exception? Error, TimeSpan Ran, TimeSpan Wait);

/// <summary>
/// Runs one thing again and again until stopped: a child process, a feeder, a relay's pull. One run is an async
/// call that starts it and completes when it ends (with an exit code, or null when it did not start). When a run
/// ends without a stop, the supervisor reports the exit and waits before the next run; the wait doubles from
/// <see cref="Backoff.Min"/> to <see cref="Backoff.Max"/>, and a run of at least <see cref="Backoff.StableRun"/>
/// resets it. A run that throws counts as an exit (the exception goes to the report), so a bug in one run does not
/// end the supervision. A stop cancels the running run's token and waits for it to return; a stop during the
/// wait ends the loop at once. Time comes from the <see cref="TimeProvider"/>, so all of this is tested with a fake
/// clock. A supervisor runs once: start a new one to supervise again.
/// </summary>
internal sealed class Supervisor
{
    private readonly Func<CancellationToken, Task<int?>> _run;
    private readonly Backoff _backoff;
    private readonly TimeProvider _time;
    private readonly Action<SupervisedExit>? _exited;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _stop;   // while the loop runs and no stop has been asked for
    private bool _begun;                      // Start or RunAsync has been called
    private bool _stopAsked;
    private volatile SupervisorState _state = SupervisorState.Idle;

    /// <param name="run">One run; it gets a token that is cancelled on stop, and should then end soon.</param>
    /// <param name="backoff">The waits between runs.</param>
    /// <param name="time">The clock for run lengths and waits.</param>
    /// <param name="exited">Told of every exit that is not a stop, before the wait (called on the loop; must not throw).</param>
    public Supervisor(Func<CancellationToken, Task<int?>> run, Backoff backoff, TimeProvider time, Action<SupervisedExit>? exited = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(backoff.Min, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoff.Max, backoff.Min);
        _run = run;
        _backoff = backoff;
        _time = time;
        _exited = exited;
    }

    /// <summary>The state now; safe to read from any thread.</summary>
    public SupervisorState State => _state;

    /// <summary>Completes when the supervisor has stopped (its last run has returned).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Starts the loop on the thread pool and returns; it runs until <paramref name="stop"/> or <see cref="StopAsync"/>.</summary>
    public void Start(CancellationToken stop = default)
    {
        if (Begin(stop) is { } token)
        {
            _ = Task.Run(() => LoopAsync(token), CancellationToken.None);
        }
    }

    /// <summary>Runs the loop on the caller's flow until <paramref name="stop"/> or <see cref="StopAsync"/>; completes when it has stopped.</summary>
    public Task RunAsync(CancellationToken stop) => Begin(stop) is { } token ? LoopAsync(token) : _stopped.Task;

    /// <summary>Asks the loop to stop (the running run's token is cancelled); completes when it has stopped.</summary>
    public Task StopAsync()
    {
        CancellationTokenSource? stop;
        lock (_lock)
        {
            stop = _stop;
            _stop = null;
            if (!_begun)
            {
                _state = SupervisorState.Stopped;
                _stopped.TrySetResult();
            }

            _stopAsked = true;
        }

        if (stop is not null)
        {
            stop.Cancel();
            stop.Dispose();
        }

        return _stopped.Task;
    }

    /// <returns>The loop's token, or null when the supervisor was stopped before it began.</returns>
    private CancellationToken? Begin(CancellationToken stop)
    {
        lock (_lock)
        {
            if (_begun)
            {
                throw new InvalidOperationException("This supervisor has been started already; make a new one to supervise again.");
            }

            _begun = true;
            if (_stopAsked)
            {
                return null;
            }

            _stop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            _state = SupervisorState.Starting;
            return _stop.Token;
        }
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        var wait = _backoff.Min;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                _state = SupervisorState.Running;
                long started = _time.GetTimestamp();
                int? exitCode = null;
                Exception? error = null;
                try
                {
                    exitCode = await _run(stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // A fault in one run is an exit like any other: reported, then run again after the wait.
                    error = ex;
                }

                if (stop.IsCancellationRequested)
                {
                    break;
                }

                var ran = _time.GetElapsedTime(started);
                if (ran >= _backoff.StableRun)
                {
                    wait = _backoff.Min;
                }

                _state = SupervisorState.Backoff;
                _exited?.Invoke(new SupervisedExit(exitCode, error, ran, wait));
                try
                {
                    await Task.Delay(wait, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                wait = _backoff.After(wait);
            }
        }
        finally
        {
            CancellationTokenSource? linked;
            lock (_lock)
            {
                // Still here when the caller's token ended the loop rather than StopAsync (it is cancelled already).
                linked = _stop;
                _stop = null;
                _state = SupervisorState.Stopped;
            }

            linked?.Dispose();
            _stopped.TrySetResult();
        }
    }
}
