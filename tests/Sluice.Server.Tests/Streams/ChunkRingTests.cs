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
        var buffer = new ChunkLease[8];
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
        Assert.False(wait.IsCompleted); // a wake sets the signal inside Append, on this thread: no need to wait and see

        ring.Append(Chunk(100, join: false), 1);
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, new ChunkLease[4], out int count));
        Assert.Equal(2, count);
    }

    [Fact]
    public void Eviction_keeps_the_budget_but_never_the_newest_join_point()
    {
        var ring = new ChunkRing(64 * 1024); // the least budget a ring takes
        ring.Append(Chunk(40_000, join: true), 0);
        ring.Append(Chunk(40_000, join: false), 1);
        // Over budget, but everything is in the newest GOP: nothing goes.
        var buffer = new ChunkLease[8];
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
        Assert.Equal(ChunkReadStatus.Completed, ring.Read(1, new ChunkLease[1], out _));

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
        var buffers = Enumerable.Range(0, viewers).Select(_ => new ChunkLease[64]).ToArray();
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
        var one = new ChunkLease[1];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, one, out _, out var first));
        one[0].Release();
        Assert.Equal(new ChunkBacklog(2, 2 * MediaTime.TicksPerSecond), first); // from the second chunk to the third
        Assert.False(first.CaughtUp);

        var all = new ChunkLease[4];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, all, out int count, out var none));
        Assert.Equal(3, count);
        Assert.True(none.CaughtUp);
        Assert.Equal(0, none.Ticks);
        foreach (var lease in all.AsSpan(0, count))
        {
            lease.Release();
        }
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

        var buffer = new ChunkLease[4];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, buffer, out int count));
        Assert.Equal(1, count);

        // Two more join points push the first chunk out of the ring while the reader still holds it.
        ring.Append(new MuxedChunk(new byte[4], new byte[40 * 1024], IsJoinPoint: true), 1);
        ring.Append(new MuxedChunk(new byte[4], new byte[40 * 1024], IsJoinPoint: true), 2);
        Assert.Equal(ChunkReadStatus.Lagged, ring.Read(0, new ChunkLease[1], out _));
        Assert.Equal(0, pool.FreeBytes);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, buffer[0].Prefix.ToArray());

        var first = buffer[0].Target;
        buffer[0].Release();
        Assert.Equal(40 * 1024 + 4096, pool.FreeBytes);

        // The chunk object itself is filled again by a later append instead of a new one.
        ring.Append(new MuxedChunk(new byte[4], new byte[8], IsJoinPoint: false), 3);
        Assert.Equal(ChunkReadStatus.Data, ring.Read(3, buffer, out count));
        Assert.Same(first, buffer[0].Target);
        Assert.Equal(3, buffer[0].Sequence);
        Assert.Equal(12, buffer[0].Length);
        buffer[0].Release();
    }

    [Fact]
    public void Chunks_are_filled_again_once_the_ring_and_every_reader_let_go_so_a_full_ring_appends_without_new_objects()
    {
        var ring = new ChunkRing(64 * 1024);
        var seen = new HashSet<Chunk>(ReferenceEqualityComparer.Instance);
        var buffer = new ChunkLease[64];
        for (int i = 0; i < 200; i++)
        {
            ring.Append(Chunk(8 * 1024, join: i % 4 == 0), i);
            Assert.Equal(ChunkReadStatus.Data, ring.Read(i, buffer, out int count));
            Assert.Equal(1, count);
            seen.Add(buffer[0].Target!);
            buffer[0].Release();
        }

        // 64 KiB holds 8 chunks of 8 KiB, plus the rest of the newest GOP: a dozen objects serve 200 chunks.
        Assert.True(seen.Count <= 16, $"{seen.Count} chunk objects for 200 chunks");
    }

    [Fact]
    public void A_current_lease_reads_and_releases_and_the_chunk_moves_to_its_next_life()
    {
        var ring = new ChunkRing(64 * 1024);
        ring.Append(Chunk(40_000, join: true), 0);
        var buffer = new ChunkLease[1];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, buffer, out _));
        var lease = buffer[0];
        int generation = lease.Generation;
        Assert.Equal(generation, lease.Target!.Generation);
        Assert.Equal(40_000, lease.Length);

        ring.Append(Chunk(40_000, join: true), 1); // evicts chunk 0: the lease is its last holder
        Assert.Equal(generation, lease.Target.Generation);
        lease.Release();
        Assert.Equal(generation + 1, lease.Target.Generation);
    }

    [Fact]
    public void A_stale_lease_throws_instead_of_taking_a_hold_of_the_chunks_next_life()
    {
        var ring = new ChunkRing(64 * 1024);
        var buffer = new ChunkLease[1];
        ring.Append(Chunk(40_000, join: true), 0);
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, buffer, out _));
        var old = buffer[0];
        ring.Append(Chunk(40_000, join: true), 1); // chunk 0 leaves the ring
        old.Release();                             // its last holder: the object is free for a later append

        ring.Append(Chunk(40_000, join: true), 2); // the same object, filled again, in its next generation
        Assert.Equal(ChunkReadStatus.Data, ring.Read(2, buffer, out _));
        var current = buffer[0];
        Assert.Same(old.Target, current.Target);
        Assert.Equal(old.Generation + 1, current.Generation);

        var released = Assert.Throws<InvalidOperationException>(old.Release);
        Assert.Contains($"chunk 0 of generation {old.Generation}", released.Message);
        Assert.Contains($"now in generation {current.Generation}", released.Message);
        Assert.Throws<InvalidOperationException>(() => old.Payload);

        // The current reader's hold is untouched: it reads, and its release is the one that counts.
        Assert.Equal(2, current.Sequence);
        Assert.Equal(40_000, current.Length);
        current.Release();
    }

    [Fact]
    public void A_lease_released_twice_throws_in_the_same_life_and_after_it()
    {
        var ring = new ChunkRing(64 * 1024);
        var buffer = new ChunkLease[1];
        ring.Append(Chunk(40_000, join: true), 0);
        Assert.Equal(ChunkReadStatus.Data, ring.Read(0, buffer, out _));
        var lease = buffer[0];
        lease.Release();
        // The ring still holds the chunk: the second release finds no lease left to give up, and the ring's hold stays.
        var twice = Assert.Throws<InvalidOperationException>(lease.Release);
        Assert.Contains("released twice", twice.Message);
        Assert.Equal(40_000, ring.Read(0, buffer, out _) == ChunkReadStatus.Data ? buffer[0].Length : -1);

        var second = buffer[0];
        ring.Append(Chunk(40_000, join: true), 1); // evicted: the lease is the last holder
        second.Release();
        Assert.Throws<InvalidOperationException>(second.Release); // that life has ended
    }

    [Fact]
    public void Leasing_and_releasing_allocates_nothing()
    {
        var ring = new ChunkRing(64 * 1024);
        var buffer = new ChunkLease[8];
        var muxed = Chunk(8 * 1024, join: true);
        long position = 0;

        void Round(int i)
        {
            ring.Append(muxed, i);
            if (ring.Read(position, buffer, out int count) != ChunkReadStatus.Data)
            {
                throw new InvalidOperationException($"nothing to read at {position}"); // not Assert.Equal: it boxes
            }

            for (int c = 0; c < count; c++)
            {
                _ = buffer[c].Payload;
                buffer[c].Release();
            }

            position += count;
        }

        for (int i = 0; i < 100; i++)
        {
            Round(i); // warm up: the free chunks are there
        }

        // Three windows of 10,000 rounds: one of them may hold the runtime's own one-time work (a method's code
        // replaced while it runs), so the quietest window must allocate nothing at all.
        var windows = new long[3];
        int round = 100;
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int end = round + 10_000; round < end; round++)
            {
                Round(round);
            }

            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, windows.Min());
    }
}
