using System.Diagnostics.CodeAnalysis;
using Sluice.Media;
using Sluice.Media.Buffers;

namespace Sluice.Server.Streams;

/// <summary>
/// One piece of a stream's container output, shared by every viewer. The object is recycled: each time it is filled
/// it starts a new life (its <see cref="Generation"/>), held by its ring while it is in the ring and by every reader
/// that got a <see cref="ChunkLease"/> on it from <see cref="ChunkRing.Read"/>. When the last of them lets go, the
/// chunk releases the pooled blocks its bytes are in, moves to its next generation and goes back to its ring, which
/// fills it with a later chunk. A lease of an older generation can then neither read nor release it: both throw.
/// The rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
internal sealed class Chunk
{
    // _state packs the life and its holders, so that a release checks the generation and drops its hold in one
    // atomic step: generation << 32 | RingHold (the ring still holds it) | readers (leases not yet released).
    private const long RingHold = 1L << 30;
    private const long ReaderMask = RingHold - 1;
    private const long GenerationUnit = 1L << 32;

    private readonly ChunkRing? _home;
    private PooledBlock? _prefixOwner;
    private PooledBlock? _payloadOwner;
    private long _state;

    internal Chunk(ChunkRing? home) => _home = home;

    /// <summary>Which life of the object this is: it moves on each time the last holder lets go.</summary>
    public int Generation => (int)(Volatile.Read(ref _state) >> 32);

    public long Sequence { get; private set; }
    public ReadOnlyMemory<byte> Prefix { get; private set; }
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>A viewer may start here (the container unit begins with a keyframe).</summary>
    public bool IsJoinPoint { get; private set; }

    /// <summary>Decode time in <see cref="MediaTime"/> ticks.</summary>
    public long Time { get; private set; }

    public int Length => Prefix.Length + Payload.Length;

    /// <summary>Fills the chunk, taking over the references of <paramref name="muxed"/>; its one holder is the ring.</summary>
    internal void Fill(long sequence, MuxedChunk muxed, long time)
    {
        Sequence = sequence;
        Prefix = muxed.Prefix;
        Payload = muxed.Payload;
        IsJoinPoint = muxed.IsJoinPoint;
        Time = time;
        _prefixOwner = muxed.PrefixOwner;
        _payloadOwner = muxed.PayloadOwner;
        long generation = Volatile.Read(ref _state) & ~(GenerationUnit - 1);
        Volatile.Write(ref _state, generation | RingHold);
    }

    /// <summary>A reader's hold on this life; only under the ring's lock, while the ring holds the chunk.</summary>
    internal ChunkLease Lease()
    {
        long state = Interlocked.Increment(ref _state);
        return new ChunkLease(this, (int)(state >> 32), Sequence);
    }

    /// <summary>Throws unless the chunk is still in <paramref name="generation"/> (a lease checks before it reads).</summary>
    internal void CheckLive(int generation, long sequence)
    {
        int current = Generation;
        if (current != generation)
        {
            ThrowStale("read", generation, current, sequence);
        }
    }

    /// <summary>Gives up a lease's hold; the last holder ends the life (and the ring's reader recycles the object).</summary>
    internal void Release(int generation, long sequence)
    {
        long state = Volatile.Read(ref _state);
        while (true)
        {
            int current = (int)(state >> 32);
            if (current != generation)
            {
                ThrowStale("released", generation, current, sequence);
            }

            if ((state & ReaderMask) == 0)
            {
                throw new InvalidOperationException(
                    $"Chunk {sequence} (generation {generation}) was released by more leases than the ring handed out for it: a lease was released twice.");
            }

            long next = state - 1;
            bool last = (next & (RingHold | ReaderMask)) == 0;
            if (last)
            {
                next = unchecked(next + GenerationUnit);
            }

            long seen = Interlocked.CompareExchange(ref _state, next, state);
            if (seen == state)
            {
                if (last)
                {
                    End();
                    _home?.Recycle(this);
                }

                return;
            }

            state = seen;
        }
    }

