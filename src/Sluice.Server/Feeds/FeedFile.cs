using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Sluice.Media;
using Sluice.Server.Configuration;
using static Sluice.Server.Feeds.FeedFileFormat;

namespace Sluice.Server.Feeds;

/// <summary>What a feed file does now, as the status page says it.</summary>
internal enum FeedFileState
{
    /// <summary>Packets go to the file.</summary>
    Writing,

    /// <summary>Writing has stopped (the disk is full or failing); it resumes when a write succeeds again.</summary>
    Stopped,

    /// <summary>A ReadOnlyFile: served, never written.</summary>
    ReadOnly,
}

/// <summary>
/// A feed's file on disk (docs/feed-files.md): a ring of packet records at most FileMaxSize bytes long, with a
/// sparse keyframe index in memory, that outlives the server. The feed's ingest thread only retains each packet's
/// payload and puts it in a bounded queue (<see cref="Enqueue"/>); a thread of the file's own writes it, so the ingest
/// never waits on the disk. When the queue is full or the disk fails, file writes are dropped (said once, then
/// counted), never the live feed, and writing starts again at the next GOP start.
/// Readers (<see cref="OpenReader"/>) read the file from a time forward, each with its own position.
/// </summary>
internal sealed partial class FeedFile : IDisposable
{
    /// <summary>The in-memory ring of a feed with a file holds at most this much (or FileMaxSize, if less): older packets are read from the file.</summary>
    public const long MemoryBudget = 16L * 1024 * 1024;

    /// <summary>How long after a failed write the next one is tried (at a GOP start).</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often the write position is made durable while packets come (after an fsync of what it covers).</summary>
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _feed;
    private readonly long _maxSize;
    private readonly Lock _queueLock = new();
    private readonly int _queueCapacity;
    private Item[] _queue;
    private readonly long _queueMaxBytes;
    /// <summary>
    /// Set when the queue has items; the writer resets it under the queue's lock when it finds the queue empty, then
    /// waits. No spinning (SemaphoreSlim spun its waits away in sched_yield, 26 calls a record written: bench/history.md,
    /// 2026-12-08): between two packets the writer sleeps in the kernel.
    /// </summary>
    private readonly ManualResetEventSlim _queued = new(false, spinCount: 0);
    private readonly Thread? _writer;
    private int _queueFirst, _queueCount;
    private long _queueBytes;
    private bool _gap;       // a packet was dropped: the next one queued says so, and the writer waits for a GOP start
    private bool _dropping;  // said once a run of queue drops

    private FileStream _stream;
    private Header? _header;
    private Checkpoint _checkpoint;
    private long _head;
    private uint _lap;
    private ulong _nextSequence;
    private long _nextFeedSequence;
    private long _lastCheckpointTicks;
    private bool _dirty;
    private bool _needGopStart;
    private long _failedAtTicks;
    private byte[] _writeBuffer = new byte[64 * 1024];
    private long _queueDropped, _skipped, _written;
    private volatile int _state;
    private volatile string? _stopReason;
    private int _epoch;              // changes when the file is begun anew (renamed aside, truncated): readers are told
    private long _published;         // records with a sequence below this are whole and readable (ulong stored as long)
    private long _oldest;            // the sequence of the oldest record a reader may read (the oldest index entry's)

    private FeedFile(FeedConfig config, ILogger logger, TimeProvider time, int queueCapacity, long queueMaxBytes)
    {
        Path = System.IO.Path.GetFullPath(config.File!);
        _feed = config.Name;
        _maxSize = config.FileMaxSize;
        _logger = logger;
        _time = time;
        _queue = new Item[queueCapacity];
        _queueCapacity = queueCapacity;
        _queueMaxBytes = queueMaxBytes;
        _stream = null!;
        if (config.ReadOnly)
        {
            _state = (int)FeedFileState.ReadOnly;
        }
        else
        {
            _writer = new Thread(WriteLoop) { IsBackground = true, Name = $"feed file {config.Name}" };
        }
    }

