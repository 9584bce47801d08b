using Microsoft.Extensions.Logging;
using Sluice.Server.Delivery;
using Sluice.Server.Hls;
using Sluice.Server.Ingest;
using Sluice.Server.Ingest.Rtmp;
using Sluice.Server.Status;

namespace Sluice.Server.Hosting;

/// <summary>
/// Who gets what: each endpoint is given the few parts of the <see cref="SluiceServer"/> it uses, here and nowhere
/// else, so a constructor says what its endpoint may touch.
/// </summary>
internal static class EndpointWiring
{
    /// <summary>The HTTP listener's requests, with the endpoints they are routed to.</summary>
    public static Dispatcher Dispatcher(SluiceServer server) => new(
        server.Config,
        server.Directory,
        server.Limits,
        server.Admission,
        server.AccessLog,
        () => Status(server),
        new HttpIngest(server.Admission, server.Buffers, server.Time, server.Loggers.CreateLogger("Sluice.Ingest")),
        new ViewerEndpoint(server.Admission, server.ViewerPolicy, server.Watch, server.Time, server.Loggers.CreateLogger("Sluice.Viewer")),
        new HlsEndpoint(server.Directory, server.Started, server.Time),
        server.Time,
        server.Loggers.CreateLogger("Sluice.Http"));

    /// <summary>The RTMP listener's connections: publishers and players.</summary>
    public static RtmpConnectionHandler Rtmp(SluiceServer server) => new(
        new RtmpServices(
            server.Directory,
            server.Admission,
            server.Limits,
            server.ViewerPolicy,
            server.Watch,
            server.Buffers,
            server.AccessLog,
            TimeSpan.FromSeconds(server.Config.RequestHeaderTimeout),
            server.Time),
        server.Loggers.CreateLogger("Sluice.Rtmp"));

    /// <summary>The status page's snapshot of the server now.</summary>
    public static StatusSnapshot Status(SluiceServer server) => StatusSnapshot.Capture(
        server.Directory, server.Transcoders.Values, server.Limits, server.Config, server.Buffers, server.Time, server.Started);
}
