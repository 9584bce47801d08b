using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Server.Feeds;

namespace Sluice.Server.Tests.Feeds;

public sealed class PacketRingTests
{
    private static MediaPacket Packet(long ms, int bytes, bool key) =>
        new(0, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, new byte[bytes]);

    [Fact]
    public void It_stays_within_FileMaxSize_by_dropping_whole_old_GOPs()
    {
        var ring = new PacketRing(maxBytes: 10_000);
        for (int i = 0; i < 100; i++)
        {
            ring.Add(Packet(i * 100, 1000, key: i % 5 == 0), isIndexed: i % 5 == 0);
            Assert.True(ring.Bytes <= 10_000 || ring.Count <= 5, $"{ring.Bytes} bytes in {ring.Count} packets");
        }

        var fromKey = ring.SnapshotFromKeyframe();
        Assert.True(fromKey[0].IsKeyframe);
        Assert.Equal(9500, MediaTime.ToMilliseconds(fromKey[0].Dts));
        Assert.Equal(9900, MediaTime.ToMilliseconds(fromKey[^1].Dts));
    }

    [Fact]
    public void The_latest_GOP_stays_even_when_it_alone_exceeds_the_bound()
    {
        var ring = new PacketRing(maxBytes: 1000);
        ring.Add(Packet(0, 600, key: true), isIndexed: true);
        ring.Add(Packet(40, 600, key: false), isIndexed: false);
        ring.Add(Packet(80, 600, key: false), isIndexed: false);
        Assert.Equal(3, ring.Count);

        ring.Add(Packet(120, 600, key: true), isIndexed: true);
        Assert.Equal(1, ring.Count); // the old GOP went as a whole
        Assert.Equal(120, MediaTime.ToMilliseconds(ring.SnapshotFromKeyframe()[0].Dts));
    }

    [Fact]
    public void A_snapshot_starts_at_the_newest_keyframe_not_after_a_time()
    {
        var ring = new PacketRing(maxBytes: 1 << 20);
        for (int i = 0; i < 20; i++)
        {
            ring.Add(Packet(i * 100, 10, key: i % 5 == 0), isIndexed: i % 5 == 0);
        }

        Assert.Equal(1000, MediaTime.ToMilliseconds(ring.SnapshotFromKeyframe(MediaTime.FromMilliseconds(1200))[0].Dts));
        Assert.Equal(1500, MediaTime.ToMilliseconds(ring.SnapshotFromKeyframe()[0].Dts));
    }

    [Fact]
    public void A_feed_without_keyframes_is_bounded_too()
    {
        var ring = new PacketRing(maxBytes: 1000);
        for (int i = 0; i < 50; i++)
        {
            ring.Add(Packet(i * 40, 100, key: false), isIndexed: false);
        }

        Assert.Equal(1000, ring.Bytes);
        Assert.Empty(ring.SnapshotFromKeyframe());
    }

    [Fact]
    public void Packets_leaving_the_ring_release_their_payload_blocks_and_a_snapshot_lends_without_retaining()
    {
        var pool = new BlockPool();
        var ring = new PacketRing(maxBytes: 10_000);
        var blocks = Enumerable.Range(0, 20).Select(_ => pool.Rent(1000)).ToList(); // all rented first: none is lent twice here
        for (int i = 0; i < 20; i++)
        {
            var block = blocks[i];
            ring.Add(new MediaPacket(0, MediaTime.FromMilliseconds(i * 100), MediaTime.FromMilliseconds(i * 100), i % 5 == 0, block.Array.AsMemory(0, 1000), owner: block), isIndexed: i % 5 == 0);
        }

        var snapshot = ring.SnapshotFromKeyframe();
        Assert.All(snapshot, p => Assert.Equal(1, p.Owner!.References)); // the ring's reference only
        Assert.Equal(20 - ring.Count, blocks.Count(b => b.References == 0)); // the evicted ones went back
        Assert.Equal((20 - ring.Count) * BlockPool.Granule, pool.FreeBytes);

        ring.Clear();
        Assert.All(blocks, b => Assert.Equal(0, b.References));
    }
}
