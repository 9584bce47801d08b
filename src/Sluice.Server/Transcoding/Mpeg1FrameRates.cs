using System.Globalization;

namespace Sluice.Server.Transcoding;

/// <summary>
/// The frame rates ffmpeg's mpeg1video encoder writes. MPEG-1 (ISO/IEC 11172-2, frame_rate_code 1 to 8) has eight:
/// 23.976, 24, 25, 29.97, 30, 50, 59.94 and 60 fps. ffserver's default of 5 fps is none of them, and ffmpeg refuses it
/// ("MPEG-1/2 does not support 5/1 fps") unless told <c>-strict unofficial</c>, which lets it write the economy codes
/// libmpeg3 and Xing added (5, 10, 12 and 15 fps). With it, ffmpeg 5.1 wrote 5 fps as 5/1 (ffprobe read r_frame_rate
/// 5/1, ffmpeg decoded it with no error), and every other rate as the nearest of these twelve (1 to 6 fps as 5, 8 to 11
/// as 10, 20 as 23.976): Sluice passes it for every rate that is not one of the eight, and warns of the rounding.
/// </summary>
internal static class Mpeg1FrameRates
{
    private static readonly double[] Standard = [24000.0 / 1001, 24, 25, 30000.0 / 1001, 30, 50, 60000.0 / 1001, 60];
    private static readonly double[] Economy = [5, 10, 12, 15];

    /// <summary>The ffmpeg encoder that needs it: mpeg1video (mpeg2video writes any rate with its frame_rate_extension).</summary>
    public static bool Applies(string encoder) => encoder == "mpeg1video";

    /// <summary>Whether the rate is one of MPEG-1's eight; null (the feed's rate, not known at start-up) is not.</summary>
    public static bool IsStandard(double? rate) => rate is { } r && Standard.Any(s => Same(s, r));

    /// <summary>The rate ffmpeg writes for this one with <c>-strict unofficial</c>: the nearest of the twelve.</summary>
    public static double Written(double rate) => Standard.Concat(Economy).MinBy(s => Math.Abs(s - rate));

    /// <summary>
    /// The warning for a configured rate that mpeg1video cannot write as it is, or null: "VideoFrameRate 7" is written
    /// as 5 fps. <paramref name="rate"/> null (the feed's own rate) is not known before the feed comes, so not warned of.
    /// </summary>
    public static string? RoundingWarning(string streamName, double? rate)
    {
        if (rate is not { } r || IsStandard(r) || Economy.Any(e => Same(e, r)))
        {
            return null;
        }

        return $"<Stream {streamName}>: VideoFrameRate {Number(r)}: MPEG-1 video has no {Number(r)} fps, so ffmpeg's mpeg1video writes the nearest rate it has, {Number(Written(r))} fps (it has 23.976, 24, 25, 29.97, 30, 50, 59.94, 60 and, with -strict unofficial, which Sluice passes, 5, 10, 12, 15)";
    }

    private static bool Same(double a, double b) => Math.Abs(a - b) < 0.001;

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
