using Sluice.Media.Buffers;

namespace Sluice.Media.Tests.Buffers;

public class LeakTrackerTests
{
    [Fact]
    public void The_pool_counts_blocks_out_until_their_last_release()
    {
        var pool = new BlockPool();
        var a = pool.Rent(100);
        var b = pool.Rent(5 * 1024 * 1024); // larger than pooled: an array of its own, still counted
        Assert.Equal(2, pool.Outstanding);

        a.Retain();
        a.Release();
        Assert.Equal(2, pool.Outstanding); // one holder left

        a.Release();
        b.Release();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(2, pool.Returned);
        Assert.Equal(4096, pool.FreeBytes); // the large one is not kept
    }

    [Fact]
    public void A_block_over_the_free_bound_is_counted_as_returned_though_not_kept()
    {
        var pool = new BlockPool(maxFreeBytes: 4096);
        var a = pool.Rent(4096);
        var b = pool.Rent(4096);
        a.Release();
        b.Release();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(4096, pool.FreeBytes);
    }

    [Fact]
    public void Tracking_lists_what_is_out_with_where_it_was_rented()
    {
        var pool = new BlockPool { TrackLeaks = true, CaptureRentStacks = true };
        var kept = RentForAPacket(pool);
        var gone = pool.Rent(100);
        var slab = new ChunkSlab(4096, pool);
        var piece = slab.Copy([1, 2, 3], out var pieceOwner);
        gone.Release();
        slab.Dispose();

        var outstanding = pool.OutstandingBlocks();
        Assert.Equal(2, outstanding.Count);
        Assert.Equal(2, pool.Outstanding);
        Assert.Contains(outstanding, b => b.Length == 8192 && b.References == 1 && b.RentedAt!.Contains(nameof(RentForAPacket), StringComparison.Ordinal));
        Assert.Contains(outstanding, b => b.Length == 4096 && b.RentedAt!.Contains(nameof(ChunkSlab.Copy), StringComparison.Ordinal));

        var report = pool.DescribeOutstanding();
        Assert.StartsWith("2 blocks outstanding (3 rented, 1 returned); 2 of them tracked", report, StringComparison.Ordinal);
        Assert.Contains(nameof(RentForAPacket), report, StringComparison.Ordinal);

        kept.Release();
        pieceOwner.Release();
        Assert.Equal(3, piece.Length);
        Assert.Empty(pool.OutstandingBlocks());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Tracking_without_stacks_allocates_nothing_per_block()
    {
        var pool = new BlockPool { TrackLeaks = true };
        for (int i = 0; i < 100; i++)
        {
            pool.Rent(8192).Release(); // warm up: the free list has its block
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            var block = pool.Rent(8192);
            block.Retain();
            block.Release();
            block.Release();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Blocks_rented_before_tracking_was_turned_on_are_counted_but_not_listed()
    {
        var pool = new BlockPool { TrackLeaks = false };
        var early = pool.Rent(100);
        pool.TrackLeaks = true;
        var late = pool.Rent(100);
        Assert.Equal(2, pool.Outstanding);
        Assert.Single(pool.OutstandingBlocks());
        Assert.Null(pool.OutstandingBlocks()[0].RentedAt);
        early.Release();
        late.Release();
        Assert.Empty(pool.OutstandingBlocks());
        Assert.Equal(0, pool.Outstanding);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static PooledBlock RentForAPacket(BlockPool pool) => pool.Rent(5000);
}
