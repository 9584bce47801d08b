namespace Sluice.Server.Streams;

/// <summary>
/// The viewers of something that runs only while watched (a stream's <c>OnDemand</c>: its encoder, a file stream's
/// source): counts them, calls <c>start</c> when the first comes, and <c>stop</c> once the last has been gone for the
/// linger (not if one came back meanwhile, which finds it running). The callbacks run outside its lock, and each must tell by itself whether
/// there is anything to start or stop. Without a linger (not OnDemand) it only counts. The wait is on the server's clock.
/// </summary>
internal sealed class Demand(TimeSpan? linger, TimeProvider time, Action start, Func<TimeSpan, Task> stop)
{
    private readonly Lock _lock = new();
    private int _viewers;
    private CancellationTokenSource? _lingering;
    private bool _closed;

    public bool OnDemand => linger is not null;

    public int Viewers { get { lock (_lock) { return _viewers; } } }

    /// <summary>A viewer came; dispose the result when it leaves.</summary>
    public IDisposable Watch()
    {
        bool first;
        lock (_lock)
        {
            // A viewer back within the linger finds it still running: nothing to start.
            bool lingering = _lingering is not null;
            _lingering?.Cancel();
            _lingering = null;
            first = ++_viewers == 1 && !lingering && linger is not null && !_closed;
        }

        if (first)
        {
            start();
        }

        return new Viewer(this);
    }

    /// <summary>No start or stop after this (its owner is stopping); a linger under way is cancelled.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _lingering?.Cancel();
        }
    }

    private void Leave()
    {
        CancellationToken cancelled;
        lock (_lock)
        {
            if (--_viewers > 0 || linger is null || _closed)
            {
                return;
            }

            _lingering = new CancellationTokenSource();
            cancelled = _lingering.Token;
        }

        _ = StopWhenUnwatchedAsync(linger.Value, cancelled);
    }

    private async Task StopWhenUnwatchedAsync(TimeSpan after, CancellationToken cancelled)
    {
        try
        {
            await Task.Delay(after, time, cancelled).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_lock)
        {
            if (_viewers > 0 || _closed || cancelled.IsCancellationRequested)
            {
                return;
            }

            _lingering = null; // stopping: the next viewer starts it again
        }

        await stop(after).ConfigureAwait(false);
    }

    private sealed class Viewer(Demand owner) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                owner.Leave();
            }
        }
    }
}
