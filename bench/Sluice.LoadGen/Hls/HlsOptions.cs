using System.Globalization;

namespace Sluice.LoadGen.Hls;

/// <summary>Command line of the HLS player mode (<c>sluice-loadgen hls ...</c>).</summary>
internal sealed class HlsOptions
{
    public const string Usage =
        "usage: sluice-loadgen hls --url http://127.0.0.1:PORT/live/index.m3u8 [--players N] [--seconds S]\n" +
        "                          [--ramp-seconds R] [--ll] [--start-segments K] [--deadline-seconds D]\n" +
        "                          [--server-pid PID] [--label NAME]\n" +
        "       sluice-loadgen hls --table RESULTS.jsonl   (markdown table of earlier result lines)\n" +
        "  N simulated HLS players start spread over R seconds. Each follows the URL (a multivariant playlist\n" +
        "  leads to its first variant), starts K segments back from the live edge (default 3, as hls.js), reloads\n" +
        "  the media playlist at the target-duration cadence (RFC 8216 6.3.4) and fetches each new segment once,\n" +
        "  reading and dropping the body. With --ll it follows parts instead (EXT-X-PART) and reloads with\n" +
        "  _HLS_msn/_HLS_part when the playlist says CAN-BLOCK-RELOAD=YES. A player with no media D seconds after it\n" +
        "  started has failed. The measured window is the S seconds after the ramp. With --server-pid, the CPU of\n" +
        "  that process and its children (nginx workers) over the window and their summed RSS are reported too.";

    public Uri Url { get; private set; } = new("http://127.0.0.1:8090/live/index.m3u8");
    public int Players { get; private set; } = 100;
    public double Seconds { get; private set; } = 30;
    public double? RampSeconds { get; private set; }
    public bool LowLatency { get; private set; }
    public int StartSegments { get; private set; } = 3;
    public double DeadlineSeconds { get; private set; } = 10;
    public int? ServerPid { get; private set; }
    public string Label { get; private set; } = "";
    public bool Help { get; private set; }

    /// <summary>The ramp asked for, else 200 players a second, at least 2 s and at most 10 s.</summary>
    public double Ramp => RampSeconds ?? Math.Clamp(Players / 200.0, 2, 10);

    public static HlsOptions Parse(string[] args)
    {
        var o = new HlsOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": o.Url = new Uri(Next()); break;
                case "--players": o.Players = PositiveInt(Next(), "--players"); break;
                case "--seconds": o.Seconds = PositiveDouble(Next(), "--seconds"); break;
                case "--ramp-seconds": o.RampSeconds = NonNegativeDouble(Next(), "--ramp-seconds"); break;
                case "--ll": o.LowLatency = true; break;
                case "--start-segments": o.StartSegments = PositiveInt(Next(), "--start-segments"); break;
                case "--deadline-seconds": o.DeadlineSeconds = PositiveDouble(Next(), "--deadline-seconds"); break;
                case "--server-pid": o.ServerPid = PositiveInt(Next(), "--server-pid"); break;
                case "--label": o.Label = Next(); break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        if (o.Url.Scheme != "http")
        {
            throw new ArgumentException("--url must be http://");
        }

        return o;
    }

    private static int PositiveInt(string s, string name) => (int)AtLeast(s, name, 1, integer: true);

    private static double PositiveDouble(string s, string name) => AtLeast(s, name, double.Epsilon, integer: false);

    private static double NonNegativeDouble(string s, string name) => AtLeast(s, name, 0, integer: false);

    private static double AtLeast(string s, string name, double min, bool integer)
    {
        var style = integer ? NumberStyles.None : NumberStyles.Float;
        if (double.TryParse(s, style, CultureInfo.InvariantCulture, out var v) && v >= min && v <= int.MaxValue)
        {
            return v;
        }

        throw new ArgumentException($"{name} {s}: {(integer ? "a positive integer" : min > 0 ? "a positive number" : "a number >= 0")}");
    }
}