    /// <summary>
    /// Opens the feed's file (config.File), reopening what an earlier run left: a damaged tail is cut at the last whole
    /// record, a file Sluice cannot use is renamed aside and a new one begun. A ReadOnlyFile that is missing or
    /// unreadable throws <see cref="IOException"/> (the validator names its line before the server gets here).
    /// </summary>
    public static FeedFile Open(FeedConfig config, ILogger logger, TimeProvider? time = null, int queueCapacity = 4096, long queueMaxBytes = 32L * 1024 * 1024, bool startWriter = true)
    {
        var file = new FeedFile(config, logger, time ?? TimeProvider.System, queueCapacity, queueMaxBytes);
        file.OpenOrRecover(config.ReadOnly);
        if (startWriter)
        {
            file.StartWriter();
        }

        return file;
    }

    /// <summary>Starts the writer thread (<see cref="Open"/> does, unless a test holds it back to fill the queue).</summary>
    internal void StartWriter() => _writer?.Start();

    /// <summary>Waits until the writer has taken everything queued so far (tests, and the status of a stopping server).</summary>
    internal bool Drain(TimeSpan timeout) =>
        _writer is null || SpinWait.SpinUntil(() => Interlocked.Read(ref _taken) == Interlocked.Read(ref _queuedItems) || !_writer.IsAlive, timeout);

    private long _queuedItems, _taken;

    public string Path { get; }

    public FeedFileState State => (FeedFileState)_state;

    /// <summary>Why writing stopped (the disk's error), while <see cref="State"/> is Stopped.</summary>
    public string? StopReason => _stopReason;

    /// <summary>The tracks the file holds packets of; empty until its first publisher.</summary>
    public IReadOnlyList<TrackInfo> Tracks => _header?.Tracks ?? [];

    /// <summary>The file's size on disk.</summary>
    public long Size
    {
        get
        {
            try
            {
                return RandomAccess.GetLength(_stream.SafeFileHandle);
            }
            catch (ObjectDisposedException)
            {
                return 0;
            }
        }
    }

    /// <summary>Records a reader can start from or read on to: from the oldest indexed one to the newest.</summary>
    public long Packets => (long)(PublishedSequence - OldestSequence);

    /// <summary>Packets the writer could not keep up with (its queue was full: dropped on the ingest's side).</summary>
    public long QueueDropped
    {
        get
        {
            lock (_queueLock)
            {
                return _queueDropped;
            }
        }
    }

    /// <summary>Packets the writer did not write: while writing had stopped, and after a gap until the next GOP start.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public long Written => Interlocked.Read(ref _written);

    /// <summary>The feed time (decode time) and the wall-clock time of the oldest packet a reader can start at (a GOP start); null when none.</summary>
    public (long Dts, DateTimeOffset Received)? Oldest => Entry(Index.Oldest);

    /// <summary>The same of the newest packet written; null when none is readable.</summary>
    public (long Dts, DateTimeOffset Received)? Newest => Packets > 0
        ? (Volatile.Read(ref _newestDts), DateTimeOffset.FromUnixTimeMilliseconds(Volatile.Read(ref _newestReceived)))
        : null;

    private long _newestDts, _newestReceived;

    /// <summary>The decode time of the newest packet the file held when it was opened (the feed's time line goes on after it); null when none.</summary>
    public long? ReopenedLastDts { get; private set; }

    /// <summary>The next feed sequence number after the file's newest packet when it was opened.</summary>
    public long ReopenedFeedSequence => _checkpoint.NextFeedSequence;

    internal FeedFileIndex Index { get; } = new();

    internal SafeFileHandle Handle => _stream.SafeFileHandle;

    internal long DataStart => _header?.DataStart ?? Alignment;

    internal long End => _maxSize;

    internal int Epoch => Volatile.Read(ref _epoch);

    internal ulong PublishedSequence => (ulong)Volatile.Read(ref _published);

    internal ulong OldestSequence => (ulong)Volatile.Read(ref _oldest);

    private static (long, DateTimeOffset)? Entry(FeedFileIndex.Entry? e) =>
        e is { } x ? (x.Dts, DateTimeOffset.FromUnixTimeMilliseconds(x.Received)) : null;

