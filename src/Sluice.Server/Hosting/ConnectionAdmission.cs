using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sluice.Server.Delivery;
using Sluice.Server.Logging;

namespace Sluice.Server.Hosting;

/// <summary>
/// The first step of every connection on every listener: the <see cref="ConnectionGate"/> counts it from accept or
/// closes it at once, refusals are logged once per interval with a count, and once a second the HTTP connections that
/// have sent no request head within RequestHeaderTimeout are closed.
/// </summary>
internal sealed partial class ConnectionAdmission : IDisposable
{
    private readonly ConnectionGate _gate;
    private readonly ILogger _logger;
    private readonly LogThrottle _throttle;
    private readonly ITimer _sweeper;
    private readonly double _headTimeout;
    private readonly TimeProvider _time;
    private readonly Lock _stalledLock = new();
    private int _stalled;
    private long _stalledLogged;

    public ConnectionAdmission(ConnectionGate gate, double requestHeaderTimeout, TimeProvider time, ILogger logger)
    {
        _gate = gate;
        _logger = logger;
        _headTimeout = requestHeaderTimeout;
        _time = time;
        _stalledLogged = time.GetTimestamp() - (long)(LogThrottle.DefaultInterval.TotalSeconds * time.TimestampFrequency);
        _throttle = new LogThrottle(time, LogThrottle.DefaultInterval, (kind, count, last) => LogRefusedMore(_logger, count, kind, LogThrottle.DefaultInterval.TotalSeconds, last));
        _sweeper = time.CreateTimer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Counts a connection just accepted (every one awaits its first bytes within RequestHeaderTimeout), or logs why it
    /// is refused (once an interval for each kind, with a count) and returns null: the caller closes it.
    /// </summary>
    public ConnectionGate.Entry? Enter(IPAddress remote, Action close)
    {
        remote = ConnectionGate.Normalize(remote);
        var entry = _gate.TryEnter(remote, awaitsHead: true, close, out var refusal, out string reason);
        if (entry is null && _throttle.ShouldLog(Describe(refusal), $"{remote}: {reason}"))
        {
            LogRefused(_logger, remote.ToString(), reason);
        }

        return entry;
    }

    /// <summary>A connection <see cref="Enter"/> counted has closed.</summary>
    public void Leave(ConnectionGate.Entry entry) => _gate.Leave(entry);

    /// <summary>
    /// Runs a listener's connection, counted at accept (<see cref="FirstByteListenerFactory"/>), until it closes
    /// (<paramref name="http"/>: it must send a request head within RequestHeaderTimeout of its accept; an RTMP
    /// session keeps its own deadline from the accept).
    /// </summary>
    public async Task AdmitAsync(ConnectionContext connection, ConnectionDelegate next, bool http)
    {
        if (connection.RemoteEndPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } mapped)
        {
            // An IPv4 client of a dual-stack listener: logs, ACLs and limits see the IPv4 address it has.
            connection.RemoteEndPoint = new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port);
        }

        // Every listener's transport is Sluice's own, which counted the connection at accept.
        var entry = connection.Features.Get<ConnectionGate.Entry>()
            ?? throw new InvalidOperationException("A connection reached the admission without the gate's entry: its listener is not FirstByteListenerFactory's.");
        if (!http)
        {
            _gate.HeadReceived(entry);
        }

        connection.Features.Set(entry);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _gate.Leave(entry);
        }
    }

    /// <summary>Closes the stalled connections; what it closed is logged at most once an interval, with the count since the last line.</summary>
    private void Sweep()
    {
        int closed = _gate.CloseStalled();
        int total;
        lock (_stalledLock)
        {
            _stalled += closed;
            if (_stalled == 0 || _time.GetElapsedTime(_stalledLogged) < LogThrottle.DefaultInterval)
            {
                return;
            }

            (total, _stalled, _stalledLogged) = (_stalled, 0, _time.GetTimestamp());
        }

        LogStalled(_logger, total, _headTimeout);
    }

    private static string Describe(ConnectionRefusal refusal) => refusal switch
    {
        ConnectionRefusal.PerAddress => "connections refused over the per-address limit",
        ConnectionRefusal.ServerFull => "connections refused over the server's limit",
        ConnectionRefusal.Descriptors => "connections refused at the open-file limit",
        _ => "connections refused while stopping",
    };

    public void Dispose()
    {
        _sweeper.Dispose();
        _throttle.Flush();
        _throttle.Dispose();
    }

    [LoggerMessage(EventId = 520, Level = LogLevel.Warning, Message = "Refused a connection from {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 521, Level = LogLevel.Warning, Message = "{Count} more {What} in the last {Seconds} s (the last: {Last})")]
    private static partial void LogRefusedMore(ILogger logger, int count, string what, double seconds, string last);

    [LoggerMessage(EventId = 522, Level = LogLevel.Information, Message = "Closed {Count} connection(s) that sent no whole request head within {Seconds} s of connecting (RequestHeaderTimeout)")]
    private static partial void LogStalled(ILogger logger, int count, double seconds);
}
