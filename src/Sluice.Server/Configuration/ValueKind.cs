using System.Globalization;

namespace Sluice.Server.Configuration;

/// <summary>
/// How the argument of a directive is read: the parse, what a valid value is (the tail of the message for an
/// invalid one), and a valid and an invalid sample, which the tests feed to every directive of the table.
/// </summary>
internal sealed class ValueKind
{
    private readonly Func<string, object?> _parse;

    private ValueKind(string hint, Func<string, object?> parse, string? valid, string? invalid, string? noun = null)
    {
        Hint = hint;
        _parse = parse;
        Valid = valid;
        Invalid = invalid;
        Noun = noun;
    }

    /// <summary>What a valid value is, as the message says it: "expected a whole number from 1 to 65535".</summary>
    public string Hint { get; }

    /// <summary>
    /// What the value is called when the message names it before the directive ("invalid port 'x' for HTTPPort");
    /// null when the directive's name is enough ("invalid MaxBandwidth 'x'").
    /// </summary>
    public string? Noun { get; }

    /// <summary>A value the kind takes (null for a flag, which takes none).</summary>
    public string? Valid { get; }

    /// <summary>A value it refuses, or null when it takes any text.</summary>
    public string? Invalid { get; }

    /// <summary>A warning about a value that is read but unlikely to work (an odd VideoSize), or null.</summary>
    public Func<string, string, object, string?>? Caution { get; private init; }

    /// <summary>The value, or null when the text is not one.</summary>
    public object? Parse(string text) => _parse(text);

    /// <summary>The message for an invalid value of the directive.</summary>
    public string Message(string directive, string text) =>
        Noun is null ? $"invalid {directive} '{text}': {Hint}" : $"invalid {Noun} '{text}' for {directive}: {Hint}";

    /// <summary>A directive with no argument: its value is <c>true</c>.</summary>
    public static readonly ValueKind Flag = new("expected no argument", _ => true, null, null);

    /// <summary>Any one word (quoted when it has spaces): a path, a name, an encoder.</summary>
    public static readonly ValueKind Text = new("expected a word", text => text, "value", null);

    /// <summary>The rest of the line, its words joined by one space (Title, Comment, LoadModule).</summary>
    public static readonly ValueKind Words = new("expected text", text => text, "some words", null);

    public static readonly ValueKind Port = Whole(1, 65535, noun: "port");

    public static readonly ValueKind Limit = Whole(1, 65535);

    public static readonly ValueKind BindAddress = new(
        "expected an IPv4 address such as 0.0.0.0 or an IPv6 address such as ::; host names other than localhost are not resolved",
        text => ConfigValues.Address(text), "::1", "1.2.3", "address");

    public static readonly ValueKind Address = new(
        "expected an IPv4 or IPv6 address", text => ConfigValues.Address(text), "224.1.2.3", "1.2.3", "address");

    /// <summary>A whole number of kbit/s, 1 or more.</summary>
    public static readonly ValueKind Kbps = Positive(10_000_000, "kbit/s", "512");

    /// <summary>Seconds, 0 or more.</summary>
    public static readonly ValueKind Seconds = Decimal(0, 1_000_000_000, "expected a number of seconds, 0 or more");

    /// <summary>Seconds of a connection's timeout.</summary>
    public static readonly ValueKind Timeout = Decimal(0.1, 3600, "expected a number of seconds from 0.1 to 3600");

    /// <summary>A whole number in [min, max]: "expected a whole number [of unit] from min to max", unless a hint is given.</summary>
    public static ValueKind Whole(long min, long max, string? unit = null, string? noun = null, string? hint = null) => new(
        hint ?? $"expected a whole number{(unit is null ? "" : " of " + unit)} from {Invariant(min)} to {Invariant(max)}",
        text => ConfigValues.Long(text, min, max), Invariant(max), Invariant(min - 1), noun);

    /// <summary>Any whole number (ffserver read it and Sluice has no use for it).</summary>
    public static readonly ValueKind AnyWhole = new("expected a whole number", text => ConfigValues.Long(text, int.MinValue, int.MaxValue), "1", "x");

    /// <summary>A whole number from 1 to max, whose message gives an example instead of the bounds.</summary>
    public static ValueKind Positive(long max, string unit, string example) => new(
        $"expected a positive whole number of {unit}, e.g. {example}",
        text => ConfigValues.Long(text, 1, max), example, "0");

    /// <summary>A decimal number in [min, max], with the message given.</summary>
    public static ValueKind Decimal(double min, double max, string hint) => new(
        hint, text => ConfigValues.Double(text, min, max), Invariant(max), min > 0 ? "0" : "-1");

    /// <summary>One of the words given (case-insensitive); the value is the word in lower case.</summary>
    public static ValueKind OneOf(string hint, params string[] words) => new(
        hint,
        text => words.FirstOrDefault(w => string.Equals(w, text, StringComparison.OrdinalIgnoreCase)),
        words[^1], "maybe");

    /// <summary>A value read by a parser of <see cref="ConfigValues"/>, with the message and samples given.</summary>
    public static ValueKind Custom(string hint, Func<string, object?> parse, string valid, string invalid) => new(hint, parse, valid, invalid);

    public static readonly ValueKind FileSize = Custom(
        "expected a number with a K, M or G suffix (1024-based), e.g. 200K or 5M", text => ConfigValues.FileSize(text), "1M", "200");

    public static readonly ValueKind VideoSize = new ValueKind(
        "expected <width>x<height> (e.g. 320x240) or a name such as sqcif, qcif, cif, 4cif, qvga, vga, svga, xga, hd480, hd720, hd1080",
        text => ConfigValues.VideoSize(text), "320x240", "big")
    {
        Caution = (directive, text, value) => value is (int w, int h) && (w % 2 != 0 || h % 2 != 0)
            ? $"{directive} {text} is not a multiple of 2; most encoders (yuv420p) will refuse it"
            : null,
    };

    public static readonly ValueKind FrameRate = Custom(
        "expected a positive number or fraction of frames per second, e.g. 25, 29.97, 30000/1001 or ntsc",
        text => ConfigValues.FrameRate(text), "30000/1001", "0");

    /// <summary>VideoBitRateRange: min-max in kbit/s, min &lt;= max; the value is (min, max).</summary>
    public static readonly ValueKind BitRateRange = Custom(
        "expected <min>-<max> in kbit/s with min <= max, e.g. 200-600",
        text =>
        {
            var dash = text.IndexOf('-', StringComparison.Ordinal);
            return dash > 0 && ConfigValues.Long(text[..dash], 0, 10_000_000) is { } min
                && ConfigValues.Long(text[(dash + 1)..], 0, 10_000_000) is { } max && min <= max
                ? (min, max)
                : null;
        },
        "200-600",
        "600-200");

    public static readonly ValueKind PixelFormat = Custom(
        "expected an ffmpeg pixel format name such as yuv420p",
        text => text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? text : null, "yuv420p", "yuv-420");

    /// <summary>PublishOrigin: an origin as a browser sends it, or *.</summary>
    public static readonly ValueKind Origin = Custom(
        "expected an origin as a browser sends it, scheme and host with no path (https://studio.example or http://host:8080), or * for any",
        text => text == "*" || (Uri.TryCreate(text, UriKind.Absolute, out var origin)
            && origin.Scheme is "http" or "https" && origin.PathAndQuery == "/" && !text.EndsWith('/'))
            ? text
            : null,
        "https://studio.example",
        "https://studio.example/");

    private static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(double n) => n.ToString(CultureInfo.InvariantCulture);
}
