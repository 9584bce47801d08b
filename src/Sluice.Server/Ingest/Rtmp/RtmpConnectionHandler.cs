using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Sluice.Server.Ingest.Rtmp;

/// <summary>
/// The RTMP listener's connections (Kestrel hands each one over with its pipes): publishers that push a feed
/// and players of a stream. Each connection is one <see cref="RtmpSession"/>.
/// </summary>
/// <remarks>A singleton of the host's services, disposed with them (its log throttle's timer).</remarks>
internal sealed class RtmpConnectionHandler : ConnectionHandler, IDisposable
{
    private readonly SluiceServer _server;
    private readonly ILogger _logger;
    private readonly Logging.LogThrottle _untrustedLog;

    public RtmpConnectionHandler(SluiceServer server)
    {
        _server = server;
        _logger = server.Loggers.CreateLogger("Sluice.Rtmp");
        // A flood of clients that never publish or play leaves a line an interval, with a count.
        _untrustedLog = new Logging.LogThrottle(server.Time, Logging.LogThrottle.DefaultInterval, (_, count, last) => RtmpSession.LogUntrustedMore(_logger, count, last));
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = (connection.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        var session = new RtmpSession(_server, connection, remote, _logger, _untrustedLog);
        await session.RunAsync().ConfigureAwait(false);
    }

    public void Dispose() => _untrustedLog.Dispose();
}
