namespace Sluice.Media.Buffers;

/// <summary>
/// Where a muxer writes its framing and a demuxer its payloads: pieces carved one after another out of
/// <see cref="PooledBlock"/>s instead of an allocation each. Every committed piece holds its block (one
/// reference, handed to the caller with the piece); the slab holds its current block until it moves on. A block
/// goes back to the pool when the last piece of it is released, so bytes handed out never change while held.
/// Its owner disposes it; the rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
public sealed class ChunkSlab : IDisposable
{
    public const int DefaultBlockSize = 64 * 1024;

    private readonly BlockPool _pool;
    private readonly int _blockSize;
    private PooledBlock? _block;    // the current block (one reference held by the slab), null until the first piece
    private int _used;
    private PooledBlock? _own;      // the block of its own the last Reserve took, when it took one
    private int _reserved = -1;     // the length of the last Reserve, -1 when committed

    public ChunkSlab(int blockSize = DefaultBlockSize, BlockPool? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 256);
        _blockSize = blockSize;
        _pool = pool ?? BlockPool.Shared;
    }

    /// <summary>
    /// Room for at most <paramref name="maxLength"/> bytes; follow with <see cref="Commit"/> of what was written.
    /// A request larger than a quarter block that does not fit the current one gets a block of its own.
    /// </summary>
    public Span<byte> Reserve(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (_own is not null)
        {
            _own.Release(); // reserved and never committed
            _own = null;
        }

        _reserved = maxLength;
        if (_block is not null && _block.Array.Length - _used >= maxLength)
        {
            return _block.Array.AsSpan(_used, maxLength);
        }

        if (maxLength > _blockSize / 4)
        {
            _own = _pool.Rent(maxLength);
            return _own.Array.AsSpan(0, maxLength);
        }

        _block?.Release();
        _block = _pool.Rent(_blockSize);
        _used = 0;
        return _block.Array.AsSpan(0, maxLength);
    }

    /// <summary>
    /// The first <paramref name="length"/> bytes of the last <see cref="Reserve"/>, now immutable, and the block
    /// that holds them with one reference for the caller: release it when the piece is no longer used (one never
    /// released leaks the block, counted as outstanding by its pool).
    /// </summary>
    public ReadOnlyMemory<byte> Commit(int length, out PooledBlock owner)
    {
        if (_reserved < 0 || (uint)length > (uint)_reserved)
        {
            throw new InvalidOperationException(_reserved < 0 ? "Commit without a Reserve." : $"Commit of {length} bytes after a Reserve of {_reserved}.");
        }

        _reserved = -1;
        if (_own is not null)
        {
            owner = _own;
            _own = null;
            return new ReadOnlyMemory<byte>(owner.Array, 0, length);
        }

        owner = _block!.Retain();
        var memory = new ReadOnlyMemory<byte>(owner.Array, _used, length);
        _used += length;
        return memory;
    }

    /// <summary>A muxer's chunk of the first <paramref name="length"/> bytes of the last <see cref="Reserve"/> alone, holding their block.</summary>
    public MuxedChunk CommitChunk(int length, bool isJoinPoint) =>
        new(Commit(length, out var owner), ReadOnlyMemory<byte>.Empty, isJoinPoint) { PrefixOwner = owner };

    /// <summary>
    /// A muxer's chunk of the first <paramref name="length"/> bytes of the last <see cref="Reserve"/> followed by the
    /// payload of <paramref name="packet"/> (shared, not copied), holding both blocks.
    /// </summary>
    public MuxedChunk CommitChunk(int length, in MediaPacket packet, bool isJoinPoint) =>
        new(Commit(length, out var owner), packet.Payload, isJoinPoint) { PrefixOwner = owner, PayloadOwner = packet.Retain() };

    /// <summary>Copies <paramref name="bytes"/> into the slab: <see cref="Reserve"/> and <see cref="Commit"/> in one.</summary>
    public ReadOnlyMemory<byte> Copy(ReadOnlySpan<byte> bytes, out PooledBlock owner)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        return Commit(bytes.Length, out owner);
    }

    /// <summary>Lets go of the current block; the pieces handed out keep theirs.</summary>
    public void Dispose()
    {
        _own?.Release();
        _own = null;
        _block?.Release();
        _block = null;
        _reserved = -1;
    }
}
