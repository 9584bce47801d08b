namespace Sluice.Server.Hls;

/// <summary>
/// How regularly a stream's LL-HLS parts come out, and the PART-HOLD-BACK that follows from it. A player in low-latency
/// mode plays PART-HOLD-BACK behind the newest part, so the buffer it has ahead is that distance less the time since the
/// last part came: when parts stop for longer than that (a source that sends in bursts, an encoder starved of CPU, a
/// network that stalls a second), the player runs dry. The hold-back is therefore three part targets (RFC 8216bis's
/// recommendation), or, when the source has lately left a longer gap between two parts, that gap and one part target
/// more, in whole part targets, up to three target durations (the ordinary HOLD-BACK: no lower latency is promised
/// then). Gaps are measured on the server's clock between parts of one publisher session (the time a publisher is
/// away is not a gap of its parts), and forgotten <see cref="Window"/> after they were seen.
/// </summary>
internal sealed class PartCadence(TimeProvider time)
{
    /// <summary>How long a gap between two parts keeps the hold-back up.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private readonly Queue<(long At, double Gap)> _gaps = new();
    private long _last = -1;

    /// <summary>A part came out now.</summary>
    public void OnPart()
    {
        long now = time.GetTimestamp();
        if (_last >= 0)
        {
            _gaps.Enqueue((now, time.GetElapsedTime(_last, now).TotalSeconds));
        }

        _last = now;
        Forget(now);
    }

    /// <summary>The publisher session ended: the next part begins a new cadence.</summary>
    public void OnSessionEnd() => _last = -1;

    /// <summary>The longest gap between two parts in the last <see cref="Window"/>, in seconds (0 without two parts).</summary>
    public double LongestGap()
    {
        Forget(time.GetTimestamp());
        double longest = 0;
        foreach (var (_, gap) in _gaps)
        {
            longest = Math.Max(longest, gap);
        }

        return longest;
    }

    /// <summary>The PART-HOLD-BACK, in seconds, for parts of <paramref name="partTarget"/> in segments of <paramref name="targetDuration"/>.</summary>
    public double HoldBack(double partTarget, int targetDuration)
    {
        double least = 3 * partTarget;
        double gap = LongestGap();
        if (gap + partTarget <= least)
        {
            return least;
        }

        // In whole part targets (10 ms of slack, so that a gap a hair over a multiple does not add a whole part).
        double covering = Math.Ceiling((gap + partTarget - 0.01) / partTarget) * partTarget;
        return Math.Max(least, Math.Min(covering, Math.Max(least, 3.0 * targetDuration)));
    }

    private void Forget(long now)
    {
        while (_gaps.Count > 0 && time.GetElapsedTime(_gaps.Peek().At, now) > Window)
        {
            _gaps.Dequeue();
        }
    }
}
