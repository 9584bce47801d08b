using System.Net;
using Microsoft.Extensions.Time.Testing;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;

namespace Sluice.Server.Tests.Delivery;

public sealed class ConnectionGateTests
{
    [Fact]
    public void Connections_count_from_accept_against_the_server_limit_the_open_file_room_and_each_address()
    {
        var gate = new ConnectionGate(new ServerConfig { MaxHTTPConnections = 10, MaxClientsPerAddress = 3 }, new FakeTimeProvider());
        var a = IPAddress.Parse("192.0.2.1");
        var held = Enumerable.Range(0, 3).Select(i => gate.TryEnter(a, awaitsHead: false, () => { }, out _, out _)).ToList();
        Assert.All(held, Assert.NotNull);
        Assert.Null(gate.TryEnter(a, false, () => { }, out var refusal, out string reason));
        Assert.Equal(ConnectionRefusal.PerAddress, refusal);
        Assert.Equal("192.0.2.1 holds 3 connections, the limit for one address (MaxClientsPerAddress 3)", reason);

        // An IPv4 client of a dual-stack socket is the same address.
        Assert.Null(gate.TryEnter(a.MapToIPv6(), false, () => { }, out refusal, out _));
        Assert.Equal(ConnectionRefusal.PerAddress, refusal);
        Assert.Equal(3, gate.CountFor(a.MapToIPv6()));

        gate.Leave(held[0]!);
        Assert.NotNull(gate.TryEnter(a, false, () => { }, out _, out _));

        // MaxHTTPConnections + the status margin, unless the open-file limit leaves less room.
        Assert.Equal(10 + ConnectionGate.StatusMargin, gate.Capacity);
        gate.DescriptorCapacity = 5;
        Assert.Equal(5, gate.Capacity);
        Assert.NotNull(gate.TryEnter(IPAddress.Parse("192.0.2.2"), false, () => { }, out _, out _));
        Assert.NotNull(gate.TryEnter(IPAddress.Parse("192.0.2.3"), false, () => { }, out _, out _));
        Assert.Null(gate.TryEnter(IPAddress.Parse("192.0.2.4"), false, () => { }, out refusal, out reason));
        Assert.Equal(ConnectionRefusal.Descriptors, refusal);
        Assert.Equal("the server holds 5 connections, all the open-file limit leaves room for (MaxHTTPConnections 10 would need more)", reason);
        Assert.Equal(5, gate.TakePeak());
    }

    [Fact]
    public void A_connection_with_no_whole_request_head_is_closed_at_RequestHeaderTimeout_from_accept()
    {
        var time = new FakeTimeProvider();
        var gate = new ConnectionGate(new ServerConfig { RequestHeaderTimeout = 10 }, time);
        int closedSilent = 0, closedServed = 0, closedRtmp = 0;
        var silent = gate.TryEnter(IPAddress.Loopback, awaitsHead: true, () => closedSilent++, out _, out _)!;
        var served = gate.TryEnter(IPAddress.Loopback, awaitsHead: true, () => closedServed++, out _, out _)!;
        gate.TryEnter(IPAddress.Loopback, awaitsHead: false, () => closedRtmp++, out _, out _);

        time.Advance(TimeSpan.FromSeconds(9.9));
        gate.HeadReceived(served);
        Assert.Equal(0, gate.CloseStalled());

        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(1, gate.CloseStalled());
        Assert.Equal((1, 0, 0), (closedSilent, closedServed, closedRtmp));

        // Closed once: the sweep does not close it again while it is going away.
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, gate.CloseStalled());
        gate.Leave(silent);
        Assert.Equal(2, gate.Count);
    }
}