    /// <summary>A cursor that reads the file's packets from a time forward (see <see cref="FeedFileReader"/>).</summary>
    public FeedFileReader OpenReader(Sluice.Media.Buffers.BlockPool? pool = null) => new(this, pool);

    // ---- the ingest's side: no I/O, no allocation ----

    /// <summary>
    /// Queues a packet of the feed's time line for the file, retaining its payload (the writer releases it once
    /// written): called on the ingest's thread, never waits. A full queue drops the packet for the file only.
    /// </summary>
    public void Enqueue(in MediaPacket packet, bool gopStart, long feedSequence)
    {
        if (_writer is null)
        {
            return;
        }

        long received = _time.GetUtcNow().ToUnixTimeMilliseconds();
        bool queued = false, firstDrop = false;
        lock (_queueLock)
        {
            if (_queueCount >= _queueCapacity || _queueBytes + packet.Payload.Length > _queueMaxBytes)
            {
                _gap = true;
                _queueDropped++;
                firstDrop = !_dropping;
                _dropping = true;
            }
            else
            {
                packet.Retain(); // the writer's reference, released once the record is written (docs/ownership.md)
                _queue[(_queueFirst + _queueCount) % _queue.Length] = new Item(ItemKind.Packet, packet, gopStart, _gap, feedSequence, received, null, false);
                _queueCount++;
                _queueBytes += packet.Payload.Length;
                _queuedItems++;
                _gap = false;
                _dropping = false;
                queued = true;
            }
        }

        if (queued)
        {
            _queued.Set();
        }
        else if (firstDrop)
        {
            LogQueueFull(_logger, _feed, Path, _queueCapacity);
        }
    }

    /// <summary>A publisher's tracks are known: the file is begun for them (renamed aside first if it holds others), or emptied when <paramref name="truncate"/>.</summary>
    public void OnSession(IReadOnlyList<TrackInfo> tracks, bool truncate) => Control(new Item(ItemKind.Session, default, false, false, 0, 0, [.. tracks], truncate));

    private void Control(Item item)
    {
        if (_writer is null)
        {
            return;
        }

        lock (_queueLock)
        {
            // A control item is never dropped and never waits for the writer: when the queue is full it grows (once a
            // session start, never a packet), and packets stay bounded by the capacity it was made with.
            if (_queueCount == _queue.Length)
            {
                var grown = new Item[_queue.Length * 2];
                for (int i = 0; i < _queueCount; i++)
                {
                    grown[i] = _queue[(_queueFirst + i) % _queue.Length];
                }

                (_queue, _queueFirst) = (grown, 0);
            }

            _queue[(_queueFirst + _queueCount) % _queue.Length] = item;
            _queueCount++;
            _queuedItems++;
        }

        _queued.Set();
    }

    private enum ItemKind { Packet, Session, Stop }

    private readonly record struct Item(ItemKind Kind, MediaPacket Packet, bool GopStart, bool AfterGap, long FeedSequence, long Received, TrackInfo[]? Tracks, bool Truncate);

    // ---- the writer's side ----

    private void WriteLoop()
    {
        while (true)
        {
            Item item;
            bool empty;
            lock (_queueLock)
            {
                if (_queueCount == 0)
                {
                    _queued.Reset(); // an item queued after this sets it again, so the wait below cannot miss it
                }
            }

            _queued.Wait();
            lock (_queueLock)
            {
                if (_queueCount == 0)
                {
                    continue;
                }

                item = _queue[_queueFirst];
                _queue[_queueFirst] = default;
                _queueFirst = (_queueFirst + 1) % _queue.Length;
                _queueCount--;
                _queueBytes -= item.Packet.Payload.Length;
                empty = _queueCount == 0;
            }

            switch (item.Kind)
            {
                case ItemKind.Stop:
                    Guard(() => Checkpoint(force: true));
                    Interlocked.Increment(ref _taken);
                    return;
                case ItemKind.Session:
                    Guard(() => BeginSession(item.Tracks!, item.Truncate));
                    break;
                default:
                    try
                    {
                        WritePacket(item);
                    }
                    finally
                    {
                        item.Packet.Release();
                    }

                    break;
            }

            if (empty && _dirty && _time.GetElapsedTime(_lastCheckpointTicks) >= CheckpointInterval)
            {
                Guard(() => Checkpoint(force: false));
            }

            Interlocked.Increment(ref _taken);
        }
    }

