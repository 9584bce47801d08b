namespace Sluice.Server.Streams;

/// <summary>
/// Merged writes for the viewers of one stream: its waiting viewers are woken at most once an interval on the server's
/// clock, so that each takes what came meanwhile in one batch, one send (SRS's merged writes). A chunk that would have
/// woken them within the interval is held, and a timer of the stream's own wakes them at the interval's end, so no
/// chunk waits longer than the interval, even when the feed pauses right after it.
/// </summary>
/// <remarks>
/// A viewer's cost is nearly all per send, not per byte (the system call, and on the way out the TCP segment and the
/// receiver's wake-up): at 5000 viewers of a 640 kbit/s stream whose publisher writes every 200 ms, waking once every
/// 400 ms halved the server's CPU per delivered Gbit/s (bench/history.md, 2026-12-07). One timer a stream, not a viewer:
/// the viewers wait on the ring as before.
/// </remarks>
internal sealed class MergedWakes : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Lock _waking = new();
    private readonly List<ViewerSignal> _signals = [];
    private long _lastWake = long.MinValue;
    private bool _armed;
    private ChunkRing? _held;

    public MergedWakes(TimeProvider time, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _time = time;
        _interval = interval;
        _timer = time.CreateTimer(static s => ((MergedWakes)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public TimeSpan Interval => _interval;

    /// <summary>
    /// Whether a chunk just appended to <paramref name="ring"/> (unwoken) should wake its viewers now: true once the
    /// interval has passed since the last wake; otherwise false, and the timer wakes them when it has.
    /// </summary>
    public bool ShouldWake(ChunkRing ring)
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            var since = _lastWake == long.MinValue ? _interval : _time.GetElapsedTime(_lastWake, now);
            if (since >= _interval)
            {
                _lastWake = now;
                _held = null;
                if (_armed)
                {
                    _armed = false;
                    _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                }

                return true;
            }

            _held = ring;
            if (!_armed)
            {
                _armed = true;
                _timer.Change(_interval - since, Timeout.InfiniteTimeSpan);
            }

            return false;
        }
    }

    private void OnTimer()
    {
        ChunkRing? ring;
        lock (_lock)
        {
            if (!_armed)
            {
                return; // a wake came first (the timer was already on its way)
            }

            _armed = false;
            _lastWake = _time.GetTimestamp();
            ring = _held;
            _held = null;
        }

        if (ring is not null)
        {
            lock (_waking)
            {
                ring.WakeWaiting(_signals);
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
