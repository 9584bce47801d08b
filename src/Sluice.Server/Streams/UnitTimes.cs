using Sluice.Media;

namespace Sluice.Server.Streams;

/// <summary>
/// The ring times of one ffmpeg run's units (<see cref="FfmpegMuxRun"/>): their media time where the scanner reads one
/// (a pack's SCR, an ASF packet's send time, a fragment's decode time, a SWF frame's index over the frame rate), put on
/// the run's clock at the arrival of the first unit that had one; a unit without one is at the time of the unit
/// before; before any unit has had one, a unit is at its arrival. The times never fall: a ring's times decide where
/// a new viewer's preroll starts and how far behind a viewer is, and both search them in order.
/// </summary>
/// <remarks>
/// ffmpeg writes in bursts (a GOP's packs at once, a whole fragment at its end), so arrival times bunched units that
/// are seconds apart in the media; media times keep them apart. A media time that falls more than
/// <see cref="MaxStepBack"/> behind the last (a wrapped 33-bit SCR) starts the clock again from the last time.
/// </remarks>
internal sealed class UnitTimes(TimeProvider time, long started)
{
    public static readonly long MaxStepBack = 10 * MediaTime.TicksPerSecond;

    private long? _offset;
    private long _last;

    /// <summary>The ring time of the next unit, whose media time is <paramref name="media"/> (null when it has none).</summary>
    public long Next(long? media)
    {
        long ticks;
        if (media is { } at)
        {
            _offset ??= Arrival() - at;
            ticks = at + _offset.Value;
            if (ticks < _last - MaxStepBack)
            {
                _offset = _last - at;
                ticks = _last;
            }
        }
        else
        {
            ticks = _offset is null ? Arrival() : _last;
        }

        _last = Math.Max(_last, ticks);
        return _last;
    }

    private long Arrival() => (long)(time.GetElapsedTime(started).TotalSeconds * MediaTime.TicksPerSecond);
}
