using System.Collections.Frozen;
using System.Net;

namespace Sluice.Server.Configuration;

internal static partial class ConfigDirectives
{
    private const ConfigSection G = ConfigSection.Global;
    private const ConfigSection F = ConfigSection.Feed;
    private const ConfigSection S = ConfigSection.Stream;
    private const ConfigSection R = ConfigSection.Redirect;

    /// <summary>
    /// The directives: spelling, sections, arguments, usage, value kind and what each sets. The parser reads a
    /// directive with a <see cref="DirectiveInfo.Value"/> from this table alone; the others have code of their own.
    /// </summary>
    public static readonly IReadOnlyList<DirectiveInfo> List =
    [
        // global
        Arg("HTTPPort", G, ValueKind.Port, "HTTPPort <port>").Global<long>((g, v) => g with { HTTPPort = (int)v }),
        Arg("Port", G, ValueKind.Port, "Port <port>").Global<long>((g, v) => g with { HTTPPort = (int)v }),
        Arg("HTTPBindAddress", G, ValueKind.BindAddress, "HTTPBindAddress <ip-address>").Global<IPAddress>((g, v) => g with { HTTPBindAddress = v }),
        Arg("BindAddress", G, ValueKind.BindAddress, "BindAddress <ip-address>").Global<IPAddress>((g, v) => g with { HTTPBindAddress = v }),
        Arg("RTSPPort", G, ValueKind.Port, "RTSPPort <port>").Global<long>((g, v) => g with { RTSPPort = (int)v }),
        Arg("RTSPBindAddress", G, ValueKind.BindAddress, "RTSPBindAddress <ip-address>").Global<IPAddress>((g, v) => g with { RTSPBindAddress = v }),
        // Sluice's own: RTMP publishing and playback
        Arg("RTMPPort", G, ValueKind.Port, "RTMPPort <port>").Global<long>((g, v) => g with { RTMPPort = (int)v }),
        Arg("RTMPBindAddress", G, ValueKind.BindAddress, "RTMPBindAddress <ip-address>").Global<IPAddress>((g, v) => g with { RTMPBindAddress = v }),
        Arg("MaxHTTPConnections", G, ValueKind.Limit, "MaxHTTPConnections <1-65535>").Global<long>((g, v) => g with { MaxHTTPConnections = (int)v }),
        // in <Stream>: Sluice's per-stream limit
        (Arg("MaxClients", G | S, ValueKind.Limit, "MaxClients <1-65535>") with { Example = "100" })
            .Global<long>((g, v) => g with { MaxClients = (int)v }).Stream<long>((s, v) => s with { MaxClients = (int)v }),
        Arg("MaxBandwidth", G, ValueKind.Whole(10, 10_000_000, "kbit/s"), "MaxBandwidth <kbit/s>").Global<long>((g, v) => g with { MaxBandwidth = v }),
        (Arg("CustomLog", G, ValueKind.Text, "CustomLog <path or ->") with { Ffserver34 = HashAs("the log file's name") }).Global<string>((g, v) => g with { CustomLog = v }),
        // Sluice's own, and the three below: connection hygiene
        Arg("SlowViewerTimeout", G, ValueKind.Seconds, "SlowViewerTimeout <seconds>")
            .Global<double>((g, v) => g with { SlowViewerTimeout = v > 0 ? v : ServerConfig.DefaultSlowViewerTimeout }),
        Arg("RequestHeaderTimeout", G, ValueKind.Timeout, "RequestHeaderTimeout <seconds>").Global<double>((g, v) => g with { RequestHeaderTimeout = v }),
        Arg("KeepAliveTimeout", G, ValueKind.Timeout, "KeepAliveTimeout <seconds>").Global<double>((g, v) => g with { KeepAliveTimeout = v }),
        Arg("MaxClientsPerAddress", G, ValueKind.Limit, "MaxClientsPerAddress <1-65535>").Global<long>((g, v) => g with { MaxClientsPerAddress = (int)v }),
        // Sluice's own: merged writes to progressive viewers (in <Stream>: that stream's)
        Arg("ViewerWriteInterval", G | S, ValueKind.Decimal(0, 2, "expected seconds from 0 to 2 (0: each frame as it comes)"), "ViewerWriteInterval <seconds>")
            .Global<double>((g, v) => g with { ViewerWriteInterval = v }).Stream<double>((s, v) => s with { ViewerWriteInterval = v }),
        // Sluice's own: encode only while watched
        Optional("OnDemand", S, ValueKind.Seconds, "OnDemand [<seconds>]", StreamConfig.DefaultOnDemandLinger).Stream<double>((s, v) => s with { OnDemand = v }),
        // Sluice's own, and the four below: HLS and DASH of the stream
        Arg("HLS", S, ValueKind.OneOf("write HLS on or HLS off", "on", "off"), "HLS on|off")
            .Stream<string>((s, v) => s with { Hls = s.Hls with { Enabled = v == "on" } }),
        Arg("HLSFormat", S, ValueKind.OneOf("write fmp4 (CMAF, low latency, also used by DASH) or ts (MPEG-TS, the widest reach)", "fmp4", "ts"), "HLSFormat fmp4|ts")
            .Stream<string>((s, v) => s with { Hls = s.Hls with { SegmentFormat = v } }),
        Arg("HLSSegmentDuration", S, ValueKind.Decimal(0.5, 60, "expected seconds from 0.5 to 60 (segments are cut at the first keyframe after it)"), "HLSSegmentDuration <seconds>")
            .Stream<double>((s, v) => s with { Hls = s.Hls with { SegmentDuration = v } }),
        Arg("HLSPartDuration", S, ValueKind.Decimal(0.1, 5, "expected seconds from 0.1 to 5"), "HLSPartDuration <seconds>")
            .Stream<double>((s, v) => s with { Hls = s.Hls with { PartDuration = v } }),
        Arg("HLSListSize", S, ValueKind.Whole(3, 1000, "segments"), "HLSListSize <segments>")
            .Stream<long>((s, v) => s with { Hls = s.Hls with { ListSize = (int)v } }),
        Flag("NoDaemon", G),
        Line("LoadModule", G, "LoadModule <module>", min: 0),
        Own("UseDefaults", G | S, 0, 0, "UseDefaults"),
        Own("NoDefaults", G | S, 0, 0, "NoDefaults"),

        // <Feed>
        (Arg("File", F | S, ValueKind.Text, "File <path>") with { Ffserver34 = HashAs("the file's name") }).Feed<string>((f, v) => f with { File = v, ReadOnly = false }),
        (Arg("ReadOnlyFile", F | S, ValueKind.Text, "ReadOnlyFile <path>") with { Ffserver34 = HashAs("the file's name") }).Feed<string>((f, v) => f with { File = v, ReadOnly = true }),
        // "Truncate N" was deprecated in ffserver; any argument other than 0 still meant true.
        (Optional("Truncate", F, ValueKind.Custom("write Truncate alone, with no argument", text => ConfigValues.Double(text, double.MinValue, double.MaxValue), "1", "yes"), "Truncate", 1.0)
            with { Ffserver34 = HashAs("the number of the deprecated 'Truncate N', read it as 0 and did not truncate the feed") })
            .Feed<double>((f, v) => f with { Truncate = v != 0 }),
        Arg("FileMaxSize", F, ValueKind.FileSize, "FileMaxSize <size>K|M|G").Feed<long>((f, v) => f with { FileMaxSize = v }),
        Own("Launch", F, 1, Rest, "Launch <program> [arguments...]") with
        {
            Ffserver34 = (_, word, _) => $"passed '{word}' and every word after it to the program as arguments",
        },
        Own("ACL", F | S, 2, 3, "ACL allow|deny <first-address> [<last-address>] | <address>/<prefix-length>") with
        {
            // ffserver_parse_acl_row printed "ACL refers to invalid host or IP address '#'" and went on.
            Ffserver34 = (words, word, section) => words.Count == 2 && !words[1].Contains('/', StringComparison.Ordinal)
                ? $"took '{word}' as the last address of the range, refused this line and applied no rule, so the {(section == F ? "feed took any publisher" : "stream served any viewer")} this line was meant to limit"
                : null,
        },
        // Sluice's own: the key an RTMP publisher must give
        Arg("PublishKey", F, ValueKind.Text, "PublishKey <key>").Feed<string>((f, v) => f with { PublishKey = v }),
        // Sluice's own: a web origin allowed to publish
        Arg("PublishOrigin", F, ValueKind.Origin, "PublishOrigin <origin>|*").Feed<string>((f, v) => f with { PublishOrigins = f.PublishOrigins.Add(v) }),

        // <Stream>
        (Arg("Feed", S, ValueKind.Text, "Feed <feed name>") with { Example = "live.ffm" }).Stream<string>((s, v) => s with { Feed = v }),
        Own("Format", S, 1, 1, "Format <format>"),
        Arg("InputFormat", S, ValueKind.Text, "InputFormat <format>"),
        Arg("FaviconURL", S, ValueKind.Text, "FaviconURL <url>") with { Ffserver34 = HashAs("the icon's URL") },
        (Line("Author", S, "Author <text>") with { Ffserver34 = HashAs("the author") }).Stream<string>((s, v) => s with { Metadata = s.Metadata.SetItem("author", v) }),
        (Line("Comment", S, "Comment <text>") with { Ffserver34 = HashAs("the comment") }).Stream<string>((s, v) => s with { Metadata = s.Metadata.SetItem("comment", v) }),
        (Line("Copyright", S, "Copyright <text>") with { Ffserver34 = HashAs("the copyright") }).Stream<string>((s, v) => s with { Metadata = s.Metadata.SetItem("copyright", v) }),
        (Line("Title", S, "Title <text>") with { Ffserver34 = HashAs("the title") }).Stream<string>((s, v) => s with { Metadata = s.Metadata.SetItem("title", v) }),
        Own("Metadata", S, 2, Rest, "Metadata <key> <value>") with
        {
            Ffserver34 = (words, word, _) => words.Count == 1 ? $"took '{word}' as the value of {words[0]}" : null,
        },
        (Arg("Preroll", S, ValueKind.Seconds, "Preroll <seconds>") with { Ffserver34 = HashAs("the number of seconds and read it as 0") }).Stream<double>((s, v) => s with { Preroll = v }),
        Flag("StartSendOnKey", S).Stream<bool>((s, _) => s with { StartSendOnKey = true }),
        (Arg("MaxTime", S, ValueKind.Seconds, "MaxTime <seconds>") with { Ffserver34 = HashAs("the number of seconds and read it as 0 (no limit)") }).Stream<double>((s, v) => s with { MaxTime = v }),
        Arg("AudioCodec", S, ValueKind.Text, "AudioCodec <encoder>")
            .Stream<string>((s, v, at) => s with { Audio = s.Audio with { Codec = v, CodecLocation = at } }),
        Arg("VideoCodec", S, ValueKind.Text, "VideoCodec <encoder>")
            .Stream<string>((s, v, at) => s with { Video = s.Video with { Codec = v, CodecLocation = at } }),
        Arg("AudioBitRate", S, ValueKind.Decimal(0.001, 10_000_000, "expected a positive number of kbit/s, e.g. 128"), "AudioBitRate <kbit/s>")
            .Stream<double>((s, v) => s with { Audio = s.Audio with { BitRate = Math.Max(1, (long)Math.Round(v)) } }),
        Arg("AudioChannels", S, ValueKind.Whole(1, 64), "AudioChannels <count>").Stream<long>((s, v) => s with { Audio = s.Audio with { Channels = (int)v } }),
        Arg("AudioSampleRate", S, ValueKind.Whole(1000, 768_000, hint: "expected a sample rate in Hz from 1000 to 768000, e.g. 44100"), "AudioSampleRate <Hz>")
            .Stream<long>((s, v) => s with { Audio = s.Audio with { SampleRate = (int)v } }),
        Arg("VideoBitRate", S, ValueKind.Kbps, "VideoBitRate <kbit/s>").Stream<long>((s, v) => s with { Video = s.Video with { BitRate = v } }),
        Arg("VideoBitRateRange", S, ValueKind.BitRateRange, "VideoBitRateRange <min>-<max>")
            .Stream<(long Min, long Max)>((s, v) => s with { Video = s.Video with { BitRateRangeMin = v.Min, BitRateRangeMax = v.Max } }),
        Arg("VideoBitRateTolerance", S, ValueKind.Kbps, "VideoBitRateTolerance <kbit/s>").Stream<long>((s, v) => s with { Video = s.Video with { BitRateTolerance = v } }),
        Arg("VideoBufferSize", S, ValueKind.Positive(10_000_000, "KiB", "40"), "VideoBufferSize <KiB>").Stream<long>((s, v) => s with { Video = s.Video with { BufferSize = v } }),
        Arg("VideoSize", S, ValueKind.VideoSize, "VideoSize <width>x<height>|<name>")
            .Stream<(int Width, int Height)>((s, v) => s with { Video = s.Video with { Width = v.Width, Height = v.Height } }),
        Arg("VideoFrameRate", S, ValueKind.FrameRate, "VideoFrameRate <fps>").Stream<double>((s, v) => s with { Video = s.Video with { FrameRate = v } }),
        Arg("PixelFormat", S, ValueKind.PixelFormat, "PixelFormat <pixel format>").Stream<string>((s, v) => s with { Video = s.Video with { PixelFormat = v } }),
        Arg("VideoGopSize", S, ValueKind.Positive(100_000, "frames", "30"), "VideoGopSize <frames>").Stream<long>((s, v) => s with { Video = s.Video with { GopSize = (int)v } }),
        Flag("VideoIntraOnly", S).Stream<bool>((s, _) => s with { Video = s.Video with { IntraOnly = true } }),
        Flag("VideoHighQuality", S),
        Flag("Video4MotionVector", S),
        Arg("VideoQMin", S, ValueKind.Whole(0, 69), "VideoQMin <q>").Stream<long>((s, v) => s with { Video = s.Video with { QMin = (int)v } }),
        Arg("VideoQMax", S, ValueKind.Whole(0, 69), "VideoQMax <q>").Stream<long>((s, v) => s with { Video = s.Video with { QMax = (int)v } }),
        Arg("VideoQDiff", S, ValueKind.Text, "VideoQDiff <q>"),
        Arg("VideoTag", S, ValueKind.Text, "VideoTag <fourcc>") with { Ffserver34 = HashAs("the tag and ignored it (a tag has four characters)") },
        Arg("Qscale", S, ValueKind.AnyWhole, "Qscale <q>"),
        Arg("LumiMask", S, ValueKind.Text, "LumiMask <value>"),
        Arg("DarkMask", S, ValueKind.Text, "DarkMask <value>"),
        Flag("BitExact", S),
        Flag("DctFastint", S),
        Flag("IdctSimple", S),
        Arg("Debug", S, ValueKind.Text, "Debug <flags>"),
        Arg("Strict", S, ValueKind.Text, "Strict <level>"),
        Own("AVOptionVideo", S, 2, 2, "AVOptionVideo <option> <value>"),
        Own("AVOptionAudio", S, 2, 2, "AVOptionAudio <option> <value>"),
        (Arg("AVPresetVideo", S, ValueKind.Text, "AVPresetVideo <preset>") with { Ffserver34 = HashAs(NoPreset) }).Stream<string>((s, v, at) => s with { Video = s.Video with { Preset = v, PresetLocation = at } }),
        (Arg("AVPresetAudio", S, ValueKind.Text, "AVPresetAudio <preset>") with { Ffserver34 = HashAs(NoPreset) }).Stream<string>((s, v, at) => s with { Audio = s.Audio with { Preset = v, PresetLocation = at } }),
        Flag("NoVideo", S).Stream<bool>((s, _) => s with { NoVideo = true }),
        Flag("NoAudio", S).Stream<bool>((s, _) => s with { NoAudio = true }),
        Arg("DynamicACL", S, ValueKind.Text, "DynamicACL <file>") with { Ffserver34 = HashAs("the ACL file's name") },
        Arg("RTSPOption", S, ValueKind.Text, "RTSPOption <option>") with { Ffserver34 = HashAs("the option") },
        Arg("MulticastAddress", S, ValueKind.Address, "MulticastAddress <ip-address>"),
        Arg("MulticastPort", S, ValueKind.Port, "MulticastPort <port>"),
        Arg("MulticastTTL", S, ValueKind.AnyWhole, "MulticastTTL <ttl>"),
        Flag("NoLoop", S).Stream<bool>((s, _) => s with { NoLoop = true }),

        // <Redirect>
        Own("URL", R, 1, 1, "URL <url>") with { Ffserver34 = HashAs("the URL and redirected clients to \"#\"") },
    ];

