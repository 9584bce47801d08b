using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Sluice.Server.Hosting;

/// <summary>
/// The memory Kestrel's connections buffer in: pinned blocks of <see cref="BlockSize"/> bytes instead of Kestrel's
/// 4 KiB. A segment of a few hundred kilobytes then goes into a connection's output in a few copies and leaves in a
/// few iovecs, not a hundred (copying into 4 KiB blocks was a third of the CPU of serving a segment). A pipe holds
/// blocks only while it has bytes in them, so idle keep-alive connections hold none; at most <see cref="MaxPooled"/>
/// free blocks are kept, the rest go back to the GC.
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 64 * 1024;

    public const int MaxPooled = 1024;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            return new Oversized(minBufferSize); // pipes never ask for more than MaxBufferSize; anyone else gets an array
        }

        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block;
        }

        return new Block(this);
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) <= MaxPooled)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _freeCount);
        }
    }

    /// <summary>Lets go of every free block (after a burst of connections); returns how many.</summary>
    public int Trim()
    {
        int freed = 0;
        while (_free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
            freed++;
        }

        return freed;
    }

    protected override void Dispose(bool disposing)
    {
        _free.Clear();
    }

    private sealed class Oversized(int length) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = new byte[length];

        public void Dispose()
        {
        }
    }

    private sealed class Block(LargeBlockMemoryPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public void Dispose() => pool.Return(this);
    }
}

/// <summary>Hands Kestrel a <see cref="LargeBlockMemoryPool"/> for its connections.</summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    private readonly ConcurrentBag<LargeBlockMemoryPool> _pools = [];

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new LargeBlockMemoryPool();
        _pools.Add(pool);
        return pool;
    }

    /// <summary>Lets go of the free blocks of every pool made; returns how many.</summary>
    public int Trim() => _pools.Sum(p => p.Trim());
}
