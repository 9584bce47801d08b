using System.Globalization;

namespace Sluice.Server.Transcoding;

/// <summary>
/// ffmpeg's <c>-progress</c> report, read line by line from its stderr (where the run sends it beside its
/// messages): <c>key=value</c> lines, a block a second, each ended by <c>progress=continue</c> or <c>=end</c>.
/// Pure: it only reads the lines it is given.
/// </summary>
internal sealed class EncoderProgress
{
    private bool _micros; // out_time_us seen: it is exact, out_time only its rounded text
    /// <summary>Encoding speed against real time (1.0 keeps up), from <c>speed=1.01x</c>; null until reported.</summary>
    public double? Speed { get; private set; }

    /// <summary>Frames encoded so far (<c>frame=</c>).</summary>
    public long Frames { get; private set; }

    /// <summary>The media time written so far (<c>out_time_us=</c>, or <c>out_time=HH:MM:SS.micro</c>); null until reported.</summary>
    public TimeSpan? OutTime { get; private set; }

    /// <summary>
    /// Takes one stderr line: true when it is a progress line (read, or of a key not used here), false when it is a
    /// message of ffmpeg's for the log. A message never has the key=value shape: its key would hold a space or a
    /// bracket ("[libvpx @ 0x...] ...", "Error while ...").
    /// </summary>
    public bool Read(string line)
    {
        int equals = line.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || line.AsSpan(0, equals).IndexOfAny(' ', '[') >= 0)
        {
            return false;
        }

        var value = line.AsSpan(equals + 1).Trim();
        switch (line.AsSpan(0, equals))
        {
            case "speed" when value.EndsWith("x") && double.TryParse(value[..^1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double speed):
                Speed = speed;
                break;
            case "frame" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long frames):
                Frames = frames;
                break;
            case "out_time_us" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long micros) && micros >= 0:
                OutTime = TimeSpan.FromMicroseconds(micros);
                _micros = true;
                break;
            case "out_time" when !_micros && TimeSpan.TryParseExact(Trim(value), @"hh\:mm\:ss\.FFFFFFF", CultureInfo.InvariantCulture, out var time):
                OutTime = time;
                break;
        }

        return true;
    }

    /// <summary>ffmpeg writes six decimals (microseconds); TimeSpan reads seven at most, so keep what fits.</summary>
    private static ReadOnlySpan<char> Trim(ReadOnlySpan<char> value)
    {
        int dot = value.IndexOf('.');
        return dot >= 0 && value.Length - dot - 1 > 7 ? value[..(dot + 8)] : value;
    }
}
