using System.Net;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media.Buffers;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Hosting;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Hosting;

public sealed class MemoryTrimmerTests
{
    [Fact]
    public void A_burst_of_idle_connections_is_compacted_once_it_settles_at_most_once_a_minute_and_a_fall_gives_memory_back()
    {
        var time = new FakeTimeProvider();
        var gate = new ConnectionGate(new ServerConfig { MaxHTTPConnections = 5000, MaxClientsPerAddress = 5000 }, time);
        var logger = new ListLogger();
        using var trimmer = new MemoryTrimmer(gate, new BlockPool(), null, time, logger);
        var held = new List<ConnectionGate.Entry>();
        void Open(int n, bool idle = true)
        {
            for (int i = 0; i < n; i++)
            {
                held.Add(gate.TryEnter(IPAddress.Loopback, awaitsHead: true, () => { }, out _, out _)!);
                if (!idle)
                {
                    gate.HeadReceived(held[^1]);
                }
            }
        }

        int Logged(int id) => logger.Entries.Count(e => e.Id == id);

        // Viewers joining in a burst send their requests: no collection for them.
        Open(1000, idle: false);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, Logged(531));

        Open(1000);
        time.Advance(TimeSpan.FromSeconds(5)); // a look sees the burst
        Assert.Equal(0, Logged(531));
        Open(100);
        time.Advance(TimeSpan.FromSeconds(5)); // and the next sees it settled
        Assert.Equal(1, Logged(531));
        Assert.Contains("settled at 1100 (of 2100)", logger.Entries.Single(e => e.Id == 531).Message);

        // A second burst within the minute waits; once the minute is over, it is compacted.
        Open(1000);
        time.Advance(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, Logged(531));
        time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(2, Logged(531));

        // A fall from the peak gives the pools' blocks and the heap back.
        foreach (var entry in held.Take(1500))
        {
            gate.Leave(entry);
        }

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, Logged(530));
        Assert.Contains("fell from 3100 to 1600", logger.Entries.Single(e => e.Id == 530).Message);
    }
}
