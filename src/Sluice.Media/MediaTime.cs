namespace Sluice.Media;

/// <summary>
/// The one time base of every <see cref="MediaPacket"/>: 90 kHz, the clock of MPEG-TS, RTP and HLS.
/// Milliseconds (Matroska's default TimecodeScale, FLV) convert exactly.
/// </summary>
public static class MediaTime
{
    public const long TicksPerSecond = 90_000;
    public const long TicksPerMillisecond = 90;

    public static long FromMilliseconds(long ms) => ms * TicksPerMillisecond;

    /// <summary>Rounds to the nearest millisecond (halves away from zero).</summary>
    public static long ToMilliseconds(long ticks) =>
        ticks >= 0 ? (ticks + TicksPerMillisecond / 2) / TicksPerMillisecond : -((-ticks + TicksPerMillisecond / 2) / TicksPerMillisecond);

    public static long FromNanoseconds(long ns) => (long)Math.Round(ns * (TicksPerSecond / 1e9));

    public static long ToNanoseconds(long ticks) => (long)Math.Round(ticks * (1e9 / TicksPerSecond));

    public static TimeSpan ToTimeSpan(long ticks) => TimeSpan.FromTicks(ticks * (TimeSpan.TicksPerSecond / 10) / (TicksPerSecond / 10));
}