    /// <summary>The ring lets go (eviction); true when it was the last holder (the blocks are released, the object may be filled again).</summary>
    internal bool DropRingHold()
    {
        long state = Volatile.Read(ref _state);
        while (true)
        {
            if ((state & RingHold) == 0)
            {
                throw new InvalidOperationException($"Chunk {Sequence} (generation {(int)(state >> 32)}) was evicted from its ring twice.");
            }

            long next = state - RingHold;
            bool last = (next & ReaderMask) == 0;
            if (last)
            {
                next = unchecked(next + GenerationUnit);
            }

            long seen = Interlocked.CompareExchange(ref _state, next, state);
            if (seen == state)
            {
                if (last)
                {
                    End();
                }

                return last;
            }

            state = seen;
        }
    }

    private void End()
    {
        _prefixOwner?.Release();
        _payloadOwner?.Release();
        _prefixOwner = _payloadOwner = null;
        Prefix = Payload = default;
    }

    [DoesNotReturn]
    private static void ThrowStale(string what, int generation, int current, long sequence) =>
        throw new InvalidOperationException(
            $"A lease on chunk {sequence} of generation {generation} was {what} after that life had ended: the object is now in generation {current}. "
            + "Its holder released it already (or never had it); releasing it again would take another reader's hold.");
}

/// <summary>
/// A reader's hold on one life of a <see cref="Chunk"/>, handed out by <see cref="ChunkRing.Read"/>: the reader copies
/// the bytes out and calls <see cref="Release"/> once, on the thread that copied them. It is a value (no allocation
/// per read); copies of it are the same hold, so exactly one of them is released. Reading or releasing a lease whose
/// life has ended throws <see cref="InvalidOperationException"/> instead of touching the chunk's next life.
/// The rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
public readonly struct ChunkLease
{
    private readonly Chunk? _chunk;
    private readonly long _sequence;
    private readonly int _generation;

    internal ChunkLease(Chunk chunk, int generation, long sequence)
    {
        _chunk = chunk;
        _generation = generation;
        _sequence = sequence;
    }

    /// <summary>The life of the chunk this lease holds.</summary>
    public int Generation => _generation;

    /// <summary>No chunk (a default lease).</summary>
    public bool IsEmpty => _chunk is null;

    /// <summary>The chunk object itself (tests compare objects across lives).</summary>
    internal Chunk? Target => _chunk;

    public long Sequence => _sequence;
    public ReadOnlyMemory<byte> Prefix => Live.Prefix;
    public ReadOnlyMemory<byte> Payload => Live.Payload;

    /// <summary>A viewer may start here (the container unit begins with a keyframe).</summary>
    public bool IsJoinPoint => Live.IsJoinPoint;

    /// <summary>Decode time in <see cref="MediaTime"/> ticks.</summary>
    public long Time => Live.Time;

    public int Length => Live.Length;

    private Chunk Live
    {
        get
        {
            var chunk = _chunk ?? throw new InvalidOperationException("An empty chunk lease was read.");
            chunk.CheckLive(_generation, _sequence);
            return chunk;
        }
    }

    /// <summary>Gives up the hold, once the bytes are copied out; after it the lease must not be used.</summary>
    public void Release()
    {
        var chunk = _chunk ?? throw new InvalidOperationException("An empty chunk lease was released.");
        chunk.Release(_generation, _sequence);
    }

    public override string ToString() => _chunk is null ? "no chunk" : $"chunk {_sequence} generation {_generation}";
}

/// <summary>What a reader has still to read after a batch: chunks, and the media time from the first of them to the newest.</summary>
internal readonly record struct ChunkBacklog(long Chunks, long Ticks)
{
    public bool CaughtUp => Chunks == 0;
}

internal enum ChunkReadStatus
{
    /// <summary>Chunks were copied to the buffer.</summary>
    Data,

    /// <summary>Nothing new yet: wait with <see cref="ChunkRing.WaitAsync"/>.</summary>
    Empty,

    /// <summary>The position was evicted: the reader fell too far behind and must rejoin.</summary>
    Lagged,

