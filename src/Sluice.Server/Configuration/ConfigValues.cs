using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Sluice.Server.Configuration;

/// <summary>Parsers for the argument types of ffserver.conf, each returning null on a bad value.</summary>
internal static class ConfigValues
{
    /// <summary>The smallest FileMaxSize ffserver accepted: four 4096-byte FFM packets.</summary>
    public const long MinFileMaxSize = 4 * 4096;

    /// <summary>av_parse_video_size's abbreviations as of FFmpeg 3.4 (libavutil/parseutils.c).</summary>
    public static readonly FrozenDictionary<string, (int Width, int Height)> VideoSizeNames =
        new Dictionary<string, (int, int)>
        {
            ["ntsc"] = (720, 480), ["pal"] = (720, 576), ["qntsc"] = (352, 240), ["qpal"] = (352, 288),
            ["sntsc"] = (640, 480), ["spal"] = (768, 576), ["film"] = (352, 240), ["ntsc-film"] = (352, 240),
            ["sqcif"] = (128, 96), ["qcif"] = (176, 144), ["cif"] = (352, 288), ["4cif"] = (704, 576),
            ["16cif"] = (1408, 1152), ["qqvga"] = (160, 120), ["qvga"] = (320, 240), ["vga"] = (640, 480),
            ["svga"] = (800, 600), ["xga"] = (1024, 768), ["uxga"] = (1600, 1200), ["qxga"] = (2048, 1536),
            ["sxga"] = (1280, 1024), ["qsxga"] = (2560, 2048), ["hsxga"] = (5120, 4096), ["wvga"] = (852, 480),
            ["wxga"] = (1366, 768), ["wsxga"] = (1600, 1024), ["wuxga"] = (1920, 1200), ["woxga"] = (2560, 1600),
            ["wqsxga"] = (3200, 2048), ["wquxga"] = (3840, 2400), ["whsxga"] = (6400, 4096), ["whuxga"] = (7680, 4800),
            ["cga"] = (320, 200), ["ega"] = (640, 350), ["hd480"] = (852, 480), ["hd720"] = (1280, 720),
            ["hd1080"] = (1920, 1080), ["2k"] = (2048, 1080), ["2kflat"] = (1998, 1080), ["2kscope"] = (2048, 858),
            ["4k"] = (4096, 2160), ["4kflat"] = (3996, 2160), ["4kscope"] = (4096, 1716), ["nhd"] = (640, 360),
            ["hqvga"] = (240, 160), ["wqvga"] = (400, 240), ["fwqvga"] = (432, 240), ["hvga"] = (480, 320),
            ["qhd"] = (960, 540),
        }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>av_parse_video_rate's abbreviations as of FFmpeg 3.4.</summary>
    public static readonly FrozenDictionary<string, double> FrameRateNames =
        new Dictionary<string, double>
        {
            ["ntsc"] = 30000.0 / 1001, ["pal"] = 25, ["qntsc"] = 30000.0 / 1001, ["qpal"] = 25,
            ["sntsc"] = 30000.0 / 1001, ["spal"] = 25, ["film"] = 24, ["ntsc-film"] = 24000.0 / 1001,
        }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static int? Int(string text, int min, int max) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : null;

    public static long? Long(string text, long min, long max) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : null;

    public static double? Double(string text, double min, double max) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var v)
        && double.IsFinite(v) && v >= min && v <= max
            ? v
            : null;

    /// <summary>
    /// An IP address literal: dotted-quad IPv4 (all four parts), IPv6 (optionally in brackets), or
    /// "localhost" (127.0.0.1, as ffserver resolved it). Other host names are not resolved.
    /// </summary>
    public static IPAddress? Address(string text)
    {
        if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (text.Length > 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : null;
        }

        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return null;
        }

        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            if (parts[i].Length is 0 or > 3 || !parts[i].All(char.IsAsciiDigit) || !byte.TryParse(parts[i], CultureInfo.InvariantCulture, out bytes[i]))
            {
                return null;
            }
        }

        return new IPAddress(bytes);
    }

    /// <summary>FileMaxSize: a number with a K, M or G suffix, 1024-based ("200K", "1.5M"; "KB" is read as "K").</summary>
    public static long? FileSize(string text)
    {
        var end = text.Length;
        if (end > 1 && (text[end - 1] == 'B' || text[end - 1] == 'b'))
        {
            end--;
        }

        if (end < 2)
        {
            return null;
        }

        long factor = char.ToUpperInvariant(text[end - 1]) switch
        {
            'K' => 1024L,
            'M' => 1024L * 1024,
            'G' => 1024L * 1024 * 1024,
            _ => 0,
        };
        if (factor == 0)
        {
            return null;
        }

        var number = Double(text[..(end - 1)], 0, 1024L * 1024);
        return number is { } n ? (long)(n * factor) : null;
    }

    /// <summary>VideoSize: WxH or one of <see cref="VideoSizeNames"/>.</summary>
    public static (int Width, int Height)? VideoSize(string text)
    {
        if (VideoSizeNames.TryGetValue(text, out var named))
        {
            return named;
        }

        var x = text.IndexOfAny(['x', 'X']);
        if (x <= 0)
        {
            return null;
        }

        return Int(text[..x], 1, 16384) is { } w && Int(text[(x + 1)..], 1, 16384) is { } h ? (w, h) : null;
    }

    /// <summary>VideoFrameRate: a number ("30", "29.97"), a fraction ("30000/1001") or a name ("ntsc", "pal", "film").</summary>
    public static double? FrameRate(string text)
    {
        if (FrameRateNames.TryGetValue(text, out var named))
        {
            return named;
        }

        var slash = text.IndexOfAny(['/', ':']);
        if (slash > 0)
        {
            return Long(text[..slash], 1, 1_001_000) is { } num && Long(text[(slash + 1)..], 1, 1_001_000) is { } den
                ? (double)num / den
                : null;
        }

        return Double(text, double.Epsilon, 1_001_000);
    }

    /// <summary>
    /// A name usable as a URL path of one or more segments joined by '/' (a stream name: <c>live/cam.webm</c>),
    /// with no empty segment and no segment "." or "..".
    /// </summary>
    public static bool IsPath(string name) => name.Split('/').All(IsPathSegment);

    /// <summary>A name usable as one URL path segment (a feed or redirect name, a part of a stream name).</summary>
    public static bool IsPathSegment(string name) =>
        name.Length > 0 && name is not "." and not ".." && name.All(c => char.IsAsciiLetterOrDigit(c) || "-._~!$&'()*+,;=:@".Contains(c, StringComparison.Ordinal));
}
