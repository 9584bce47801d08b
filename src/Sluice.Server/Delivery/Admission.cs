using System.Net;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Ingest;
using Sluice.Server.Streams;

namespace Sluice.Server.Delivery;

/// <summary>Why a client was refused: every refusal of every protocol is one of these, with one message each.</summary>
internal enum RefusalKind
{
    /// <summary>The server holds more than MaxHTTPConnections connections.</summary>
    ServerFull,

    /// <summary>MaxClients clients are being served.</summary>
    TooManyClients,

    /// <summary>The stream would take the bitrate served over MaxBandwidth.</summary>
    BandwidthFull,

    /// <summary>The stream has its MaxClients viewers.</summary>
    StreamFull,

    /// <summary>The server is stopping.</summary>
    ShuttingDown,

    /// <summary>The feed's or stream's ACL does not allow the client's address.</summary>
    AddressNotAllowed,

    /// <summary>The feed has a PublishKey and none was given.</summary>
    PublishKeyMissing,

    /// <summary>The feed has a PublishKey and another was given.</summary>
    PublishKeyWrong,

    /// <summary>A web page (a request with an Origin) tried to publish, and no PublishOrigin allows it.</summary>
    WebPage,

    /// <summary>The feed has a publisher already.</summary>
    FeedBusy,

    /// <summary>The feed is served from its ReadOnlyFile and takes no publisher.</summary>
    ReadOnlyFeed,

    /// <summary>No feed has the name.</summary>
    NoSuchFeed,

    /// <summary>No stream has the name.</summary>
    NoSuchStream,

    /// <summary>The stream exists, but the protocol cannot carry its format.</summary>
    NotOverThisProtocol,
}

/// <summary>Why a client was refused, with the one message its kind has (ffserver's wording where ffserver had one).</summary>
internal readonly record struct Refusal(RefusalKind Kind, string Reason)
{
    /// <summary>The HTTP status it is answered with.</summary>
    public int StatusCode => Admission.HttpStatus(Kind);
}

/// <summary>
/// Decides who may publish and who may watch, for every protocol: the ACLs, the publish key, PublishOrigin, the
/// limits (<see cref="Limits"/>) and a busy feed, in that order, each refusal a <see cref="Refusal"/> of one
/// <see cref="RefusalKind"/> with the same words whatever the protocol. <see cref="HttpStatus"/> and
/// <see cref="RtmpCode"/> are the one mapping from a kind to what each protocol answers; a new protocol adds its own
/// mapping and calls the same checks.
/// </summary>
internal sealed class Admission(Limits limits)
{
    /// <summary>The HTTP status of a refusal of this kind.</summary>
    public static int HttpStatus(RefusalKind kind) => kind switch
    {
        RefusalKind.AddressNotAllowed or RefusalKind.PublishKeyMissing or RefusalKind.PublishKeyWrong or RefusalKind.WebPage or RefusalKind.ReadOnlyFeed => 403,
        RefusalKind.FeedBusy => 409,
        RefusalKind.NoSuchFeed or RefusalKind.NoSuchStream or RefusalKind.NotOverThisProtocol => 404,
        _ => 503,
    };

    /// <summary>The NetStream status code an RTMP publisher (<paramref name="publish"/>) or player is answered with.</summary>
    public static string RtmpCode(RefusalKind kind, bool publish) => (kind, publish) switch
    {
        (RefusalKind.NoSuchFeed or RefusalKind.FeedBusy, true) => "NetStream.Publish.BadName",
        (_, true) => "NetStream.Publish.Denied",
        (RefusalKind.NoSuchStream, false) => "NetStream.Play.StreamNotFound",
        _ => "NetStream.Play.Failed",
    };

