using System.Collections.Concurrent;
using Sluice.Server.Configuration;

namespace Sluice.Server.Delivery;

/// <summary>
/// Every request in flight and the limits on them: MaxHTTPConnections (connections, counted by <see cref="Gate"/> from
/// accept, idle ones too), MaxClients (viewers,
/// publishers, status requests), MaxBandwidth (the sum of the bitrates of the streams being served) and
/// per-stream MaxClients. Admission is decided under one lock so that two clients cannot both take the
/// last place.
/// </summary>
internal sealed class Limits
{
    private readonly ServerConfig _config;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<long, ClientConnection> _connections = new();
    private readonly Dictionary<string, int> _viewersPerStream = new(StringComparer.Ordinal);
    private long _nextId;
    private int _clients;
    private long _bandwidthKbps;
    private bool _stopping;

    public Limits(ServerConfig config, TimeProvider? time = null)
    {
        _config = config;
        Gate = new ConnectionGate(config, time ?? TimeProvider.System);
    }

    /// <summary>Every connection, HTTP and RTMP, from accept to close.</summary>
    public ConnectionGate Gate { get; }

    public ICollection<ClientConnection> Connections => _connections.Values;

    /// <summary>Whether the server holds more connections than MaxHTTPConnections (only status requests are answered then).</summary>
    public bool OverConnectionLimit => Gate.Count > _config.MaxHTTPConnections;

    /// <summary>Connections held now (HTTP and RTMP, idle ones included).</summary>
    public int HttpConnections => Gate.Count;

    public int Clients { get { lock (_lock) { return _clients; } } }

    public long BandwidthKbps { get { lock (_lock) { return _bandwidthKbps; } } }

    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>From now on, refuse every new client: the server is stopping.</summary>
    public void Stop()
    {
        Gate.Stop();
        lock (_lock)
        {
            _stopping = true;
        }
    }

    /// <summary>
    /// Registers a request; a refusal when the server holds more than MaxHTTPConnections connections (the gate lets a
    /// few more in so that they hear why), unless it asks for a status page, which that margin is kept for.
    /// </summary>
    public Refusal? Open(ClientConnection connection, bool status = false)
    {
        _connections[connection.Id] = connection;
        int count = Gate.Count;
        if (count > _config.MaxHTTPConnections && !status)
        {
            return new Refusal(RefusalKind.ServerFull, $"The number of current HTTP connections is {count}, and this exceeds the limit of {_config.MaxHTTPConnections}.");
        }

        return null;
    }

    public void Close(ClientConnection connection)
    {
        Release(connection);
        _connections.TryRemove(connection.Id, out _);
    }

    /// <summary>Admits a client of a kind (a viewer of <paramref name="stream"/> with its bitrate), or says why not.</summary>
    public Refusal? Admit(ClientConnection connection, ClientKind kind, StreamConfig? stream = null, long bitRateKbps = 0)
    {
        lock (_lock)
        {
            if (_stopping)
            {
                return new Refusal(RefusalKind.ShuttingDown, "The server is shutting down.");
            }

            int clients = _clients + 1;
            if (clients > _config.MaxClients)
            {
                return new Refusal(RefusalKind.TooManyClients, $"The number of current connections is {clients}, and this exceeds the limit of {_config.MaxClients}.");
            }

            if (kind == ClientKind.Viewer && stream is not null)
            {
                long bandwidth = _bandwidthKbps + bitRateKbps;
                if (bandwidth > _config.MaxBandwidth)
                {
                    return new Refusal(RefusalKind.BandwidthFull, $"The bandwidth being served (including your stream) is {bandwidth}kbit/s, and this exceeds the limit of {_config.MaxBandwidth}kbit/s.");
                }

                int viewers = _viewersPerStream.GetValueOrDefault(stream.Name) + 1;
                if (stream.MaxClients > 0 && viewers > stream.MaxClients)
                {
                    return new Refusal(RefusalKind.StreamFull, $"The number of viewers of {stream.Name} is {viewers}, and this exceeds the stream's limit of {stream.MaxClients}.");
                }

                _viewersPerStream[stream.Name] = viewers;
                _bandwidthKbps = bandwidth;
                connection.Name = stream.Name;
            }

            _clients = clients;
            connection.Kind = kind;
            connection.BitRateKbps = kind == ClientKind.Viewer ? bitRateKbps : 0;
            return null;
        }
    }

    private void Release(ClientConnection connection)
    {
        lock (_lock)
        {
            if (!connection.IsClient)
            {
                return;
            }

            _clients--;
            if (connection.Kind == ClientKind.Viewer && connection.Name is { } name)
            {
                _bandwidthKbps -= connection.BitRateKbps;
                _viewersPerStream[name]--;
            }

            connection.Kind = ClientKind.Request;
        }
    }
}
