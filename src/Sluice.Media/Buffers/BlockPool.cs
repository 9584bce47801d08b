using System.Diagnostics;
using System.Text;

namespace Sluice.Media.Buffers;

/// <summary>
/// Free byte arrays for <see cref="PooledBlock"/>s, in size classes of 4 KiB up to 4 MiB (a larger request
/// gets an array of its own that is not kept), at most <see cref="MaxFreeBytes"/> of them kept. A request takes
/// a free block of its class or of one of the next three (at most 12 KiB more than asked), else a new one.
/// Renting and returning take one short lock and allocate nothing once the pool has warmed up.
/// <para>
/// It counts the blocks it lends (<see cref="Rented"/>) and those that come back with their last release
/// (<see cref="Returned"/>): <see cref="Outstanding"/> is what is held now. With <see cref="TrackLeaks"/> on (the
/// default in Debug builds, off in Release; tests turn it on) it also keeps a list of the blocks out, linked
/// through the blocks themselves (no allocation), and with <see cref="CaptureRentStacks"/> where each was rented,
/// for <see cref="DescribeOutstanding"/>. Who rents, holds and releases what: docs/ownership.md.
/// </para>
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
    private long _returned;
    private PooledBlock? _tracked;  // the newest tracked block out, the head of a list linked through the blocks
    private int _trackedCount;

    public BlockPool(long maxFreeBytes = 64L * 1024 * 1024) => MaxFreeBytes = maxFreeBytes;

    /// <summary>What <see cref="TrackLeaks"/> starts as in a new pool: on in Debug builds, off in Release ones.</summary>
#if DEBUG
    public static bool TrackLeaksByDefault { get; set; } = true;
#else
    public static bool TrackLeaksByDefault { get; set; }
#endif

    /// <summary>
    /// Keep a list of the blocks lent and not yet back (from when it is turned on), for <see cref="DescribeOutstanding"/>.
    /// Costs a second short lock per rent; off, renting and returning pay nothing for it.
    /// </summary>
    public bool TrackLeaks { get; set; } = TrackLeaksByDefault;

    /// <summary>With <see cref="TrackLeaks"/>, record the stack of each rent (an allocation per rent: tests and debugging only).</summary>
    public bool CaptureRentStacks { get; set; }

    /// <summary>The pool the media library's muxers and demuxers use.</summary>
    public static BlockPool Shared { get; } = new();

    public long MaxFreeBytes { get; }

    /// <summary>Bytes in free blocks now.</summary>
    public long FreeBytes { get { lock (_lock) { return _freeBytes; } } }

    /// <summary>Blocks handed out so far.</summary>
    public long Rented => Interlocked.Read(ref _rented);

    /// <summary>Blocks whose array had to be allocated (the rest came back from an earlier renter).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>Blocks that came back with their last release (kept free or, over the bound, left to the garbage collector).</summary>
    public long Returned => Interlocked.Read(ref _returned);

    /// <summary>Blocks lent and not back yet: held by a packet, a chunk, a slab, a segment, or leaked.</summary>
    public long Outstanding => Rented - Returned;

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
            block = new PooledBlock(length <= MaxPooledLength ? new byte[length] : new byte[minimumLength], this);
        }

        block.Lend();
        if (TrackLeaks)
        {
            Track(block);
        }

        return block;
    }

    private void Track(PooledBlock block)
    {
        string? stack = CaptureRentStacks ? new StackTrace(2, fNeedFileInfo: true).ToString() : null;
        lock (_lock)
        {
            block.RentedAt = stack;
            block.TrackedNext = _tracked;
            block.TrackedPrevious = null;
            if (_tracked is not null)
            {
                _tracked.TrackedPrevious = block;
            }

            _tracked = block;
            block.IsTracked = true;
            _trackedCount++;
        }
    }

    private void Untrack(PooledBlock block)
    {
        if (block.TrackedPrevious is { } previous)
        {
            previous.TrackedNext = block.TrackedNext;
        }
        else
        {
            _tracked = block.TrackedNext;
        }

        if (block.TrackedNext is { } next)
        {
            next.TrackedPrevious = block.TrackedPrevious;
        }

        block.TrackedNext = block.TrackedPrevious = null;
        block.RentedAt = null;
        block.IsTracked = false;
        _trackedCount--;
    }

    internal void Return(PooledBlock block)
    {
        int length = block.Array.Length;
        int c = length / Granule - 1;
        lock (_lock)
        {
            _returned++; // written under the lock, read with Interlocked.Read: a long is not torn
            if (block.IsTracked)
            {
                Untrack(block);
            }

            if (length > MaxPooledLength || _freeBytes + length > MaxFreeBytes)
            {
                return; // an array of its own, or over the bound: left to the garbage collector
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

    /// <summary>The tracked blocks lent and not back yet, newest first (at most <paramref name="max"/>).</summary>
    public IReadOnlyList<OutstandingBlock> OutstandingBlocks(int max = int.MaxValue)
    {
        var list = new List<OutstandingBlock>();
        lock (_lock)
        {
            for (var block = _tracked; block is not null && list.Count < max; block = block.TrackedNext)
            {
                list.Add(new OutstandingBlock(block.Array.Length, block.References, block.RentedAt));
            }
        }

        return list;
    }

    /// <summary>
    /// A report of what is out: the counts, then the tracked blocks grouped by where they were rented (when
    /// <see cref="CaptureRentStacks"/> was on), the most common first, at most <paramref name="maxGroups"/> groups.
    /// </summary>
    public string DescribeOutstanding(int maxGroups = 10)
    {
        var blocks = OutstandingBlocks();
        var text = new StringBuilder();
        text.Append($"{Outstanding} blocks outstanding ({Rented} rented, {Returned} returned); {blocks.Count} of them tracked");
        foreach (var group in blocks.GroupBy(b => b.RentedAt ?? "(rented with CaptureRentStacks off)").OrderByDescending(g => g.Count()).Take(maxGroups))
        {
            text.Append($"\n{group.Count()} block(s), {group.Sum(b => (long)b.Length) / 1024} KiB, {string.Join(", ", group.Select(b => b.References).Distinct().Order())} holder(s), rented at:\n{group.Key}");
        }

        return text.ToString();
    }
}

/// <summary>A block lent and not back: its size, its holders now, and where it was rented (null without a stack capture).</summary>
public readonly record struct OutstandingBlock(int Length, int References, string? RentedAt);
