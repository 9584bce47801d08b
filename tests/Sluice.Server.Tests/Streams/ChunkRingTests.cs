using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Streams;

public sealed class ChunkRingTests
{
    private static MuxedChunk Chunk(int bytes, bool join) => new(new byte[4], new byte[bytes - 4], join);

    [Fact]
    public void Readers_start_at_the_newest_join_point_and_read_in_order()
    {
        var ring = new ChunkRing(1 << 20);
        Assert.Equal(-1, ring.LatestJoinPoint);
        ring.Append(Chunk(100, join: false), 0);
        ring.Append(Chunk(100, join: true), 1);
        ring.Append(Chunk(100, join: false), 2);
        ring.Append(Chunk(100, join: true), 3);
        ring.Append(Chunk(100, join: false), 4);

        Assert.Equal(3, ring.LatestJoinPoint);
        var buffer = new Chunk[8];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(3, buffer, out int count));
        Assert.Equal(2, count);
        Assert.Equal([3L, 4L], buffer.Take(count).Select(c => c.Sequence));
        Assert.Equal(ChunkReadStatus.Empty, ring.Read(5, buffer, out _));
    }

    [Fact]
    public async Task A_chunk_appended_without_waking_waits_for_the_next_one_that_wakes()
    {
        var ring = new ChunkRing(1 << 20);
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);
        var wait = ring.WaitAsync(0, signal);

        ring.Append(Chunk(100, join: true), 0, wake: false);
        await Task.Delay(100);
        Assert.False(wait.IsCompleted);

        ring.Append(Chunk(100, join: false), 1);
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, new Chunk[4], out int count));
        Assert.Equal(2, count);
    }

    [Fact]
    public void Eviction_keeps_the_budget_but_never_the_newest_join_point()
    {
        var ring = new ChunkRing(64 * 1024); // the least budget a ring takes
        ring.Append(Chunk(40_000, join: true), 0);
        ring.Append(Chunk(40_000, join: false), 1);
        // Over budget, but everything is in the newest GOP: nothing goes.
        var buffer = new Chunk[8];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, buffer, out int count));
        Assert.Equal(2, count);

        ring.Append(Chunk(40_000, join: true), 2);
        // Now the first GOP can go.
        Assert.Equal(ChunkReadStatus.Lagged, ring.Read(0, buffer, out _));
        Assert.Equal(ChunkReadStatus.Data, ring.Read(2, buffer, out count));
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task A_waiting_reader_wakes_on_append_on_completion_and_on_abort()
    {
        var ring = new ChunkRing(1 << 20);
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        var wait = ring.WaitAsync(0, signal);
        Assert.False(wait.IsCompleted);
        ring.Append(Chunk(10, join: true), 0);
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(ring.WaitAsync(0, signal).IsCompleted); // data there: no wait

        // The same signal serves the next wait.
        var next = ring.WaitAsync(1, signal);
        Assert.False(next.IsCompleted);
        ring.Complete();
        await next.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ChunkReadStatus.Completed, ring.Read(1, new Chunk[1], out _));

        var other = new ChunkRing(1 << 20);
        var stalled = other.WaitAsync(0, signal);
        Assert.False(stalled.IsCompleted);
        aborted.Cancel();
        await stalled.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        other.Append(Chunk(10, join: true), 0); // waking an already woken signal does nothing
    }

    [Fact]
    public async Task An_abort_before_the_wait_is_armed_is_not_lost()
    {
        var ring = new ChunkRing(1 << 20);
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);
        aborted.Cancel(); // the request ends between the viewer's last check and its wait
        await ring.WaitAsync(0, signal).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(signal.IsAborted);
    }

    [Fact]
    public void Allocations_do_not_grow_with_the_number_of_viewers()
    {
        // The same 1000 appends, read and waited for by 1 viewer and by 16: the bytes allocated are the same,
        // i.e. a viewer costs no allocation per chunk (the chunks themselves are allocated once per stream).
        Assert.Equal(AllocatedFor(viewers: 1), AllocatedFor(viewers: 16));
    }

    private static long AllocatedFor(int viewers)
    {
        var ring = new ChunkRing(1 << 30);
        var signals = Enumerable.Range(0, viewers).Select(_ => new ViewerSignal(CancellationToken.None)).ToArray();
        var buffers = Enumerable.Range(0, viewers).Select(_ => new Chunk[64]).ToArray();
        var positions = new long[viewers];
        var muxed = Chunk(10, join: true);

        void Round(int i)
        {
            ring.Append(muxed, i);
            for (int v = 0; v < viewers; v++)
            {
                ring.Read(positions[v], buffers[v], out int n);
                positions[v] += n;
                _ = ring.WaitAsync(positions[v], signals[v]);
            }
        }

        for (int i = 0; i < 100; i++)
        {
            Round(i); // warm up: lists and buffers reach their size
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 100; i < 1100; i++)
        {
            Round(i);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Lag_is_measured_in_media_time()
    {
        var ring = new ChunkRing(1 << 20);
        ring.Append(Chunk(10, join: true), 0);
        ring.Append(Chunk(10, join: false), MediaTime.TicksPerSecond);
        ring.Append(Chunk(10, join: false), 3 * MediaTime.TicksPerSecond);
        Assert.Equal(3 * MediaTime.TicksPerSecond, ring.LagTicks(0));
        Assert.Equal(0, ring.LagTicks(3));
    }

    [Fact]
    public void Preroll_starts_at_the_newest_join_point_old_enough()
    {
        var ring = new ChunkRing(1 << 20);
        for (int i = 0; i < 10; i++)
        {
            // a join point every second, a chunk every half second
            ring.Append(Chunk(10, join: i % 2 == 0), i * MediaTime.TicksPerSecond / 2);
        }

        // newest chunk at 4.5 s; join points at 0, 1, 2, 3, 4 s (sequences 0, 2, 4, 6, 8)
        Assert.Equal(8, ring.JoinPointBefore(0));
        Assert.Equal(6, ring.JoinPointBefore(MediaTime.TicksPerSecond));
        Assert.Equal(4, ring.JoinPointBefore(2 * MediaTime.TicksPerSecond));
        Assert.Equal(0, ring.JoinPointBefore(60 * MediaTime.TicksPerSecond)); // the oldest kept
    }

    [Fact]
    public void An_evicted_chunk_gives_its_blocks_back_only_once_the_reader_holding_it_releases_it()
    {
        var pool = new BlockPool();
        var slab = new ChunkSlab(4096, pool);
        var ring = new ChunkRing(64 * 1024); // the smallest ring: 64 KiB of chunks
        var payload = pool.Rent(40 * 1024);
        var prefix = slab.Copy([1, 2, 3, 4], out var prefixOwner);
        slab.Dispose(); // the prefix's block is now held by the chunk alone
        ring.Append(new MuxedChunk(prefix, payload.Array.AsMemory(0, 40 * 1024), IsJoinPoint: true) { PrefixOwner = prefixOwner, PayloadOwner = payload }, 0);

        var buffer = new Chunk[4];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, buffer, out int count));
        Assert.Equal(1, count);

        // Two more join points push the first chunk out of the ring while the reader still holds it.
        ring.Append(new MuxedChunk(new byte[4], new byte[40 * 1024], IsJoinPoint: true), 1);
        ring.Append(new MuxedChunk(new byte[4], new byte[40 * 1024], IsJoinPoint: true), 2);
        Assert.Equal(ChunkReadStatus.Lagged, ring.Read(0, new Chunk[1], out _));
        Assert.Equal(0, pool.FreeBytes);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, buffer[0].Prefix.ToArray());

        var first = buffer[0];
        first.Release();
        Assert.Equal(40 * 1024 + 4096, pool.FreeBytes);

        // The chunk object itself is filled again by a later append instead of a new one.
        ring.Append(new MuxedChunk(new byte[4], new byte[8], IsJoinPoint: false), 3);
        Assert.Equal(ChunkReadStatus.Data, ring.Read(3, buffer, out count));
        Assert.Same(first, buffer[0]);
        Assert.Equal(3, buffer[0].Sequence);
        Assert.Equal(12, buffer[0].Length);
        buffer[0].Release();
    }

    [Fact]
    public void Chunks_are_filled_again_once_the_ring_and_every_reader_let_go_so_a_full_ring_appends_without_new_objects()
    {
        var ring = new ChunkRing(64 * 1024);
        var seen = new HashSet<Chunk>(ReferenceEqualityComparer.Instance);
        var buffer = new Chunk[64];
        for (int i = 0; i < 200; i++)
        {
            ring.Append(Chunk(8 * 1024, join: i % 4 == 0), i);
            Assert.Equal(ChunkReadStatus.Data, ring.Read(i, buffer, out int count));
            Assert.Equal(1, count);
            seen.Add(buffer[0]);
            buffer[0].Release();
        }

        // 64 KiB holds 8 chunks of 8 KiB, plus the rest of the newest GOP: a dozen objects serve 200 chunks.
        Assert.True(seen.Count <= 16, $"{seen.Count} chunk objects for 200 chunks");
    }
}
