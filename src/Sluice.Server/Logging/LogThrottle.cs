namespace Sluice.Server.Logging;

/// <summary>
/// Keeps a flood of one kind of event from flooding the log: the first event of a kind in an interval is logged by the
/// caller at once; the rest are counted, and when the interval ends one summary per kind reports how many there were
/// (with the last one's detail). Thousands of refused connections leave a handful of lines, each with a count.
/// </summary>
/// <remarks>
/// Thread-safe; the summary callback runs on a timer thread, outside the lock. Kinds are bounded: every kind's window
/// ends with the interval, and beyond <see cref="MaxKinds"/> kinds in one interval the rest are counted together under
/// <see cref="OtherKinds"/>, so kinds a client can choose (names in a refusal) cannot grow the table or the log.
/// </remarks>
internal sealed class LogThrottle : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly Action<string, int, string> _summary;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private ITimer? _timer;

    /// <summary>The kind the events beyond <see cref="MaxKinds"/> distinct kinds in an interval are counted under.</summary>
    public const string OtherKinds = "other kinds";

    /// <summary>How many kinds one interval tracks on their own.</summary>
    public const int MaxKinds = 64;

    /// <param name="summary">Reports a kind's events that were counted, not logged: (kind, count, the last one's detail).</param>
    public LogThrottle(TimeProvider time, TimeSpan interval, Action<string, int, string> summary)
    {
        _time = time;
        _interval = interval;
        _summary = summary;
    }

    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(10);

    /// <summary>True when the caller should log this event itself; false when it is counted for the interval's summary.</summary>
    public bool ShouldLog(string kind, string detail)
    {
        long now = _time.GetTimestamp();
        Window? ended = null;
        lock (_lock)
        {
            if (!_windows.ContainsKey(kind) && _windows.Count >= MaxKinds)
            {
                kind = OtherKinds;
            }

            if (_windows.TryGetValue(kind, out var window) && _time.GetElapsedTime(window.Start, now) < _interval)
            {
                window.Count++;
                window.Detail = detail;
                return false;
            }

            // A new interval for this kind: what the last one counted is reported before this event is logged. The
            // timer ends every window with the interval, so the table holds only the kinds of the last interval.
            ended = window is { Count: > 0 } ? window : null;
            _windows[kind] = new Window { Start = now };
            _timer ??= _time.CreateTimer(_ => Flush(), null, _interval, Timeout.InfiniteTimeSpan);
        }

        if (ended is not null)
        {
            _summary(kind, ended.Count, ended.Detail);
        }

        return true;
    }

    /// <summary>Reports every kind's counted events now (the timer does this at the end of each interval).</summary>
    public void Flush()
    {
        List<(string Kind, int Count, string Detail)>? due = null;
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            foreach (var (kind, window) in _windows)
            {
                if (window.Count > 0)
                {
                    (due ??= []).Add((kind, window.Count, window.Detail));
                }
            }

            // The next event of a kind starts a new interval and is logged at once.
            _windows.Clear();
        }

        foreach (var (kind, count, detail) in due ?? [])
        {
            _summary(kind, count, detail);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private sealed class Window
    {
        public long Start { get; init; }
        public int Count { get; set; }
        public string Detail { get; set; } = "";
    }
}
