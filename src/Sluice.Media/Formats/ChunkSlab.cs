namespace Sluice.Media.Formats;

/// <summary>
/// Where a muxer writes the bytes it frames packets with. Prefixes are carved out of large shared blocks
/// instead of an allocation each: a chunk handed out keeps its block alive exactly as long as a ring or a
/// viewer holds it, and a full block is simply replaced (never reused, so handed-out bytes never change).
/// </summary>
public sealed class ChunkSlab
{
    public const int DefaultBlockSize = 64 * 1024;

    private readonly int _blockSize;
    private byte[] _block;
    private int _used;

    public ChunkSlab(int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 256);
        _blockSize = blockSize;
        _block = new byte[blockSize];
    }

    /// <summary>
    /// Room for at most <paramref name="maxLength"/> bytes; follow with <see cref="Commit"/> of what was written.
    /// A request larger than a quarter block gets a buffer of its own.
    /// </summary>
    public Span<byte> Reserve(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (maxLength > _blockSize / 4)
        {
            if (_block.Length - _used < maxLength)
            {
                _block = new byte[maxLength];
                _used = 0;
            }
        }
        else if (_block.Length - _used < maxLength)
        {
            _block = new byte[_blockSize];
            _used = 0;
        }

        return _block.AsSpan(_used, maxLength);
    }

    /// <summary>The first <paramref name="length"/> bytes of the last <see cref="Reserve"/>, now immutable.</summary>
    public ReadOnlyMemory<byte> Commit(int length)
    {
        var memory = new ReadOnlyMemory<byte>(_block, _used, length);
        _used += length;
        return memory;
    }
}
