namespace Sluice.Media.Buffers;

/// <summary>
/// A byte array lent by a <see cref="BlockPool"/>, shared by whatever holds pieces of it (packet payloads, muxer
/// framing) and counted: it goes back to its pool when the last holder releases it, and only then.
/// A holder that never releases leaks the block: the pool counts it as outstanding (and, tracking, lists it with
/// where it was rented) until the garbage collector takes it. Releasing more often than retained is a bug and throws.
/// Who holds and who releases each kind of piece: docs/ownership.md.
/// </summary>
public sealed class PooledBlock
{
    private readonly BlockPool? _pool;
    private int _references;

    internal PooledBlock(byte[] array, BlockPool? pool)
    {
        Array = array;
        _pool = pool;
    }

    // The pool's list of tracked blocks out (BlockPool.TrackLeaks), guarded by the pool's lock.
    internal PooledBlock? TrackedNext;
    internal PooledBlock? TrackedPrevious;
    internal bool IsTracked;
    internal string? RentedAt;

    public byte[] Array { get; }

    /// <summary>The holders now (for tests and diagnostics; it may change at once).</summary>
    public int References => Volatile.Read(ref _references);

    /// <summary>Adds a holder; returns this block, for a call that passes it on.</summary>
    public PooledBlock Retain()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new InvalidOperationException("A pooled block was retained after its last release.");
        }

        return this;
    }

    /// <summary>Removes a holder; the last one returns the block to its pool.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            _pool?.Return(this);
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("A pooled block was released more often than it was retained.");
        }
    }

    /// <summary>Handed out by the pool: one holder, the renter.</summary>
    internal void Lend() => Volatile.Write(ref _references, 1);
}
