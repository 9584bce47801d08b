namespace Sluice.Server.Configuration;

/// <summary>Where a directive may appear.</summary>
[Flags]
internal enum ConfigSection
{
    Global = 1,
    Feed = 2,
    Stream = 4,
    Redirect = 8,
}

/// <summary>
/// One directive of ffserver.conf: its spelling, where it goes, how many arguments it takes, how its argument is
/// read and what it sets in each section. A directive with no <see cref="Value"/> has code of its own in the parser
/// (ACL, Launch, Format, Metadata, AVOption*, UseDefaults/NoDefaults, URL).
/// </summary>
internal sealed record DirectiveInfo(string Name, ConfigSection Sections, int MinArgs, int MaxArgs, string Usage)
{
    /// <summary>How the argument is read (the words joined when it takes the rest of the line); null: code of its own.</summary>
    public ValueKind? Value { get; init; }

    /// <summary>The value when the optional argument is left out (a flag: true; OnDemand: its default linger).</summary>
    public object? Absent { get; init; }

    /// <summary>
    /// How ffserver 3.4 read a line of this directive that ends in a comment, where that differs from Sluice's
    /// reading: given the words before the comment, the comment's first word (which 3.4 read as a word like any
    /// other) and the section, what 3.4 did with that word ("took '#' as the last address of the range, ..."), or
    /// null when it read the line as Sluice does. 3.4 read a fixed number
    /// of words and ignored the rest, so only a directive that reads an optional word or every word reaches a
    /// comment after a complete line (ACL, Truncate, Launch); the others reach it only when it stands where their
    /// value should be, and are listed here where 3.4 then took '#' as the value and started (a Title, a file name);
    /// where 3.4 refused '#' as the value (a port, a codec), Sluice reports the missing value instead.
    /// </summary>
    public Func<IReadOnlyList<string>, string, ConfigSection, string?>? Ffserver34 { get; init; }

    /// <summary>A valid value for this directive when the kind's sample does not fit it (MaxClients at most MaxHTTPConnections).</summary>
    public string? Example { get; init; }

    public Func<ServerConfig, object, ServerConfig>? SetGlobal { get; private init; }

    public Func<FeedConfig, object, FeedConfig>? SetFeed { get; private init; }

    public Func<StreamConfig, object, ConfigLocation, StreamConfig>? SetStream { get; private init; }

    /// <summary>A valid argument line for this directive ("" for one that takes none).</summary>
    public string ValidArgument => Example ?? Value?.Valid ?? "";

    public DirectiveInfo Global<T>(Func<ServerConfig, T, ServerConfig> set) => this with { SetGlobal = (c, v) => set(c, (T)v) };

    public DirectiveInfo Feed<T>(Func<FeedConfig, T, FeedConfig> set) => this with { SetFeed = (f, v) => set(f, (T)v) };

    public DirectiveInfo Stream<T>(Func<StreamConfig, T, StreamConfig> set) => this with { SetStream = (s, v, _) => set(s, (T)v) };

    /// <summary>A stream setter that also keeps where the directive was written.</summary>
    public DirectiveInfo Stream<T>(Func<StreamConfig, T, ConfigLocation, StreamConfig> set) => this with { SetStream = (s, v, at) => set(s, (T)v, at) };
}

/// <summary>
/// Every directive ffserver 3.4 knew (ffserver_config.c), in one table (<c>ConfigDirectives.Table.cs</c>) that
/// drives parsing, the messages and the tests, and the ones Sluice recognizes but does not implement yet, in one
/// list. Implementing a directive means removing its entry from <see cref="Unsupported"/>.
/// </summary>
internal static partial class ConfigDirectives
{
    public const int Rest = int.MaxValue;

    /// <summary>
    /// Recognized but not implemented: each use gets one warning saying what Sluice does instead.
    /// Remove an entry when the directive is implemented.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, ConfigSection Section, string Instead)> Unsupported =
    [
        ("RTSPPort", G, "RTSPPort is not supported; RTSP is not served (streams are served over HTTP only)"),
        ("RTSPBindAddress", G, "RTSPBindAddress is not supported; RTSP is not served (streams are served over HTTP only)"),
        ("NoDaemon", G, "NoDaemon has no effect; Sluice always runs in the foreground"),
        ("LoadModule", G, "LoadModule is not supported; no module is loaded"),
        ("InputFormat", S, "InputFormat is not supported; the feed's format is detected from what the publisher sends"),
        ("FaviconURL", S, "FaviconURL is not supported; the status page has no favicon"),
        ("Debug", S, "Debug is not supported; encoders run without debug flags"),
        ("Strict", S, "Strict is not supported; encoders run with ffmpeg's default strictness, but mpeg1video at a frame rate MPEG-1 lacks, which gets -strict unofficial"),
        ("VideoTag", S, "VideoTag is not supported; the muxer chooses the codec tag"),
        ("VideoHighQuality", S, "VideoHighQuality is not supported; the encoder uses its default macroblock decision"),
        ("Video4MotionVector", S, "Video4MotionVector is not supported; the encoder uses its default motion vectors"),
        ("VideoQDiff", S, "VideoQDiff is not supported; the encoder uses its default quantizer difference"),
        ("Qscale", S, "Qscale is not supported; the encoder uses bitrate control (VideoBitRate)"),
        ("LumiMask", S, "LumiMask is not supported; the encoder uses no luminance masking"),
        ("DarkMask", S, "DarkMask is not supported; the encoder uses no darkness masking"),
        ("BitExact", S, "BitExact is not supported; the encoder output is not forced bit-exact"),
        ("DctFastint", S, "DctFastint is not supported; the encoder uses its default DCT"),
        ("IdctSimple", S, "IdctSimple is not supported; the encoder uses its default IDCT"),
        ("DynamicACL", S, "DynamicACL is not supported; only this stream's ACL lines apply"),
        ("RTSPOption", S, "RTSPOption is not supported; RTSP is not served"),
        ("MulticastAddress", S, "MulticastAddress is not supported; the stream is not sent by multicast (viewers use HTTP)"),
        ("MulticastPort", S, "MulticastPort is not supported; the stream is not sent by multicast (viewers use HTTP)"),
        ("MulticastTTL", S, "MulticastTTL is not supported; the stream is not sent by multicast (viewers use HTTP)"),
    ];

    public static string? UnsupportedMessage(string name, ConfigSection section)
    {
        foreach (var (n, s, instead) in Unsupported)
        {
            if (s == section && string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                return instead;
            }
        }

        return null;
    }

    /// <summary>Where a directive belongs, in words: "inside &lt;Stream&gt;", "outside any section".</summary>
    public static string Belongs(ConfigSection sections)
    {
        var parts = new List<string>();
        if (sections.HasFlag(ConfigSection.Global))
        {
            parts.Add("outside any section");
        }

        var inside = new List<string>();
        foreach (var s in new[] { ConfigSection.Feed, ConfigSection.Stream, ConfigSection.Redirect })
        {
            if (sections.HasFlag(s))
            {
                inside.Add($"<{s}>");
            }
        }

        if (inside.Count > 0)
        {
            parts.Add("inside " + string.Join(" or ", inside));
        }

        return string.Join(" or ", parts);
    }

    /// <summary>The nearest name by edit distance (case-insensitive), or null when none is close.</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = EditDistance(word.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (candidate, d);
            }
        }

        return bestDistance <= Math.Max(2, word.Length / 3) ? best : null;
    }

    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
