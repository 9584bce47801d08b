using System.Net;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;

namespace Sluice.Server.Tests.Delivery;

public sealed class LimitsTests
{
    private static ClientConnection Connection(Limits limits) =>
        new(limits.NextId(), IPAddress.Loopback, "GET", "/livestream", "HTTP/1.1", DateTimeOffset.UnixEpoch);

    private static readonly StreamConfig Stream = new()
    {
        Name = "livestream",
        Video = new CodecSettings { BitRate = 512 },
        Audio = new CodecSettings { BitRate = 128 },
    };

    [Fact]
    public void MaxBandwidth_refuses_the_viewer_that_would_exceed_it_with_ffservers_words()
    {
        var limits = new Limits(new ServerConfig { MaxBandwidth = 1000, MaxClients = 5 });
        var first = Connection(limits);
        Assert.Null(limits.Open(first));
        Assert.Null(limits.Admit(first, ClientKind.Viewer, Stream, Stream.ConfiguredBitRate));

        var second = Connection(limits);
        Assert.Null(limits.Open(second));
        var refusal = limits.Admit(second, ClientKind.Viewer, Stream, Stream.ConfiguredBitRate);
        Assert.Equal(new Refusal(RefusalKind.BandwidthFull, "The bandwidth being served (including your stream) is 1280kbit/s, and this exceeds the limit of 1000kbit/s."), refusal);

        limits.Close(first);
        Assert.Null(limits.Admit(second, ClientKind.Viewer, Stream, Stream.ConfiguredBitRate));
        Assert.Equal(640, limits.BandwidthKbps);
    }

    [Fact]
    public void MaxClients_counts_viewers_publishers_and_status_requests()
    {
        var limits = new Limits(new ServerConfig { MaxClients = 2, MaxBandwidth = 100_000 });
        var a = Connection(limits);
        var b = Connection(limits);
        var c = Connection(limits);
        Assert.Null(limits.Admit(a, ClientKind.Publisher));
        Assert.Null(limits.Admit(b, ClientKind.Status));
        Assert.Equal(new Refusal(RefusalKind.TooManyClients, "The number of current connections is 3, and this exceeds the limit of 2."), limits.Admit(c, ClientKind.Viewer, Stream, 640));
    }

    [Fact]
    public void MaxHTTPConnections_counts_connections_from_accept_and_keeps_a_margin_for_the_reason_and_status()
    {
        var limits = new Limits(new ServerConfig { MaxHTTPConnections = 1, MaxClientsPerAddress = 5 });
        var first = limits.Gate.TryEnter(IPAddress.Loopback, awaitsHead: true, () => { }, out _, out _);
        Assert.NotNull(first);
        var a = Connection(limits);
        Assert.Null(limits.Open(a));

        // An idle connection counts: the next one's request hears why, a status request is still served.
        var second = limits.Gate.TryEnter(IPAddress.Loopback, awaitsHead: true, () => { }, out _, out _);
        Assert.NotNull(second);
        var b = Connection(limits);
        Assert.Equal(new Refusal(RefusalKind.ServerFull, "The number of current HTTP connections is 2, and this exceeds the limit of 1."), limits.Open(b));
        Assert.Null(limits.Open(Connection(limits), status: true));
        limits.Close(b);
        limits.Gate.Leave(second!);
        limits.Close(a);
        limits.Gate.Leave(first!);
        Assert.Equal(0, limits.HttpConnections);
    }

    [Fact]
    public void A_streams_own_MaxClients_applies()
    {
        var limits = new Limits(new ServerConfig { MaxClients = 10, MaxBandwidth = 100_000 });
        var stream = Stream with { MaxClients = 1 };
        Assert.Null(limits.Admit(Connection(limits), ClientKind.Viewer, stream, 640));
        Assert.Equal(new Refusal(RefusalKind.StreamFull, "The number of viewers of livestream is 2, and this exceeds the stream's limit of 1."), limits.Admit(Connection(limits), ClientKind.Viewer, stream, 640));
    }
}