    /// <summary>The table by name, case-insensitive (in this file: static fields of one part are set in order).</summary>
    public static readonly FrozenDictionary<string, DirectiveInfo> ByName =
        List.ToFrozenDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

    private const string NoPreset = "the preset's name, found no preset file of that name and went on";

    /// <summary>ffserver 3.4's reading of a line whose comment stands where its one value should be: it took the comment's first word as that value.</summary>
    private static Func<IReadOnlyList<string>, string, ConfigSection, string?> HashAs(string what) =>
        (words, word, _) => words.Count == 0 ? $"took '{word}' as {what}" : null;

    /// <summary>A directive of one argument.</summary>
    private static DirectiveInfo Arg(string name, ConfigSection sections, ValueKind value, string usage) =>
        new(name, sections, 1, 1, usage) { Value = value };

    /// <summary>A directive of one optional argument, with the value it has when left out.</summary>
    private static DirectiveInfo Optional(string name, ConfigSection sections, ValueKind value, string usage, object absent) =>
        new(name, sections, 0, 1, usage) { Value = value, Absent = absent };

    /// <summary>A directive with no argument.</summary>
    private static DirectiveInfo Flag(string name, ConfigSection sections) =>
        new(name, sections, 0, 0, name) { Value = ValueKind.Flag, Absent = true };

    /// <summary>A directive whose value is the rest of the line.</summary>
    private static DirectiveInfo Line(string name, ConfigSection sections, string usage, int min = 1) =>
        new(name, sections, min, Rest, usage) { Value = ValueKind.Words, Absent = "" };

    /// <summary>A directive with code of its own in the parser.</summary>
    private static DirectiveInfo Own(string name, ConfigSection sections, int min, int max, string usage) =>
        new(name, sections, min, max, usage);
}
