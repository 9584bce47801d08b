using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Hosting;

namespace Sluice.Server.Tests.Hosting;

/// <summary>The listener, on loopback with real sockets, under both first-byte waiters; the gate's clock is fake.</summary>
public sealed class FirstByteListenerFactoryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_connection_reaches_Kestrel_only_with_its_first_byte_and_one_that_closes_first_never_does(bool epoll)
    {
        await using var rig = await Rig.StartAsync(epoll);

        using var silent = await rig.ConnectAsync();
        using var quitter = await rig.ConnectAsync();
        using var talker = await rig.ConnectAsync();
        await rig.WaitForCountAsync(3);

        // The one that sends is handed over with its bytes, counted once, and known to the gate.
        var accepting = rig.Listener.AcceptAsync().AsTask();
        quitter.Close();
        await rig.WaitForCountAsync(2); // closed before sending: let go without a connection
        Assert.False(accepting.IsCompleted);
        await talker.SendAsync("GET"u8.ToArray());
        var connection = await accepting.WaitAsync(Bound);
        Assert.NotNull(connection);
        var read = await connection!.Transport.Input.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal("GET", System.Text.Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(read.Buffer)));
        connection.Transport.Input.AdvanceTo(read.Buffer.End);
        Assert.NotNull(connection.Features.Get<ConnectionGate.Entry>());
        Assert.Equal(2, rig.Gate.Count);

        // The silent one is closed by the sweep at RequestHeaderTimeout, and not handed over.
        var next = rig.Listener.AcceptAsync().AsTask();
        rig.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await ReadAsync(silent).WaitAsync(Bound));
        await rig.WaitForCountAsync(1);
        Assert.False(next.IsCompleted);

        // Leaving is the admission's job once the connection runs (ConnectionAdmission.AdmitAsync).
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Over_the_gate_s_limit_a_connection_is_closed_at_accept()
    {
        await using var rig = await Rig.StartAsync(epoll: true, perAddress: 2);
        using var a = await rig.ConnectAsync();
        using var b = await rig.ConnectAsync();
        using var c = await rig.ConnectAsync();
        Assert.Equal(0, await ReadAsync(c).WaitAsync(Bound));
        Assert.Equal(2, rig.Gate.Count);
    }

    private static async Task<int> ReadAsync(Socket socket)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[16]);
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    private sealed class Rig : IAsyncDisposable
    {
        private readonly FirstByteListenerFactory _factory;
        private readonly ConnectionAdmission _admission;

        private Rig(FakeTimeProvider time, ConnectionGate gate, ConnectionAdmission admission, FirstByteListenerFactory factory, IConnectionListener listener)
        {
            (Time, Gate, _admission, _factory, Listener) = (time, gate, admission, factory, listener);
        }

        public FakeTimeProvider Time { get; }

        public ConnectionGate Gate { get; }

        public IConnectionListener Listener { get; }

        public static async Task<Rig> StartAsync(bool epoll, int perAddress = 100)
        {
            var time = new FakeTimeProvider();
            var gate = new ConnectionGate(new ServerConfig { MaxHTTPConnections = 100, MaxClientsPerAddress = perAddress, RequestHeaderTimeout = 5 }, time);
            var admission = new ConnectionAdmission(gate, 5, time, NullLogger.Instance);
            var factory = new FirstByteListenerFactory(new LargeBlockMemoryPoolFactory(), () => admission, time, NullLoggerFactory.Instance, epoll);
            var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
            return new Rig(time, gate, admission, factory, listener);
        }

        public async Task<Socket> ConnectAsync()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync((IPEndPoint)Listener.EndPoint).WaitAsync(Bound);
            return socket;
        }

        /// <summary>Waits (bounded) for the gate to hold this many connections: accepting and letting go run on other threads.</summary>
        public async Task WaitForCountAsync(int count)
        {
            using var cts = new CancellationTokenSource(Bound);
            while (Gate.Count != count)
            {
                await Task.Delay(10, cts.Token);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Listener.DisposeAsync();
            _factory.Dispose();
            _admission.Dispose();
        }
    }
}
