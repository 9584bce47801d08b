using Sluice.Media;
using Sluice.Media.Buffers;

namespace Sluice.Server.Streams;

/// <summary>
/// One piece of a stream's container output, shared by every viewer. It is counted: its ring holds it while the chunk
/// is in the ring, and a reader that got it from <see cref="ChunkRing.Read"/> holds it until it calls
/// <see cref="Release"/>. The last one to let go releases the pooled blocks its bytes are in and gives the object back
/// to its ring, which fills it with a later chunk: a reader must not touch a chunk it has released.
/// </summary>
internal sealed class Chunk
{
    private readonly ChunkRing? _home;
    private PooledBlock? _prefixOwner;
    private PooledBlock? _payloadOwner;
    private int _references;

    internal Chunk(ChunkRing? home) => _home = home;

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
        Volatile.Write(ref _references, 1);
    }

    internal void Retain() => Interlocked.Increment(ref _references);

    /// <summary>Gives up a reader's hold, once it has copied the bytes out.</summary>
    public void Release()
    {
        if (Drop())
        {
            _home?.Recycle(this);
        }
    }

    /// <summary>Gives up one hold; true when it was the last (the blocks are released, the object may be filled again).</summary>
    internal bool Drop()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left > 0)
        {
            return false;
        }

        if (left < 0)
        {
            throw new InvalidOperationException("A chunk was released more often than it was held.");
        }

        _prefixOwner?.Release();
        _payloadOwner?.Release();
        _prefixOwner = _payloadOwner = null;
        Prefix = Payload = default;
        return true;
    }
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
/// and lets go on eviction; <see cref="Read"/> makes each reader a holder too; a chunk nobody holds any more is kept
/// for a later append (at most <see cref="MaxFreeChunks"/>), so appending allocates nothing once the ring is full.
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
        if (slot.Drop()) // readers that still copy it hold it themselves
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
    /// Copies the chunks from <paramref name="position"/> on into <paramref name="buffer"/>, each retained for the
    /// reader: it calls <see cref="Chunk.Release"/> on each once it has copied its bytes out (one it never releases
    /// is left to the garbage collector).
    /// </summary>
    public ChunkReadStatus Read(long position, Chunk[] buffer, out int count)
    {
        count = 0;
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
                var chunk = _slots[(position + i) & Mask];
                chunk.Retain();
                buffer[i] = chunk;
            }

            return ChunkReadStatus.Data;
        }
    }

    /// <summary>How far <paramref name="position"/> is behind the newest chunk, in ticks (0 when caught up or evicted).</summary>
    public long LagTicks(long position)
    {
        lock (_lock)
        {
            if (position < _first || position >= _next)
            {
                return 0;
            }

            return _slots[(_next - 1) & Mask].Time - _slots[position & Mask].Time;
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