    /// <summary>The ring was closed (the stream's tracks changed): the reader must end.</summary>
    Completed,
}

/// <summary>
/// The newest chunks of one stream's output, appended by the feed's ingest and read by every viewer.
/// Bounded in bytes (keeping at least everything since the newest join point) and in count. Readers copy
/// chunk references under a short lock into their own buffer and write to their sockets without it;
/// a reader that has caught up waits on its own reusable <see cref="ViewerSignal"/>. The ring holds each of its chunks
/// and lets go on eviction; <see cref="Read"/> gives each reader a <see cref="ChunkLease"/> on the chunks it reads; a
/// chunk nobody holds any more is kept for a later append (at most <see cref="MaxFreeChunks"/>), so appending allocates
/// nothing once the ring is full. The rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
internal sealed class ChunkRing
{
    private const int Capacity = 1 << 15;
    private const int Mask = Capacity - 1;
    private const int MaxFreeChunks = 1024;

    private readonly Lock _lock = new();
    private readonly Chunk[] _slots = new Chunk[Capacity];
    private readonly long _maxBytes;
    private long _first;        // oldest retained sequence
    private long _next;         // sequence of the next chunk
    private long _bytes;
    private long _latestJoinPoint = -1;
    private bool _completed;
    private List<ViewerSignal> _waiting = [];   // viewers to wake on the next append
    private List<ViewerSignal> _waking = [];    // the previous list, reused (one writer appends)
    private readonly Stack<Chunk> _free = new(); // chunks nobody holds, to fill again

    public ChunkRing(long maxBytes) => _maxBytes = Math.Max(maxBytes, 64 * 1024);

    public long Next { get { lock (_lock) { return _next; } } }

    /// <summary>The newest join point, or -1 when there is none yet.</summary>
    public long LatestJoinPoint { get { lock (_lock) { return _latestJoinPoint; } } }

    public bool IsCompleted { get { lock (_lock) { return _completed; } } }

    /// <summary>
    /// Appends a chunk, taking over its references; with <paramref name="wake"/> false the waiting readers are not
    /// woken for it (they get it with the next chunk that wakes them), which saves a wake-up per reader for chunks
    /// that may wait a little.
    /// </summary>
    public void Append(MuxedChunk muxed, long time, bool wake = true)
    {
        List<ViewerSignal> waking;
        lock (_lock)
        {
            if (_completed)
            {
                muxed.Release();
                return;
            }

            var chunk = _free.Count > 0 ? _free.Pop() : new Chunk(this);
            chunk.Fill(_next, muxed, time);
            if (_next - _first == Capacity)
            {
                EvictOldest();
            }

            _slots[_next & Mask] = chunk;
            _bytes += chunk.Length;
            if (chunk.IsJoinPoint)
            {
                _latestJoinPoint = _next;
            }

            _next++;
            while (_bytes > _maxBytes && _first < _latestJoinPoint)
            {
                EvictOldest();
            }

            if (!wake)
            {
                return;
            }

            waking = SwapWaiting();
        }

        Wake(waking);
    }

    /// <summary>
    /// Wakes the readers waiting now, from a thread other than the one that appends (a timer's): they are moved into
    /// <paramref name="scratch"/>, the caller's own list, under the lock, and woken after it.
    /// </summary>
    public void WakeWaiting(List<ViewerSignal> scratch)
    {
        lock (_lock)
        {
            scratch.AddRange(_waiting);
            _waiting.Clear();
        }

        Wake(scratch);
    }

    /// <summary>A chunk its last reader let go of, after the ring had.</summary>
    internal void Recycle(Chunk chunk)
    {
        lock (_lock)
        {
            Keep(chunk);
        }
    }

    private void Keep(Chunk chunk)
    {
        if (_free.Count < MaxFreeChunks)
        {
            _free.Push(chunk);
        }
    }

    private List<ViewerSignal> SwapWaiting()
    {
        var waking = _waiting;
        _waiting = _waking;
        _waking = waking;
        return waking;
    }

