using System.Collections.Immutable;
using System.Net;

namespace Sluice.Server.Configuration;

/// <summary>
/// The whole configuration, immutable. Built by <see cref="ConfigParser"/> from an ffserver.conf;
/// directive names keep ffserver's spelling.
/// </summary>
internal sealed record ServerConfig
{
    public const int DefaultPort = 8090;
    public const int DefaultMaxClients = 5;
    public const int DefaultMaxHttpConnections = 2000;
    public const long DefaultMaxBandwidthKbps = 1000;

    /// <summary>The file it was read from, for messages ("(embedded)" for the built-in one).</summary>
    public string Source { get; init; } = "(embedded)";

    /// <summary>HTTPPort (alias Port).</summary>
    public int HTTPPort { get; init; } = DefaultPort;

    /// <summary>HTTPBindAddress (alias BindAddress). When absent, any address of both families (<c>::</c>, dual-stack); <c>0.0.0.0</c> is IPv4 alone.</summary>
    public IPAddress HTTPBindAddress { get; init; } = IPAddress.IPv6Any;

    public int? RTSPPort { get; init; }
    public IPAddress? RTSPBindAddress { get; init; }

    /// <summary>RTMPPort (Sluice's directive): where RTMP publishers and players connect; no RTMP listener when absent.</summary>
    public int? RTMPPort { get; init; }

    /// <summary>RTMPBindAddress (Sluice's directive): the RTMP listener's address; HTTPBindAddress when absent.</summary>
    public IPAddress? RTMPBindAddress { get; init; }

    public int MaxHTTPConnections { get; init; } = DefaultMaxHttpConnections;

    /// <summary>Maximum simultaneous clients (viewers, publishers, status requests).</summary>
    public int MaxClients { get; init; } = DefaultMaxClients;

    /// <summary>MaxBandwidth in kbit/s.</summary>
    public long MaxBandwidth { get; init; } = DefaultMaxBandwidthKbps;

    public const double DefaultSlowViewerTimeout = 10;

    /// <summary>
    /// SlowViewerTimeout (Sluice's directive), in seconds: a viewer that stays behind the live stream, or takes
    /// no data, this long is disconnected (one that falls behind skips to the newest keyframe first).
    /// </summary>
    public double SlowViewerTimeout { get; init; } = DefaultSlowViewerTimeout;

    public const double DefaultViewerWriteInterval = 0.4;

    /// <summary>
    /// ViewerWriteInterval (Sluice's directive), in seconds: a progressive viewer is sent what came at most once this
    /// interval, in one write (merged writes: a viewer costs per send, not per byte); 0 sends each frame as it comes.
    /// A stream's own value wins (<see cref="StreamConfig.ViewerWriteInterval"/>).
    /// </summary>
    public double ViewerWriteInterval { get; init; } = DefaultViewerWriteInterval;

    public const double DefaultRequestHeaderTimeout = 10;

    /// <summary>
    /// RequestHeaderTimeout (Sluice's directive), in seconds: a connection that has not sent a whole request head this
    /// long after it was accepted (an RTMP client: finished its handshake and connect) is closed.
    /// </summary>
    public double RequestHeaderTimeout { get; init; } = DefaultRequestHeaderTimeout;

    public const double DefaultKeepAliveTimeout = 15;

    /// <summary>KeepAliveTimeout (Sluice's directive), in seconds: how long an HTTP connection may idle between requests.</summary>
    public double KeepAliveTimeout { get; init; } = DefaultKeepAliveTimeout;

    /// <summary>
    /// MaxClientsPerAddress (Sluice's directive): connections (HTTP and RTMP, idle ones too) one address may hold at once;
    /// null for the default, a quarter of MaxHTTPConnections and at least 64 (see <see cref="ClientsPerAddress"/>).
    /// </summary>
    public int? MaxClientsPerAddress { get; init; }

    /// <summary>The per-address connection limit in force.</summary>
    public int ClientsPerAddress => MaxClientsPerAddress ?? Math.Min(MaxHTTPConnections, Math.Max(64, MaxHTTPConnections / 4));

    /// <summary>CustomLog: "-" for standard output, a path, or null for none.</summary>
    public string? CustomLog { get; init; }

    public ImmutableArray<FeedConfig> Feeds { get; init; } = [];
    public ImmutableArray<StreamConfig> Streams { get; init; } = [];
    public ImmutableArray<RedirectConfig> Redirects { get; init; } = [];