    private void Guard(Action write)
    {
        try
        {
            write();
        }
        catch (IOException ex)
        {
            Stop(ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            Stop(ex);
        }
    }

    private void WritePacket(in Item item)
    {
        if (_sessionTracks is null)
        {
            return; // no session yet (cannot happen: a packet follows its session)
        }

        if (item.AfterGap)
        {
            _needGopStart = true;
        }

        if ((State == FeedFileState.Stopped && _time.GetElapsedTime(_failedAtTicks) < RetryInterval) || (_needGopStart && !item.GopStart))
        {
            // After a gap (a full queue, a failed write) the file goes on at a GOP start, so every run in it decodes from its first packet.
            Interlocked.Increment(ref _skipped);
            return;
        }

        var p = item.Packet;
        int size = RecordHeaderSize + p.Payload.Length;
        if (size > End - DataStart || p.Payload.Length > MaxPayload)
        {
            return; // larger than the ring: the live feed has it, the file cannot
        }

        try
        {
            if (_header is null)
            {
                Create(_sessionTracks); // its first try failed (the disk was full when the publisher came)
            }

            if (_head + size > End)
            {
                Wrap();
            }

            MakeRoom(_head, size, _lap);
            if (_writeBuffer.Length < size)
            {
                _writeBuffer = new byte[Math.Max(size, _writeBuffer.Length * 2)];
            }

            var record = new RecordHeader(PacketMagic, p.Payload.Length, _nextSequence, item.FeedSequence, p.Dts, p.Pts, p.Duration, item.Received, p.Track, p.IsKeyframe, item.GopStart);
            var span = _writeBuffer.AsSpan(0, size);
            WriteRecordHeader(span, record);
            p.Payload.Span.CopyTo(span[RecordHeaderSize..]);
            SealRecord(span, span[RecordHeaderSize..]);
            RandomAccess.Write(Handle, span, _head);
            if (item.GopStart && Index.Wants(p.Dts))
            {
                Index.Add(new FeedFileIndex.Entry(_nextSequence, _head, _lap, p.Dts, item.Received));
                if (Index.Count == 1)
                {
                    Volatile.Write(ref _oldest, (long)_nextSequence);
                }
            }

            Volatile.Write(ref _newestDts, p.Dts);
            Volatile.Write(ref _newestReceived, item.Received);
            _head += size;
            _nextSequence++;
            _nextFeedSequence = item.FeedSequence + 1;
            _dirty = true;
            _needGopStart = false;
            Volatile.Write(ref _published, (long)_nextSequence);
            Interlocked.Increment(ref _written);
            if (State == FeedFileState.Stopped)
            {
                _state = (int)FeedFileState.Writing;
                _stopReason = null;
                LogResumed(_logger, _feed, Path, Skipped);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _skipped);
            Stop(ex);
        }
    }

    private void Stop(Exception ex)
    {
        _failedAtTicks = _time.GetTimestamp();
        _needGopStart = true;
        if (State != FeedFileState.Stopped)
        {
            _stopReason = ex.Message;
            _state = (int)FeedFileState.Stopped;
            LogStopped(_logger, _feed, Path, ex.Message);
        }
    }

    /// <summary>The next record does not fit before the end: a wrap marker (when there is room for one), and on at the data region's start.</summary>
    private void Wrap()
    {
        if (_head + RecordHeaderSize <= End)
        {
            Span<byte> marker = stackalloc byte[RecordHeaderSize];
            marker.Clear();
            WriteRecordHeader(marker, new RecordHeader(WrapMagic, 0, _nextSequence, 0, 0, 0, 0, 0, 0, false, false));
            SealRecord(marker, []);
            RandomAccess.Write(Handle, marker, _head);
        }

        _head = DataStart;
        _lap++;
        MakeRoom(_head, 0, _lap);
    }

    /// <summary>
    /// Before <paramref name="size"/> bytes go at <paramref name="at"/> in lap <paramref name="lap"/>: the index entries
    /// whose records they overwrite go first (and those two laps old, stranded past where the last lap wrapped), and
    /// the oldest readable sequence moves on before a byte of theirs is touched. On the writer, the new tail is made
    /// durable first: a restart must never walk from a tail that is gone.
    /// </summary>
    private void MakeRoom(long at, int size, uint lap, bool recovering = false)
    {
        bool dropped = false;
        while (Index.Oldest is { } o && (o.Lap + 1 < lap || (o.Lap < lap && o.Offset < at + size)))
        {
            Index.DropOldest();
            dropped = true;
        }

        if (dropped)
        {
            Volatile.Write(ref _oldest, (long)(Index.Oldest?.Sequence ?? _nextSequence));
            if (!recovering)
            {
                Checkpoint(force: true);
            }
        }
    }

    private Checkpoint Current()
    {
        var tail = Index.Oldest;
        return new Checkpoint(
            _checkpoint.Counter + 1,
            _head,
            _lap,
            _nextSequence,
            tail?.Offset ?? _head,
            tail?.Lap ?? _lap,
            tail?.Sequence ?? _nextSequence,
            _nextFeedSequence);
    }

    /// <summary>Makes the records written so far durable (fsync), then records where the ring stands in the older slot.</summary>
    private void Checkpoint(bool force)
    {
        if (_header is null || (!force && !_dirty))
        {
            return;
        }

        _stream.Flush(flushToDisk: true);
        var checkpoint = Current();
        Span<byte> slot = stackalloc byte[CheckpointSize];
        WriteCheckpoint(slot, checkpoint);
        RandomAccess.Write(Handle, slot, CheckpointOffset(checkpoint.Counter));
        _checkpoint = checkpoint;
        _lastCheckpointTicks = _time.GetTimestamp();
        _dirty = false;
    }

    private TrackInfo[]? _sessionTracks;

    private void BeginSession(TrackInfo[] tracks, bool truncate)
    {
        _sessionTracks = tracks;
        if (_header is { } header && !SameTracks(header.Tracks, tracks))
        {
            _stream.Dispose();
            RenameAside($"it holds other tracks ({string.Join(", ", header.Tracks)}) than the publisher's ({string.Join(", ", tracks)})");
            _stream = OpenStream(FileMode.CreateNew);
            _header = null;
        }

        if (_header is null)
        {
            Create(tracks);
        }
        else if (truncate)
        {
            Index.Clear();
            _head = DataStart;
            _lap = 0;
            Volatile.Write(ref _oldest, (long)_nextSequence);
            Interlocked.Increment(ref _epoch);
            _stream.SetLength(DataStart);
            Checkpoint(force: true);
            LogTruncated(_logger, _feed, Path);
        }
    }

    private static bool SameTracks(IReadOnlyList<TrackInfo> a, IReadOnlyList<TrackInfo> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.IsCompatibleWith(p.Second));

    /// <summary>A new file for these tracks: its header, an empty ring.</summary>
    private void Create(IReadOnlyList<TrackInfo> tracks)
    {
        var header = new Header((ulong)Random.Shared.NextInt64(), _maxSize, 0, tracks);
        byte[] bytes = WriteHeader(header, new Checkpoint(0, 0, 0, _nextSequence, 0, 0, _nextSequence, _nextFeedSequence));
        header = header with { DataStart = bytes.Length };
        // The first checkpoint needs DataStart, which the header's size decides: write it again now that it is known.
        _head = bytes.Length;
        _lap = 0;
        _checkpoint = new Checkpoint(0, _head, 0, _nextSequence, _head, 0, _nextSequence, _nextFeedSequence);
        WriteCheckpoint(bytes.AsSpan(CheckpointOffset(0), CheckpointSize), _checkpoint);
        _stream.SetLength(0);
        RandomAccess.Write(Handle, bytes, 0);
        _stream.Flush(flushToDisk: true);
        Index.Clear();
        Volatile.Write(ref _oldest, (long)_nextSequence);
        Volatile.Write(ref _published, (long)_nextSequence);
        Interlocked.Increment(ref _epoch);
        _header = header;
        LogCreated(_logger, _feed, Path, string.Join(", ", tracks));
    }

    /// <summary>
    /// The writer's open takes the file for itself (FileShare.None: an exclusive lock on Linux), so a second server
    /// started on the same config fails with the path instead of writing the same ring; readers use this same handle.
    /// </summary>
    private FileStream OpenStream(FileMode mode) => State == FeedFileState.ReadOnly
        ? new(Path, mode, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess)
        : new(Path, mode, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.RandomAccess);

    /// <summary>Renames the file aside (never deletes it) and says so: the new name, and why.</summary>
    private void RenameAside(string why)
    {
        string stamp = _time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string aside = $"{Path}.{stamp}.aside";
        for (int n = 2; File.Exists(aside); n++)
        {
            aside = $"{Path}.{stamp}-{n}.aside";
        }

        File.Move(Path, aside);
        LogRenamedAside(_logger, _feed, Path, aside, why);
    }

    // ---- opening and recovery ----

    private void OpenOrRecover(bool readOnly)
    {
        _stream = OpenStream(readOnly ? FileMode.Open : FileMode.OpenOrCreate);
        long length = _stream.Length;
        if (length == 0)
        {
            if (readOnly)
            {
                throw new IOException($"{Path} is empty: a ReadOnlyFile must be a feed file Sluice wrote");
            }

            return; // a new file: its header is written when the first publisher's tracks are known
        }

        var header = ReadHeader(Handle, out var checkpoint, out string? why);
        if (header is not null && header.MaxSize != _maxSize)
        {
            why = $"it was made for FileMaxSize {header.MaxSize} bytes, and the feed now has {_maxSize}";
            header = null;
        }

        if (header is null)
        {
            if (readOnly)
            {
                throw new IOException($"{Path} cannot be served: {why}");
            }

            _stream.Dispose();
            RenameAside(why!);
            _stream = OpenStream(FileMode.CreateNew);
            return;
        }

        _header = header;
        _checkpoint = checkpoint;
        _nextSequence = checkpoint.NextSequence;
        _nextFeedSequence = checkpoint.NextFeedSequence;
        Recover(checkpoint, length, readOnly);
        LogReopened(_logger, _feed, Path, string.Join(", ", header.Tracks), Packets, length);
    }

    /// <summary>
    /// Rebuilds the index by walking the records from the checkpoint's tail (headers only up to its head, whose records
    /// were made durable), then on past the head while records are whole (the ones written after the last checkpoint).
    /// The first that is not ends the ring: a torn one is cut there, with its offset in the log.
    /// </summary>
    private void Recover(Checkpoint checkpoint, long length, bool readOnly)
    {
        long pos = checkpoint.Tail;
        uint lap = checkpoint.TailLap;
        ulong seq = checkpoint.TailSequence;
        long lastDts = long.MinValue;
        long lastFeedSequence = checkpoint.NextFeedSequence - 1;
        if (seq >= checkpoint.NextSequence)
        {
            (pos, lap, seq) = (checkpoint.Head, checkpoint.Lap, checkpoint.NextSequence);
        }

        Span<byte> head = stackalloc byte[RecordHeaderSize];
        byte[] payload = [];
        bool torn = false;
        while (true)
        {
            if (pos + RecordHeaderSize > End)
            {
                (pos, lap) = (DataStart, lap + 1);
                continue;
            }

            int read = pos + RecordHeaderSize <= length ? RandomAccess.Read(Handle, head, pos) : 0;
            var record = read == RecordHeaderSize ? ReadRecordHeader(head) : null;
            if (record is not { } r || r.Sequence != seq)
            {
                // Nothing more: the end of a file never wrapped, or a record of an older lap. In the first lap, bytes
                // past here are a torn record (the server stopped in its middle).
                torn = record is { } other ? other.Sequence == seq : lap == 0 && pos < length;
                torn |= seq < checkpoint.NextSequence; // short of what the checkpoint says was made durable: damage
                break;
            }

            if (r.Magic == WrapMagic)
            {
                (pos, lap) = (DataStart, lap + 1);
                continue;
            }

            if (pos + r.Size > End || pos + r.Size > length)
            {
                torn = true;
                break;
            }

            if (seq >= checkpoint.NextSequence)
            {
                // Past the durable head: the checksum decides whether the record is whole.
                if (payload.Length < r.Length)
                {
                    payload = new byte[Math.Max(r.Length, payload.Length * 2)];
                }

                RandomAccess.Read(Handle, payload.AsSpan(0, r.Length), pos + RecordHeaderSize);
                if (!IsSealed(head, payload.AsSpan(0, r.Length)))
                {
                    torn = true;
                    break;
                }

                _nextSequence = seq; // for MakeRoom's oldest
                MakeRoom(pos, r.Size, lap, recovering: true);
            }

            if (r.IsGopStart && Index.Wants(r.Dts))
            {
                Index.Add(new FeedFileIndex.Entry(seq, pos, lap, r.Dts, r.Received));
            }

            lastDts = Math.Max(lastDts, r.Dts);
            (_newestDts, _newestReceived) = (r.Dts, r.Received);
            lastFeedSequence = r.FeedSequence;
            pos += r.Size;
            seq++;
        }

        _head = pos;
        _lap = lap;
        _nextSequence = seq;
        _nextFeedSequence = lastFeedSequence + 1;
        _checkpoint = _checkpoint with { NextFeedSequence = _nextFeedSequence };
        ReopenedLastDts = lastDts == long.MinValue ? null : lastDts;
        Volatile.Write(ref _published, (long)seq);
        Volatile.Write(ref _oldest, (long)(Index.Oldest?.Sequence ?? seq));
        if (torn)
        {
            LogCut(_logger, _feed, Path, pos, seq);
            if (!readOnly)
            {
                if (lap == 0)
                {
                    _stream.SetLength(pos);
                }

                _dirty = true;
                Checkpoint(force: true);
            }
        }
    }

    public void Dispose()
    {
        if (_writer is not null && _writer.IsAlive)
        {
            Control(new Item(ItemKind.Stop, default, false, false, 0, 0, null, false));
            _writer.Join();
        }

        lock (_queueLock)
        {
            while (_queueCount > 0)
            {
                _queue[_queueFirst].Packet.Release();
                _queue[_queueFirst] = default;
                _queueFirst = (_queueFirst + 1) % _queue.Length;
                _queueCount--;
            }
        }

        _stream?.Dispose();
        // _queued is not disposed: it holds no handle (its WaitHandle is never asked for), and a packet an ingest still
        // hands over while the server stops then finds the writer gone, not a disposed event to throw from.
    }

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Feed {Feed}: feed file {Path} reopened: tracks {Tracks}, {Packets} packets, {Size} bytes")]
    private static partial void LogReopened(ILogger logger, string feed, string path, string tracks, long packets, long size);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Feed {Feed}: feed file {Path} begun for tracks {Tracks}")]
    private static partial void LogCreated(ILogger logger, string feed, string path, string tracks);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Feed {Feed}: feed file {Path} had a damaged tail (a record cut short, as when the server is killed while writing); cut at offset {Offset}, after its last complete packet (sequence {Sequence})")]
    private static partial void LogCut(ILogger logger, string feed, string path, long offset, ulong sequence);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Feed {Feed}: feed file {Path} renamed aside to {Aside} ({Why}); a new one is begun")]
    private static partial void LogRenamedAside(ILogger logger, string feed, string path, string aside, string why);

    [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "Feed {Feed}: writing feed file {Path} stopped: {Reason}; the live feed goes on, and writing resumes when the disk takes it")]
    private static partial void LogStopped(ILogger logger, string feed, string path, string reason);

    [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "Feed {Feed}: writing feed file {Path} resumed ({Dropped} packets were not written, counted from the start)")]
    private static partial void LogResumed(ILogger logger, string feed, string path, long dropped);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Feed {Feed}: writing feed file {Path} falls behind the ingest (its queue of {Capacity} packets is full); file writes are dropped, the live feed is not")]
    private static partial void LogQueueFull(ILogger logger, string feed, string path, int capacity);

    [LoggerMessage(EventId = 109, Level = LogLevel.Information, Message = "Feed {Feed}: feed file {Path} emptied for the new publisher (Truncate)")]
    private static partial void LogTruncated(ILogger logger, string feed, string path);
}