    private static void Wake(List<ViewerSignal> waking)
    {
        foreach (var signal in waking)
        {
            signal.Set();
        }

        waking.Clear();
    }

    /// <summary>
    /// Waits, without allocating, until a chunk at or after <paramref name="position"/> exists, the ring is
    /// closed, or the viewer's request is aborted (the signal's token).
    /// </summary>
    public ValueTask WaitAsync(long position, ViewerSignal signal)
    {
        lock (_lock)
        {
            if (position < _next || _completed)
            {
                return ValueTask.CompletedTask;
            }

            _waiting.Add(signal);
            return signal.Arm();
        }
    }

    private void EvictOldest()
    {
        ref var slot = ref _slots[_first & Mask];
        _bytes -= slot.Length;
        if (slot.DropRingHold()) // readers that still copy it hold it themselves
        {
            Keep(slot);
        }

        slot = null!;
        if (_first == _latestJoinPoint)
        {
            _latestJoinPoint = -1; // only the count bound does this (a GOP of more than Capacity chunks)
        }

        _first++;
    }

    /// <summary>
    /// The newest join point at least <paramref name="back"/> ticks older than the newest chunk (the oldest
    /// join point kept when none is that old), or -1 when there is no join point. Zero gives <see cref="LatestJoinPoint"/>.
    /// </summary>
    public long JoinPointBefore(long back)
    {
        lock (_lock)
        {
            if (back <= 0 || _latestJoinPoint < 0)
            {
                return _latestJoinPoint;
            }

            long target = _slots[(_next - 1) & Mask].Time - back;
            long found = -1;
            for (long s = _latestJoinPoint; s >= _first; s--)
            {
                var chunk = _slots[s & Mask];
                if (chunk.IsJoinPoint)
                {
                    found = s;
                    if (chunk.Time <= target)
                    {
                        break;
                    }
                }
            }

            return found;
        }
    }

    /// <summary>
    /// Leases the chunks from <paramref name="position"/> on into <paramref name="buffer"/>: the reader calls
    /// <see cref="ChunkLease.Release"/> on each once it has copied its bytes out (one it never releases keeps its
    /// blocks out of the pool until the garbage collector takes the chunk).
    /// </summary>
    public ChunkReadStatus Read(long position, ChunkLease[] buffer, out int count) => Read(position, buffer, out count, out _);

    /// <summary>
    /// <see cref="Read(long, ChunkLease[], out int)"/>, telling also what is left after the batch, so that a reader
    /// takes the ring's lock once a batch: whether it caught up, and how far behind the newest chunk it still is.
    /// </summary>
    public ChunkReadStatus Read(long position, ChunkLease[] buffer, out int count, out ChunkBacklog backlog)
    {
        count = 0;
        backlog = default;
        lock (_lock)
        {
            if (position < _first)
            {
                return ChunkReadStatus.Lagged;
            }

            if (position >= _next)
            {
                return _completed ? ChunkReadStatus.Completed : ChunkReadStatus.Empty;
            }

            count = (int)Math.Min(buffer.Length, _next - position);
            for (int i = 0; i < count; i++)
            {
                buffer[i] = _slots[(position + i) & Mask].Lease();
            }

            long after = position + count;
            if (after < _next)
            {
                backlog = new ChunkBacklog(_next - after, _slots[(_next - 1) & Mask].Time - _slots[after & Mask].Time);
            }

            return ChunkReadStatus.Data;
        }
    }

    /// <summary>
    /// Closes the ring and lets go of every chunk in it (the server has stopped: no reader is left to drain them; a
    /// reader still holding one keeps it until it releases its lease).
    /// </summary>
    public void Clear()
    {
        Complete();
        lock (_lock)
        {
            while (_first < _next)
            {
                EvictOldest();
            }

            _latestJoinPoint = -1;
        }
    }

    /// <summary>Closes the ring: readers drain what is left and end.</summary>
    public void Complete()
    {
        List<ViewerSignal> waking;
        lock (_lock)
        {
            _completed = true;
            waking = SwapWaiting();
        }

        Wake(waking);
    }
}
