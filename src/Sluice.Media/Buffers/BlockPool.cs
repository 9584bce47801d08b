namespace Sluice.Media.Buffers;

/// <summary>
/// Free byte arrays for <see cref="PooledBlock"/>s, in size classes of 4 KiB up to 4 MiB (a larger request
/// gets an array of its own that is not kept), at most <see cref="MaxFreeBytes"/> of them kept. A request takes
/// a free block of its class or of one of the next three (at most 12 KiB more than asked), else a new one.
/// Renting and returning take one short lock and allocate nothing once the pool has warmed up.
/// </summary>
public sealed class BlockPool
{
    public const int Granule = 4 * 1024;
    private const int LargerClassesSearched = 3;
    public const int MaxPooledLength = 4 * 1024 * 1024;
    private const int Classes = MaxPooledLength / Granule;

    private readonly Lock _lock = new();
    private readonly PooledBlock[][] _free = new PooledBlock[Classes][];
    private readonly int[] _freeCount = new int[Classes];
    private long _freeBytes;
    private long _rented;
    private long _created;

    public BlockPool(long maxFreeBytes = 64L * 1024 * 1024) => MaxFreeBytes = maxFreeBytes;

    /// <summary>The pool the media library's muxers and demuxers use.</summary>
    public static BlockPool Shared { get; } = new();

    public long MaxFreeBytes { get; }

    /// <summary>Bytes in free blocks now.</summary>
    public long FreeBytes { get { lock (_lock) { return _freeBytes; } } }

    /// <summary>Blocks handed out so far.</summary>
    public long Rented => Interlocked.Read(ref _rented);

    /// <summary>Blocks whose array had to be allocated (the rest came back from an earlier renter).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>A block of at least <paramref name="minimumLength"/> bytes (rounded up to 4 KiB), with one holder: the caller.</summary>
    public PooledBlock Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        Interlocked.Increment(ref _rented);
        int length = Math.Max(Granule, (int)Math.Min(((long)minimumLength + Granule - 1) / Granule * Granule, int.MaxValue));
        PooledBlock? block = null;
        if (length <= MaxPooledLength)
        {
            int first = length / Granule - 1;
            int last = Math.Min(first + LargerClassesSearched, Classes - 1);
            lock (_lock)
            {
                for (int c = first; c <= last; c++)
                {
                    if (_freeCount[c] > 0)
                    {
                        block = _free[c][--_freeCount[c]];
                        _free[c][_freeCount[c]] = null!;
                        _freeBytes -= block.Array.Length;
                        break;
                    }
                }
            }
        }

        if (block is null)
        {
            Interlocked.Increment(ref _created);
            block = new PooledBlock(length <= MaxPooledLength ? new byte[length] : new byte[minimumLength], length <= MaxPooledLength ? this : null);
        }

        block.Lend();
        return block;
    }

    internal void Return(PooledBlock block)
    {
        int length = block.Array.Length;
        int c = length / Granule - 1;
        lock (_lock)
        {
            if (_freeBytes + length > MaxFreeBytes)
            {
                return; // over the bound: left to the garbage collector
            }

            var stack = _free[c] ??= new PooledBlock[4];
            if (_freeCount[c] == stack.Length)
            {
                Array.Resize(ref _free[c], stack.Length * 2);
                stack = _free[c];
            }

            stack[_freeCount[c]++] = block;
            _freeBytes += length;
        }
    }

    /// <summary>Lets go of every free block (after a burst, so that its memory can go back to the system); returns the bytes freed.</summary>
    public long Trim()
    {
        lock (_lock)
        {
            long freed = _freeBytes;
            for (int c = 0; c < Classes; c++)
            {
                if (_free[c] is { } stack)
                {
                    Array.Clear(stack, 0, _freeCount[c]);
                    _freeCount[c] = 0;
                }
            }

            _freeBytes = 0;
            return freed;
        }
    }
}
