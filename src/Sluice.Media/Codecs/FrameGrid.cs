namespace Sluice.Media.Codecs;

/// <summary>
/// Restores the frame grid of constant-frame-rate video whose container rounds times to the millisecond: 30 fps
/// through such a container is 33 and 34 ms frames, where every frame lasts 3000 ticks. A time within the container's
/// precision of the grid (anchored at the first time seen) is put on it; a time off the grid passes unchanged, and
/// three in a row (a variable frame rate, or a jump of the source) anchor the grid anew at the newest.
/// </summary>
public sealed class FrameGrid
{
    private const int MissesToReanchor = 3;

    private readonly double _duration;
    private readonly long _tolerance;
    private long _anchor = long.MinValue;
    private int _misses;

    /// <param name="frameDuration">The frame duration in 90 kHz ticks (fractional for 23.976 or 59.94 fps).</param>
    /// <param name="precisionTicks">The container's time resolution in ticks (90 for milliseconds).</param>
    public FrameGrid(double frameDuration, long precisionTicks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameDuration, 1.0);
        _duration = frameDuration;
        _tolerance = Math.Min(Math.Max(precisionTicks, 1) + 1, (long)(frameDuration / 3));
    }

    public double FrameDuration => _duration;

    /// <summary>How often the grid was anchored anew (the first anchor not counted).</summary>
    public long Reanchors { get; private set; }

    /// <summary>The time on the grid nearest to <paramref name="ticks"/> when it is within the precision, else <paramref name="ticks"/>.</summary>
    public long Snap(long ticks)
    {
        if (_anchor == long.MinValue)
        {
            _anchor = ticks;
            return ticks;
        }

        double frames = Math.Round((ticks - _anchor) / _duration, MidpointRounding.AwayFromZero);
        long onGrid = _anchor + (long)Math.Round(frames * _duration, MidpointRounding.AwayFromZero);
        if (Math.Abs(ticks - onGrid) <= _tolerance)
        {
            _misses = 0;
            return onGrid;
        }

        if (++_misses >= MissesToReanchor)
        {
            _anchor = ticks;
            _misses = 0;
            Reanchors++;
        }

        return ticks;
    }

    /// <summary>
    /// The exact frame duration for a duration rounded to ticks or measured from rounded times: the common rate (n or
    /// n×1000/1001 fps) within <paramref name="tolerance"/> ticks of <paramref name="ticks"/>; <paramref name="ticks"/>
    /// itself when there is none; NaN when both a whole and a 1000/1001 rate are that close (30 and 29.97 fps differ by
    /// 3 ticks a frame: a few frames' cadence cannot tell them apart).
    /// </summary>
    public static double NominalDuration(double ticks, double tolerance = 1)
    {
        if (ticks <= 0)
        {
            return 0;
        }

        double perSecond = MediaTime.TicksPerSecond;
        double whole = Math.Round(perSecond / ticks);
        double wholeDuration = whole > 0 ? perSecond / whole : double.NaN;
        double ntsc = Math.Round(perSecond * 1001 / 1000 / ticks);
        double ntscDuration = ntsc > 0 ? perSecond * 1001 / 1000 / ntsc : double.NaN;
        bool wholeFits = Math.Abs(wholeDuration - ticks) <= tolerance;
        bool ntscFits = Math.Abs(ntscDuration - ticks) <= tolerance;
        return (wholeFits, ntscFits) switch
        {
            (true, true) => double.NaN,
            (true, false) => wholeDuration,
            (false, true) => ntscDuration,
            _ => ticks,
        };
    }
}
