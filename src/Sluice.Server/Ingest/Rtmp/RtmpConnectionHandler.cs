using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sluice.Media.Buffers;
using Sluice.Server.Delivery;
using Sluice.Server.Streams;

namespace Sluice.Server.Ingest.Rtmp;

/// <summary>What an RTMP session may touch, the same for every connection of the listener.</summary>
/// <param name="Directory">The feeds a publisher may publish to and the RTMP outputs a player may play.</param>
/// <param name="Admission">Who may publish and who may play.</param>
/// <param name="Limits">Counts the session's connection (MaxHTTPConnections, the status page).</param>
/// <param name="ViewerPolicy">How a player that falls behind is treated.</param>
/// <param name="Watch">Counts a player of a stream (an OnDemand stream's encoder runs while it has viewers).</param>
/// <param name="Buffers">The pool a publisher's messages are copied into.</param>
/// <param name="AccessLog">CustomLog, when the config has one.</param>
/// <param name="RequestHeaderTimeout">How long a client may take from accept to publish or play.</param>
/// <param name="Time">The server's clock.</param>
internal sealed record RtmpServices(
    StreamDirectory Directory,
    Admission Admission,
    Limits Limits,
    ViewerPolicy ViewerPolicy,
    WatchStream Watch,
    BlockPool Buffers,
    AccessLog? AccessLog,
    TimeSpan RequestHeaderTimeout,
    TimeProvider Time);

/// <summary>
/// The RTMP listener's connections (Kestrel hands each one over with its pipes): publishers that push a feed
/// and players of a stream. Each connection is one <see cref="RtmpSession"/>.
/// </summary>
/// <remarks>A singleton of the host's services, disposed with them (its log throttle's timer).</remarks>
internal sealed class RtmpConnectionHandler : ConnectionHandler, IDisposable
{
    private readonly RtmpServices _services;
    private readonly ILogger _logger;
    private readonly Logging.LogThrottle _untrustedLog;

    public RtmpConnectionHandler(RtmpServices services, ILogger logger)
    {
        _services = services;
        _logger = logger;
        // A flood of clients that never publish or play leaves a line an interval, with a count.
        _untrustedLog = new Logging.LogThrottle(services.Time, Logging.LogThrottle.DefaultInterval, (_, count, last) => RtmpSession.LogUntrustedMore(_logger, count, last));
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        var session = new RtmpSession(_services, connection, remote, _logger, _untrustedLog);
        await session.RunAsync().ConfigureAwait(false);
    }

    public void Dispose() => _untrustedLog.Dispose();
}