    /// <summary>Streams the file names that are not served (RTSP/RTP formats), each with why: the status page lists them.</summary>
    public ImmutableArray<SkippedStream> SkippedStreams { get; init; } = [];

    public FeedConfig? FindFeed(string name) =>
        Feeds.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));

    public StreamConfig? FindStream(string name) =>
        Streams.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));
}

/// <summary>A configured stream that is not served, why, and where it was written.</summary>
internal sealed record SkippedStream(string Name, string Reason, ConfigLocation Location);

/// <summary>Where a directive was written, for messages.</summary>
internal readonly record struct ConfigLocation(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>A &lt;Feed name&gt; section: where a publisher pushes, and what viewers' streams read.</summary>
internal sealed record FeedConfig
{
    public required string Name { get; init; }
    public ConfigLocation Location { get; init; }

    /// <summary>File or ReadOnlyFile: the feed file (docs/feed-files.md), or null when the feed is kept in memory only.</summary>
    public string? File { get; init; }

    /// <summary>Where the File (or ReadOnlyFile) line is, for the errors about its path.</summary>
    public ConfigLocation FileLocation { get; init; }

    /// <summary>FileMaxSize in bytes (K/M/G suffixes are 1024-based): the feed file's size, and the packet ring's bound when there is no file.</summary>
    public long FileMaxSize { get; init; } = DefaultFileMaxSize;

    public const long DefaultFileMaxSize = 5 * 1024 * 1024;

    public bool Truncate { get; init; }
    public bool ReadOnly { get; init; }

    /// <summary>Launch: the command (program and arguments) the server starts, with the feed URL appended.</summary>
    public ImmutableArray<string> Launch { get; init; } = [];

    /// <summary>Who may publish to this feed.</summary>
    public Acl Acl { get; init; } = Acl.AllowAll;

    /// <summary>PublishKey (Sluice's directive): the key an RTMP publisher must give (<c>?key=</c>), or null for none.</summary>
    public string? PublishKey { get; init; }

    /// <summary>
    /// PublishOrigin lines (Sluice's directive): web origins (<c>https://studio.example</c>, or <c>*</c>) whose pages may
    /// publish. A publish request with an <c>Origin</c> header (a browser's) is refused unless its origin is listed;
    /// encoders send none.
    /// </summary>
    public ImmutableArray<string> PublishOrigins { get; init; } = [];
}

/// <summary>A &lt;Stream name&gt; section: what viewers request.</summary>
internal sealed record StreamConfig
{
    public required string Name { get; init; }
    public ConfigLocation Location { get; init; }

    /// <summary>Feed: the feed's name, or null for a stream with no feed (status pages, file streams).</summary>
    public string? Feed { get; init; }

    /// <summary>
    /// File or ReadOnlyFile in a stream with no Feed: the media file the stream plays (its full path, a relative one
    /// taken from the config file's folder), or null. The server reads it at real time into a feed of the stream's own.
    /// </summary>
    public string? SourceFile { get; init; }

    /// <summary>NoLoop: a file stream plays its file once and ends, instead of starting it again at its end.</summary>
    public bool NoLoop { get; init; }

    /// <summary>Format, as ffserver spelled it ("webm", "status", "mpegts", ...). ffserver's default was "mpeg".</summary>
    public string Format { get; init; } = "webm";

    public ImmutableDictionary<string, string> Metadata { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Preroll in seconds: how far back in the feed a new viewer starts (at a keyframe); null when not set.</summary>
    public double? Preroll { get; init; }

    /// <summary>
    /// Where a viewer starts when the stream sets no Preroll: 2 s back, at a keyframe. A browser buffers about
    /// 2.3 s of a live WebM before it plays; sent at once, that start makes playback begin immediately
    /// instead of after about 4 s, and the browser then plays at the same distance from live either way.
    /// </summary>
    public const double DefaultPreroll = 2;

    public double EffectivePreroll => Preroll ?? DefaultPreroll;

    public bool StartSendOnKey { get; init; }

    /// <summary>ViewerWriteInterval in this stream, in seconds; null: the global one.</summary>
    public double? ViewerWriteInterval { get; init; }

    /// <summary>MaxTime in seconds (0: unlimited).</summary>
    public double MaxTime { get; init; }

    /// <summary>
    /// OnDemand [seconds] (Sluice's own): when the stream needs encoding, its encoder runs only while it has
    /// viewers, and stops this many seconds after the last one leaves. Null: it runs while the feed has a publisher.
    /// </summary>
    public double? OnDemand { get; init; }

    public const double DefaultOnDemandLinger = 10;

    /// <summary>How the stream is also served as HLS and DASH (Sluice's own HLS* directives).</summary>
    public HlsSettings Hls { get; init; } = new();

    /// <summary>Per-stream MaxClients (0: only the global limits apply).</summary>
    public int MaxClients { get; init; }

    public Acl Acl { get; init; } = Acl.AllowAll;

    public CodecSettings Video { get; init; } = new();
    public CodecSettings Audio { get; init; } = new();
    public bool NoVideo { get; init; }
    public bool NoAudio { get; init; }

    /// <summary>UseDefaults (true, the default) or NoDefaults.</summary>
    public bool UseDefaults { get; init; } = true;

    /// <summary>The stream's configured bitrate in kbit/s (video + audio), 0 when none is configured.</summary>
    public long ConfiguredBitRate =>
        (NoVideo ? 0 : Video.BitRate ?? 0) + (NoAudio ? 0 : Audio.BitRate ?? 0);

    public bool IsStatus => string.Equals(Format, "status", StringComparison.OrdinalIgnoreCase);

    /// <summary>The stream's URL path, each part of its name escaped: <c>/live/cam.webm</c> for <c>&lt;Stream live/cam.webm&gt;</c>.</summary>
    public string UrlPath => "/" + string.Join('/', Name.Split('/').Select(Uri.EscapeDataString));
}

/// <summary>Codec directives of one kind (Video* or Audio*) in a stream. Bitrates in kbit/s.</summary>
internal sealed record CodecSettings
{
    /// <summary>VideoCodec / AudioCodec as written (ffmpeg encoder name), or null.</summary>
    public string? Codec { get; init; }
    public ConfigLocation? CodecLocation { get; init; }

    public long? BitRate { get; init; }

    // video
    public int? Width { get; init; }
    public int? Height { get; init; }
    public double? FrameRate { get; init; }
    public int? GopSize { get; init; }
    public long? BitRateTolerance { get; init; }
    /// <summary>VideoBufferSize in KiB, as written (ffserver gave the encoder n × 8192 bits).</summary>
    public long? BufferSize { get; init; }
    public long? BitRateRangeMin { get; init; }
    public long? BitRateRangeMax { get; init; }
    public int? QMin { get; init; }
    public int? QMax { get; init; }
    public string? PixelFormat { get; init; }
    public bool IntraOnly { get; init; }

    // audio
    public int? Channels { get; init; }
    public int? SampleRate { get; init; }

    /// <summary>AVOptionVideo / AVOptionAudio, in order, each with the line it came from.</summary>
    public ImmutableArray<AvOption> Options { get; init; } = [];

    /// <summary>AVPresetVideo / AVPresetAudio.</summary>
    public string? Preset { get; init; }
    public ConfigLocation? PresetLocation { get; init; }

    public bool IsSet => Codec is not null || BitRate is not null || Width is not null || FrameRate is not null
        || Channels is not null || SampleRate is not null || !Options.IsEmpty;
}

internal sealed record AvOption(string Name, string Value, ConfigLocation Location);

/// <summary>&lt;Redirect name&gt; URL u &lt;/Redirect&gt;: answered with 301 to <see cref="Url"/>.</summary>
internal sealed record RedirectConfig
{
    public required string Name { get; init; }

    /// <summary>Where clients are sent; null when the section's URL line was only a comment ("URL # soon"): answered 404.</summary>
    public required string? Url { get; init; }
    public ConfigLocation Location { get; init; }
}

/// <summary>
/// HLS* directives of a stream. The defaults aim at low latency: 2 s segments (cut at the first keyframe after),
/// 0.25 s LL-HLS parts (a player holds back 3 parts, 0.75 s), six segments listed, CMAF (fMP4) segments that DASH
/// shares.
/// </summary>
internal sealed record HlsSettings
{
    /// <summary>HLS on|off: off serves the stream progressively only (a `Format hls` or `dash` stream cannot be off).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>HLSFormat: "fmp4" (CMAF segments and LL-HLS parts; DASH too) or "ts" (MPEG-TS segments, no parts).</summary>
    public string SegmentFormat { get; init; } = "fmp4";

    public double SegmentDuration { get; init; } = 2;

    public double PartDuration { get; init; } = 0.25;

    public int ListSize { get; init; } = 6;

    public bool IsTs => SegmentFormat == "ts";
}
