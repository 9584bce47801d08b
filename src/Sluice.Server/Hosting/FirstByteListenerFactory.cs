using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Sluice.Server.Hosting;

/// <summary>
/// Kestrel's transport for every listener, HTTP and RTMP, with one change: a connection costs only its socket until
/// its client sends a byte. The listener accepts, runs the connection through <see cref="ConnectionAdmission"/> (counted,
/// or closed at once over a limit), waits for the first byte (<see cref="FirstByteWaiter"/>), and only then makes
/// Kestrel's connection of it (its pipes, its HTTP or RTMP state). An idle TCP connection, the whole of a connection
/// flood, holds its socket and a table entry instead of Kestrel's seven kilobytes; one that sends nothing within
/// RequestHeaderTimeout is closed by the admission's sweep like any stalled one.
/// </summary>
/// <remarks>
/// Sockets are made and bound the way Kestrel's own transport does (<see cref="SocketTransportOptions.CreateDefaultBoundListenSocket"/>,
/// dual-stack on <c>::</c>), the connections are Kestrel's (<see cref="SocketConnectionContextFactory"/>) over Sluice's
/// connection buffers (<see cref="LargeBlockMemoryPoolFactory"/>).
/// </remarks>
internal sealed partial class FirstByteListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    /// <summary>The listen backlog (the kernel caps it at net.core.somaxconn): a burst of connections waits here, not in a SYN retry.</summary>
    public const int Backlog = 4096;

    private readonly SocketConnectionContextFactory _connections;
    private readonly Func<ConnectionAdmission> _admission;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Logging.LogThrottle _acceptErrors;
    private readonly bool _epoll;

    /// <param name="admission">The admission, asked for at the first accept (it is made once the server exists).</param>
    /// <param name="epoll">False: wait for first bytes the portable way even on Linux (tests run both).</param>
    public FirstByteListenerFactory(IMemoryPoolFactory<byte> buffers, Func<ConnectionAdmission> admission, TimeProvider time, ILoggerFactory loggers, bool epoll = true)
    {
        _epoll = epoll;
        var options = new SocketConnectionFactoryOptions
        {
            // Requests run on the socket threads that read them (bench/README, "Inline scheduling").
            UnsafePreferInlineScheduling = true,
            WaitForDataBeforeAllocatingBuffer = true,
        };
        SetMemoryPoolFactory(options, buffers);
        _connections = new SocketConnectionContextFactory(options, loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        _admission = admission;
        _logger = loggers.CreateLogger("Sluice.Connections");
        _time = time;
        _acceptErrors = new Logging.LogThrottle(time, Logging.LogThrottle.DefaultInterval, (_, count, last) => LogAcceptFailedMore(_logger, count, last));
    }

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint)
        {
            throw new NotSupportedException($"Sluice listens on IP addresses only, not on {endpoint}");
        }

        Socket socket;
        try
        {
            socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            // Kestrel tells an address in use (an IOException, not retried on IPv4 alone) from IPv6 missing.
            throw new AddressInUseException(e.Message, e);
        }

        socket.Listen(Backlog);
        var listener = new Listener(this, socket);
        listener.Start();
        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    public void Dispose()
    {
        _acceptErrors.Dispose();
        _connections.Dispose();
    }

    // The transport's options take the connection buffers only through an internal setter (Kestrel's own transport
    // sets it from the services); without it connections would buffer in 4 KiB blocks (LargeBlockMemoryPool says why not).
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_MemoryPoolFactory")]
    private static extern void SetMemoryPoolFactory(SocketConnectionFactoryOptions options, IMemoryPoolFactory<byte> factory);

    [LoggerMessage(EventId = 523, Level = LogLevel.Warning, Message = "Accepting on {EndPoint} failed ({Error}); trying again in 100 ms")]
    private static partial void LogAcceptFailed(ILogger logger, EndPoint endPoint, string error);

    [LoggerMessage(EventId = 532, Level = LogLevel.Warning, Message = "Accepting failed {Count} more times in the last 10 s (the last: {Last})")]
    private static partial void LogAcceptFailedMore(ILogger logger, int count, string last);

    private sealed class Listener : IConnectionListener
    {
        private static readonly TimeSpan AcceptRetry = TimeSpan.FromMilliseconds(100);

        private readonly FirstByteListenerFactory _factory;
        private readonly Socket _socket;
        private readonly Channel<ConnectionContext> _ready = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleReader = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly FirstByteWaiter _waiter;
        private ConnectionAdmission _admission = null!;
        private Task _accepting = Task.CompletedTask;

        public Listener(FirstByteListenerFactory factory, Socket socket)
        {
            _factory = factory;
            _socket = socket;
            EndPoint = socket.LocalEndPoint!;
            _waiter = FirstByteWaiter.Create(OnReadable, waiting => _admission.Leave(waiting.Entry), factory._logger, factory._epoll);
        }

        public EndPoint EndPoint { get; }

        public void Start() => _accepting = Task.Run(AcceptLoopAsync);

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                while (await _ready.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (_ready.Reader.TryRead(out var connection))
                    {
                        return connection;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }

            return null;
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            _socket.Dispose();
            await _accepting.ConfigureAwait(false);
            _ready.Writer.TryComplete();
        }

        public async ValueTask DisposeAsync()
        {
            await UnbindAsync().ConfigureAwait(false);
            _waiter.Dispose();
            while (_ready.Reader.TryRead(out var connection))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            _stop.Dispose();
        }

        private async Task AcceptLoopAsync()
        {
            _admission = _factory._admission();
            while (!_stop.IsCancellationRequested)
            {
                Socket accepted;
                try
                {
                    accepted = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
                {
                    continue; // gone before it was accepted
                }
                catch (SocketException e)
                {
                    // Out of descriptors or memory: wait instead of spinning on an accept that fails at once.
                    if (_factory._acceptErrors.ShouldLog(e.SocketErrorCode.ToString(), $"{EndPoint}: {e.Message}"))
                    {
                        LogAcceptFailed(_factory._logger, EndPoint, e.Message);
                    }

                    try
                    {
                        await Task.Delay(AcceptRetry, _factory._time, _stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                var remote = (accepted.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
                var waiting = new WaitingSocket(accepted);
                var entry = _admission.Enter(remote, waiting.Close);
                if (entry is null)
                {
                    accepted.Dispose();
                    continue;
                }

                waiting.Entry = entry;
                _waiter.Add(waiting);
            }
        }

        /// <summary>Makes Kestrel's connection of a socket whose client has sent something; one that closed is let go.</summary>
        private void OnReadable(WaitingSocket waiting)
        {
            var (accepted, entry) = (waiting.Socket, waiting.Entry);
            ConnectionContext connection;
            try
            {
                // Readable with nothing to read: the client closed (a flood ending) and never needs a connection.
                if (accepted.Available == 0)
                {
                    accepted.Dispose();
                    _admission.Leave(entry);
                    return;
                }

                accepted.NoDelay = true;
                connection = _factory._connections.Create(accepted);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Reset, or closed by the gate's sweep (RequestHeaderTimeout) or at shutdown.
                accepted.Dispose();
                _admission.Leave(entry);
                return;
            }

            entry.Closing(connection.Abort);
            connection.Features.Set(entry);
            if (!_ready.Writer.TryWrite(connection))
            {
                _admission.Leave(entry);
                _ = connection.DisposeAsync();
            }
        }
    }
}
