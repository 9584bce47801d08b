namespace Sluice.Server.Streams;

/// <summary>
/// Merged writes for the viewers of one stream: its waiting viewers are woken about once an interval, so that each
/// takes what came meanwhile in one batch, one send (SRS's merged writes). A chunk wakes them when an interval of media
/// time or of the server's clock has passed since the last wake; any other chunk is held, and a timer of the stream's
/// own wakes them <see cref="TimerDelay"/> intervals after the last wake, so no chunk waits much longer than the
/// interval, even when the feed pauses right after it. In a steady feed the media time decides, on the ingest's thread,
/// as every wake did before; the timer is for the pause.
/// </summary>
/// <remarks>
/// A viewer's cost is nearly all per send, not per byte (the system call, and on the way out the TCP segment and the
/// receiver's wake-up): at 5000 viewers of a 640 kbit/s stream whose publisher writes every 200 ms, waking once every
/// 400 ms halved the server's CPU per delivered Gbit/s (bench/history.md, 2026-12-07). One timer a stream, not a viewer:
/// the viewers wait on the ring as before.
/// </remarks>
internal sealed class MergedWakes : IDisposable
{
    /// <summary>
    /// The timer wakes held chunks this many intervals after the last wake: later than the interval, so that in a steady
    /// feed the next chunk (an interval of media time on) wakes the viewers on the ingest's thread, not the timer on a
    /// pool thread, which a loaded machine runs late; soon enough that a paused feed's last chunks wait little.
    /// </summary>
    public const double TimerDelay = 1.5;

    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly Lock _waking = new();
    private readonly List<ViewerSignal> _signals = [];
    private readonly long _intervalTicks;
    private long _lastWake = long.MinValue;
    private long _lastWakeMedia = long.MinValue;
    private long _heldMedia;
    private bool _armed;
    private ChunkRing? _held;

    public MergedWakes(TimeProvider time, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _time = time;
        _interval = interval;
        _intervalTicks = (long)(interval.TotalSeconds * Sluice.Media.MediaTime.TicksPerSecond);
        _timer = time.CreateTimer(static s => ((MergedWakes)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Whether a chunk of media time <paramref name="mediaTime"/> about to be appended to <paramref name="ring"/> should
    /// wake its viewers: true once the interval has passed since the last wake, in media time or on the clock; otherwise
    /// false, and the timer wakes them when it has on the clock.
    /// </summary>
    public bool ShouldWake(ChunkRing ring, long mediaTime)
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            var since = _lastWake == long.MinValue ? _interval : _time.GetElapsedTime(_lastWake, now);
            if (since >= _interval || _lastWakeMedia == long.MinValue || mediaTime - _lastWakeMedia >= _intervalTicks)
            {
                _lastWake = now;
                _lastWakeMedia = mediaTime;
                _held = null;
                if (_armed)
                {
                    _armed = false;
                    _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                }

                return true;
            }

            _held = ring;
            _heldMedia = mediaTime;
            if (!_armed)
            {
                _armed = true;
                _timer.Change(_interval * TimerDelay - since, Timeout.InfiniteTimeSpan);
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
            _lastWakeMedia = _heldMedia;
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
