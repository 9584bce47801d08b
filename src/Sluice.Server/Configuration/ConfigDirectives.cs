using System.Collections.Frozen;

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

/// <summary>One directive of ffserver.conf: its spelling, where it goes, how many arguments it takes.</summary>
internal sealed record DirectiveInfo(string Name, ConfigSection Sections, int MinArgs, int MaxArgs, string Usage);

/// <summary>
/// Every directive ffserver 3.4 knew (ffserver_config.c), in one table, and the ones Sluice recognizes
/// but does not implement yet, in one list. Implementing a directive means removing its entry from
/// <see cref="Unsupported"/>.
/// </summary>
internal static class ConfigDirectives
{
    public const int Rest = int.MaxValue;

    private const ConfigSection G = ConfigSection.Global;
    private const ConfigSection F = ConfigSection.Feed;
    private const ConfigSection S = ConfigSection.Stream;
    private const ConfigSection R = ConfigSection.Redirect;

    public static readonly IReadOnlyList<DirectiveInfo> List =
    [
        // global
        new("HTTPPort", G, 1, 1, "HTTPPort <port>"),
        new("Port", G, 1, 1, "Port <port>"),
        new("HTTPBindAddress", G, 1, 1, "HTTPBindAddress <ip-address>"),
        new("BindAddress", G, 1, 1, "BindAddress <ip-address>"),
        new("RTSPPort", G, 1, 1, "RTSPPort <port>"),
        new("RTSPBindAddress", G, 1, 1, "RTSPBindAddress <ip-address>"),
        new("RTMPPort", G, 1, 1, "RTMPPort <port>"), // Sluice's own: RTMP publishing and playback
        new("RTMPBindAddress", G, 1, 1, "RTMPBindAddress <ip-address>"), // Sluice's own
        new("MaxHTTPConnections", G, 1, 1, "MaxHTTPConnections <1-65535>"),
        new("MaxClients", G | S, 1, 1, "MaxClients <1-65535>"), // in <Stream>: Sluice's per-stream limit
        new("MaxBandwidth", G, 1, 1, "MaxBandwidth <kbit/s>"),
        new("CustomLog", G, 1, 1, "CustomLog <path or ->"),
        new("SlowViewerTimeout", G, 1, 1, "SlowViewerTimeout <seconds>"), // Sluice's own
        new("RequestHeaderTimeout", G, 1, 1, "RequestHeaderTimeout <seconds>"), // Sluice's own, and the two below: connection hygiene
        new("KeepAliveTimeout", G, 1, 1, "KeepAliveTimeout <seconds>"),
        new("MaxClientsPerAddress", G, 1, 1, "MaxClientsPerAddress <1-65535>"),
        new("OnDemand", S, 0, 1, "OnDemand [<seconds>]"), // Sluice's own: encode only while watched
        new("HLS", S, 1, 1, "HLS on|off"), // Sluice's own, and the four below: HLS and DASH of the stream
        new("HLSFormat", S, 1, 1, "HLSFormat fmp4|ts"),
        new("HLSSegmentDuration", S, 1, 1, "HLSSegmentDuration <seconds>"),
        new("HLSPartDuration", S, 1, 1, "HLSPartDuration <seconds>"),
        new("HLSListSize", S, 1, 1, "HLSListSize <segments>"),
        new("NoDaemon", G, 0, 0, "NoDaemon"),
        new("LoadModule", G, 0, Rest, "LoadModule <module>"),
        new("UseDefaults", G | S, 0, 0, "UseDefaults"),
        new("NoDefaults", G | S, 0, 0, "NoDefaults"),

        // <Feed>
        new("File", F | S, 1, 1, "File <path>"),
        new("ReadOnlyFile", F | S, 1, 1, "ReadOnlyFile <path>"),
        new("Truncate", F, 0, 1, "Truncate"),
        new("FileMaxSize", F, 1, 1, "FileMaxSize <size>K|M|G"),
        new("Launch", F, 1, Rest, "Launch <program> [arguments...]"),
        new("ACL", F | S, 2, 3, "ACL allow|deny <first-address> [<last-address>] | <address>/<prefix-length>"),
        new("PublishKey", F, 1, 1, "PublishKey <key>"), // Sluice's own: the key an RTMP publisher must give
        new("PublishOrigin", F, 1, 1, "PublishOrigin <origin>|*"), // Sluice's own: a web origin allowed to publish

        // <Stream>
        new("Feed", S, 1, 1, "Feed <feed name>"),
        new("Format", S, 1, 1, "Format <format>"),
        new("InputFormat", S, 1, 1, "InputFormat <format>"),
        new("FaviconURL", S, 1, 1, "FaviconURL <url>"),
        new("Author", S, 1, Rest, "Author <text>"),
        new("Comment", S, 1, Rest, "Comment <text>"),
        new("Copyright", S, 1, Rest, "Copyright <text>"),
        new("Title", S, 1, Rest, "Title <text>"),
        new("Metadata", S, 2, Rest, "Metadata <key> <value>"),
        new("Preroll", S, 1, 1, "Preroll <seconds>"),
        new("StartSendOnKey", S, 0, 0, "StartSendOnKey"),
        new("MaxTime", S, 1, 1, "MaxTime <seconds>"),
        new("AudioCodec", S, 1, 1, "AudioCodec <encoder>"),
        new("VideoCodec", S, 1, 1, "VideoCodec <encoder>"),
        new("AudioBitRate", S, 1, 1, "AudioBitRate <kbit/s>"),
        new("AudioChannels", S, 1, 1, "AudioChannels <count>"),
        new("AudioSampleRate", S, 1, 1, "AudioSampleRate <Hz>"),
        new("VideoBitRate", S, 1, 1, "VideoBitRate <kbit/s>"),
        new("VideoBitRateRange", S, 1, 1, "VideoBitRateRange <min>-<max>"),
        new("VideoBitRateTolerance", S, 1, 1, "VideoBitRateTolerance <kbit/s>"),
        new("VideoBufferSize", S, 1, 1, "VideoBufferSize <KiB>"),
        new("VideoSize", S, 1, 1, "VideoSize <width>x<height>|<name>"),
        new("VideoFrameRate", S, 1, 1, "VideoFrameRate <fps>"),
        new("PixelFormat", S, 1, 1, "PixelFormat <pixel format>"),
        new("VideoGopSize", S, 1, 1, "VideoGopSize <frames>"),
        new("VideoIntraOnly", S, 0, 0, "VideoIntraOnly"),
        new("VideoHighQuality", S, 0, 0, "VideoHighQuality"),
        new("Video4MotionVector", S, 0, 0, "Video4MotionVector"),
        new("VideoQMin", S, 1, 1, "VideoQMin <q>"),
        new("VideoQMax", S, 1, 1, "VideoQMax <q>"),
        new("VideoQDiff", S, 1, 1, "VideoQDiff <q>"),
        new("VideoTag", S, 1, 1, "VideoTag <fourcc>"),
        new("Qscale", S, 1, 1, "Qscale <q>"),
        new("LumiMask", S, 1, 1, "LumiMask <value>"),
        new("DarkMask", S, 1, 1, "DarkMask <value>"),
        new("BitExact", S, 0, 0, "BitExact"),
        new("DctFastint", S, 0, 0, "DctFastint"),
        new("IdctSimple", S, 0, 0, "IdctSimple"),
        new("Debug", S, 1, 1, "Debug <flags>"),
        new("Strict", S, 1, 1, "Strict <level>"),
        new("AVOptionVideo", S, 2, 2, "AVOptionVideo <option> <value>"),
        new("AVOptionAudio", S, 2, 2, "AVOptionAudio <option> <value>"),
        new("AVPresetVideo", S, 1, 1, "AVPresetVideo <preset>"),
        new("AVPresetAudio", S, 1, 1, "AVPresetAudio <preset>"),
        new("NoVideo", S, 0, 0, "NoVideo"),
        new("NoAudio", S, 0, 0, "NoAudio"),
        new("DynamicACL", S, 1, 1, "DynamicACL <file>"),
        new("RTSPOption", S, 1, 1, "RTSPOption <option>"),
        new("MulticastAddress", S, 1, 1, "MulticastAddress <ip-address>"),
        new("MulticastPort", S, 1, 1, "MulticastPort <port>"),
        new("MulticastTTL", S, 1, 1, "MulticastTTL <ttl>"),
        new("NoLoop", S, 0, 0, "NoLoop"),

        // <Redirect>
        new("URL", R, 1, 1, "URL <url>"),
    ];

    public static readonly FrozenDictionary<string, DirectiveInfo> ByName =
        List.ToFrozenDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

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
        ("File", F, "File is not supported yet; the feed is kept in memory only (bounded by FileMaxSize) and no feed file is written"),
        ("ReadOnlyFile", F, "ReadOnlyFile is not supported yet; the feed is kept in memory only and the file is not read"),
        ("Truncate", F, "Truncate is not supported yet; there is no feed file, every feed starts empty"),
        ("File", S, "File inside <Stream> is not supported; files are not streamed, the stream reads its Feed"),
        ("ReadOnlyFile", S, "ReadOnlyFile inside <Stream> is not supported; files are not streamed, the stream reads its Feed"),
        ("InputFormat", S, "InputFormat is not supported; the feed's format is detected from what the publisher sends"),
        ("FaviconURL", S, "FaviconURL is not supported; the status page has no favicon"),
        ("Debug", S, "Debug is not supported; encoders run without debug flags"),
        ("Strict", S, "Strict is not supported; encoders run with ffmpeg's default strictness"),
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
        ("NoLoop", S, "NoLoop is not supported; the stream is not sent by multicast, so there is nothing to loop"),
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
