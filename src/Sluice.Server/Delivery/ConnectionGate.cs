using System.Collections.Concurrent;
using System.Net;
using Sluice.Server.Configuration;

namespace Sluice.Server.Delivery;

/// <summary>Why a connection was closed as soon as it was accepted.</summary>
internal enum ConnectionRefusal
{
    /// <summary>Its address holds MaxClientsPerAddress connections already.</summary>
    PerAddress,

    /// <summary>The server holds MaxHTTPConnections plus the margin kept for status requests.</summary>
    ServerFull,

    /// <summary>The open-file limit leaves no room for another connection (the process would fail at the limit).</summary>
    Descriptors,

    /// <summary>The server is stopping.</summary>
    Stopping,
}

/// <summary>
/// Every connection the server holds, HTTP and RTMP, counted from accept (idle ones too), the way nginx counts
/// <c>worker_connections</c>: a connection over a limit is closed at once, before anything is read or allocated for
/// it. The limits are MaxHTTPConnections plus <see cref="StatusMargin"/> (room to read the request of a client over
/// MaxHTTPConnections and answer it 503 with the reason, or a status request), the room the open-file limit leaves,
/// and MaxClientsPerAddress. An HTTP connection that sends no whole request head within RequestHeaderTimeout of its
/// accept is closed by <see cref="CloseStalled"/>, however slowly it drips bytes.
/// </summary>
internal sealed class ConnectionGate
{
    /// <summary>Connections over MaxHTTPConnections that are still accepted, so their requests can be answered.</summary>
    public const int StatusMargin = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly ConcurrentDictionary<Entry, byte> _awaitingHead = new();
    private int _awaiting;
    private readonly TimeProvider _time;
    private readonly TimeSpan _headTimeout;
    private int _count;
    private int _peak;
    private bool _stopping;

    public ConnectionGate(ServerConfig config, TimeProvider time)
    {
        _time = time;
        _headTimeout = TimeSpan.FromSeconds(config.RequestHeaderTimeout);
        MaxHttpConnections = config.MaxHTTPConnections;
        PerAddressLimit = config.ClientsPerAddress;
    }

    public int MaxHttpConnections { get; }

    public int PerAddressLimit { get; }

    /// <summary>How many connections the open-file limit leaves room for (null: not known, no limit from it).</summary>
    public int? DescriptorCapacity { get; set; }

    /// <summary>The most connections held at once: MaxHTTPConnections + <see cref="StatusMargin"/>, or fewer when the open-file limit says so.</summary>
    public int Capacity => Math.Min(MaxHttpConnections + StatusMargin, DescriptorCapacity ?? int.MaxValue);

    /// <summary>Connections that have sent no request yet (no first byte, or no whole HTTP request head): idle ones.</summary>
    public int AwaitingHead => Volatile.Read(ref _awaiting);

    /// <summary>Connections held now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The most connections held at once since the last call; the count starts again from now.</summary>
    public int TakePeak()
    {
        lock (_lock)
        {
            (int peak, _peak) = (Math.Max(_peak, _count), _count);
            return peak;
        }
    }

    /// <summary>The connections one address holds now.</summary>
    public int CountFor(IPAddress address)
    {
        lock (_lock)
        {
            return _perAddress.GetValueOrDefault(Normalize(address));
        }
    }

    /// <summary>From now on every new connection is refused.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopping = true;
        }
    }

    /// <summary>Counts a connection just accepted, or says why it must be closed (<paramref name="refusal"/>, entry null).</summary>
    /// <param name="awaitsHead">An HTTP connection: it must send a request head within RequestHeaderTimeout.</param>
    /// <param name="close">Closes the connection at once (used when it stalls).</param>
    public Entry? TryEnter(IPAddress remote, bool awaitsHead, Action close, out ConnectionRefusal refusal, out string reason)
    {
        remote = Normalize(remote);
        lock (_lock)
        {
            int held = _perAddress.GetValueOrDefault(remote);
            if (_stopping)
            {
                (refusal, reason) = (ConnectionRefusal.Stopping, "the server is stopping");
                return null;
            }

            if (_count >= Capacity)
            {
                (refusal, reason) = DescriptorCapacity is { } room && room < MaxHttpConnections + StatusMargin && _count >= room
                    ? (ConnectionRefusal.Descriptors, $"the server holds {_count} connections, all the open-file limit leaves room for (MaxHTTPConnections {MaxHttpConnections} would need more)")
                    : (ConnectionRefusal.ServerFull, $"the server holds {_count} connections, the limit (MaxHTTPConnections {MaxHttpConnections} and {StatusMargin} for status requests)");
                return null;
            }

            if (held >= PerAddressLimit)
            {
                (refusal, reason) = (ConnectionRefusal.PerAddress, $"{remote} holds {held} connections, the limit for one address (MaxClientsPerAddress {PerAddressLimit})");
                return null;
            }

            _perAddress[remote] = held + 1;
            _peak = Math.Max(_peak, ++_count);
        }

        var entry = new Entry(remote, _time.GetTimestamp(), close);
        if (awaitsHead)
        {
            _awaitingHead[entry] = 0;
            Interlocked.Increment(ref _awaiting);
        }

        (refusal, reason) = (default, "");
        return entry;
    }

    /// <summary>The connection sent a whole request head: RequestHeaderTimeout no longer applies to it (Kestrel's own timeouts do).</summary>
    public void HeadReceived(Entry entry)
    {
        if (!entry.HeadReceived)
        {
            entry.HeadReceived = true;
            Forget(entry);
        }
    }

    /// <summary>The connection closed.</summary>
    public void Leave(Entry entry)
    {
        Forget(entry);
        lock (_lock)
        {
            _count--;
            if (_perAddress[entry.Remote] is > 1 and var held)
            {
                _perAddress[entry.Remote] = held - 1;
            }
            else
            {
                _perAddress.Remove(entry.Remote);
            }
        }
    }

    /// <summary>Closes every HTTP connection that has sent no whole request head within RequestHeaderTimeout; returns how many.</summary>
    public int CloseStalled()
    {
        long now = _time.GetTimestamp();
        int closed = 0;
        foreach (var entry in _awaitingHead.Keys)
        {
            if (_time.GetElapsedTime(entry.Accepted, now) >= _headTimeout && Forget(entry))
            {
                closed++;
                entry.Close();
            }
        }

        return closed;
    }

    private bool Forget(Entry entry)
    {
        if (!_awaitingHead.TryRemove(entry, out _))
        {
            return false;
        }

        Interlocked.Decrement(ref _awaiting);
        return true;
    }

    /// <summary>An IPv4 client of a dual-stack listener is one address, however it is written.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>One connection held.</summary>
    public sealed class Entry(IPAddress remote, long accepted, Action close)
    {
        private volatile Action _close = close;

        public IPAddress Remote { get; } = remote;

        /// <summary>When it was accepted (a <see cref="TimeProvider"/> timestamp).</summary>
        public long Accepted { get; } = accepted;

        internal bool HeadReceived { get; set; }

        /// <summary>From now on, closing the connection is this (its socket became a Kestrel connection).</summary>
        public void Closing(Action close) => _close = close;

        internal void Close() => _close();
    }
}