    /// <summary>
    /// May <paramref name="connection"/> publish to the feed: its Origin (a web page, HTTP only), the feed's ACL, its
    /// publish key (<paramref name="key"/>, a single-use launch token too when <paramref name="launchToken"/>), a
    /// ReadOnlyFile (never written), then the limits. The key's place in the URL is the protocol's (<paramref name="keyHint"/>: "?key=...").
    /// </summary>
    public Refusal? Publish(Feed feed, ClientConnection connection, string? key, string keyHint, string? origin = null, bool launchToken = false)
    {
        var config = feed.Config;
        if (origin is { Length: > 0 } && !OriginAllowed(config, origin))
        {
            // A browser sends Origin on every cross-origin POST, no-cors included, and its body still arrives: a page
            // open on an address the ACL allows must not publish. Encoders send no Origin.
            return new Refusal(RefusalKind.WebPage, $"Publishing to {feed.Name} from a web page (Origin {Responses.Quote(origin)}) is not allowed; a PublishOrigin line in the feed ({config.Location}) allows an origin.");
        }

        if (!config.Acl.Allows(connection.Remote))
        {
            return new Refusal(RefusalKind.AddressNotAllowed, $"Publishing to {feed.Name} from {connection.Remote} is not allowed by the feed's ACL ({config.Location}).");
        }

        if (config.PublishKey is { } expected && !PublishKeys.Match(expected, key) && !(launchToken && feed.TryUseLaunchToken(key)))
        {
            return string.IsNullOrEmpty(key)
                ? new Refusal(RefusalKind.PublishKeyMissing, $"Publishing to {feed.Name} needs its publish key ({keyHint}).")
                : new Refusal(RefusalKind.PublishKeyWrong, $"Wrong publish key for {feed.Name}.");
        }

        if (config.ReadOnly && config.File is not null)
        {
            return new Refusal(RefusalKind.ReadOnlyFeed, $"{feed.Name} is served from its ReadOnlyFile {config.File} ({config.Location}) and takes no publisher; give the feed a File instead to publish to it.");
        }

        return limits.Admit(connection, ClientKind.Publisher);
    }

    /// <summary>The feed has a publisher: the refusal of another, which says who.</summary>
    public static Refusal Busy(Feed feed)
    {
        var current = feed.CurrentPublisher;
        return new Refusal(RefusalKind.FeedBusy, $"{feed.Name} is already being published (from {current?.Remote} via {current?.Via} since {current?.Since:u}).");
    }

    /// <summary>May the address see the stream (its ACL alone: a request for a segment or a playlist).</summary>
    public static Refusal? Allows(StreamConfig stream, IPAddress remote) => stream.Acl.Allows(remote)
        ? null
        : new Refusal(RefusalKind.AddressNotAllowed, $"Stream {stream.Name} is not available to {remote} (the stream's ACL, {stream.Location}).");

    /// <summary>May <paramref name="connection"/> watch the stream as a viewer: its ACL, then the limits (a client, its bitrate, the stream's MaxClients).</summary>
    public Refusal? Watch(LiveStream stream, ClientConnection connection) =>
        Allows(stream.Config, connection.Remote) ?? limits.Admit(connection, ClientKind.Viewer, stream.Config, stream.BitRateKbps);

    /// <summary>May <paramref name="connection"/> read a status page: its ACL, then the limits.</summary>
    public Refusal? Status(StreamConfig status, ClientConnection connection) =>
        Allows(status, connection.Remote) ?? limits.Admit(connection, ClientKind.Status);

    public static Refusal NoSuchFeed(string name, IEnumerable<string> feeds) =>
        new(RefusalKind.NoSuchFeed, $"No feed is named {Responses.Quote(name)} (nor {Responses.Quote(name + ".ffm")}); publish to one of: {string.Join(", ", feeds)}.");

    public static Refusal NoSuchStream(string name) => new(RefusalKind.NoSuchStream, $"No stream is named {Responses.Quote(name)}.");

    /// <summary>The stream exists but its format cannot go over RTMP.</summary>
    public static Refusal NotOverRtmp(string name, string format) =>
        new(RefusalKind.NotOverThisProtocol, $"Stream {name} cannot be played over RTMP: its Format {format} carries none of H.264, H.265, AAC, MP3; watch it over HTTP.");

    private static bool OriginAllowed(FeedConfig feed, string origin)
    {
        foreach (string allowed in feed.PublishOrigins)
        {
            if (allowed == "*" || string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
