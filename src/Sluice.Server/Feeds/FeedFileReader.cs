using Sluice.Media;
using Sluice.Media.Buffers;
using static Sluice.Server.Feeds.FeedFileFormat;

namespace Sluice.Server.Feeds;

/// <summary>What a <see cref="FeedFileReader"/> read gave.</summary>
internal enum FeedReadResult
{
    /// <summary>A packet.</summary>
    Packet,

    /// <summary>
    /// The reader has read every packet written so far: a viewer goes on from the feed's in-memory ring at
    /// <see cref="FeedFileReader.NextFeedSequence"/> (or reads again later).
    /// </summary>
    CaughtUp,

    /// <summary>
    /// The writer's wrap has overwritten the packet the reader was to read next (or the file was begun anew): seek
    /// again (the oldest packets left are newer than the ones missed).
    /// </summary>
    Overtaken,
}

/// <summary>Where a seek put the reader.</summary>
internal enum FeedSeekResult
{
    /// <summary>At the GOP start at or before the time asked for.</summary>
    Found,

    /// <summary>The time is before the oldest GOP start the file holds: at the oldest.</summary>
    Oldest,

    /// <summary>The file has no GOP start to start from.</summary>
    Empty,
}

/// <summary>
/// A cursor over a feed file: "the packets from the GOP start at or before T, then on": <see cref="Seek(long)"/> finds
/// that GOP start by the index (binary search, then at most <see cref="FeedFileIndex.MinSpacing"/> of record headers),
/// <see cref="TryRead"/> reads one packet after another, following the ring's wrap, in bounded memory (one payload
/// at a time, in blocks of a <see cref="ChunkSlab"/>). When it has read all the file has, it says
/// <see cref="FeedReadResult.CaughtUp"/> with the feed sequence the feed's ring goes on from, so a viewer continues
/// into the live edge without a gap; when the writer overwrites what it was to read, it says
/// <see cref="FeedReadResult.Overtaken"/>. Not thread-safe: one reader a viewer. Reads use the file's handle
/// positionally, alongside the writer.
/// </summary>
internal sealed class FeedFileReader : IDisposable
{
    private readonly FeedFile _file;
    private readonly ChunkSlab _slab;
    private readonly byte[] _header = new byte[RecordHeaderSize];
    private long _pos;
    private ulong _sequence;
    private int _epoch;
    private bool _positioned;

    internal FeedFileReader(FeedFile file, BlockPool? pool)
    {
        _file = file;
        _slab = new ChunkSlab(pool: pool);
    }

    /// <summary>The feed sequence number of the packet after the last one read (where the in-memory ring takes over).</summary>
    public long NextFeedSequence { get; private set; }

    /// <summary>Positions the reader at the GOP start at or before decode time <paramref name="dts"/>.</summary>
    public FeedSeekResult Seek(long dts) => Seek(dts, e => e.Dts, r => r.Dts);

    /// <summary>Positions the reader at the GOP start received at or before <paramref name="at"/> (a viewer's <c>?date=</c>).</summary>
    public FeedSeekResult Seek(DateTimeOffset at) => Seek(at.ToUnixTimeMilliseconds(), e => e.Received, r => r.Received);

    private FeedSeekResult Seek(long at, Func<FeedFileIndex.Entry, long> entryKey, Func<RecordHeader, long> recordKey)
    {
        var index = _file.Index;
        FeedFileIndex.Entry entry;
        FeedSeekResult result;
        lock (index.Lock)
        {
            _epoch = _file.Epoch;
            int i = index.FindAtOrBefore(at, entryKey);
            if (index.Count == 0)
            {
                _positioned = false;
                return FeedSeekResult.Empty;
            }

            result = i < 0 ? FeedSeekResult.Oldest : FeedSeekResult.Found;
            entry = index[Math.Max(i, 0)];
        }

        Position(entry.Offset, entry.Sequence);
        if (result == FeedSeekResult.Oldest)
        {
            return result;
        }

        // The index is sparse: on from its entry, header by header, to the last GOP start at or before the time.
        long pos = _pos, best = _pos;
        ulong seq = _sequence, bestSeq = _sequence;
        while (seq < _file.PublishedSequence && NextHeader(ref pos, seq) is { } r && recordKey(r) <= at)
        {
            if (r.IsGopStart)
            {
                (best, bestSeq) = (pos, seq);
            }

            if (r.Dts - entry.Dts > FeedFileIndex.MinSpacing * 2)
            {
                break; // past where the next entry would have been
            }

            pos += r.Size;
            seq++;
        }

        Position(best, bestSeq);
        return result;
    }

    private void Position(long pos, ulong sequence)
    {
        _pos = pos;
        _sequence = sequence;
        _positioned = true;
    }

    /// <summary>The record header at <paramref name="pos"/> (moved past a wrap) with sequence <paramref name="seq"/>, or null.</summary>
    private RecordHeader? NextHeader(ref long pos, ulong seq)
    {
        for (int hops = 0; hops < 2; hops++)
        {
            if (pos + RecordHeaderSize > _file.End)
            {
                pos = _file.DataStart;
                continue;
            }

            if (RandomAccess.Read(_file.Handle, _header, pos) != RecordHeaderSize || ReadRecordHeader(_header) is not { } r || r.Sequence != seq)
            {
                return null;
            }

            if (r.Magic == WrapMagic)
            {
                pos = _file.DataStart;
                continue;
            }

            return r;
        }

        return null;
    }

    /// <summary>
    /// The next packet, its payload in a pooled block the caller now holds a reference to (it releases it); or
    /// <see cref="FeedReadResult.CaughtUp"/> / <see cref="FeedReadResult.Overtaken"/>.
    /// </summary>
    public FeedReadResult TryRead(out MediaPacket packet)
    {
        packet = default;
        if (!_positioned)
        {
            return FeedReadResult.Overtaken;
        }

        if (_sequence >= _file.PublishedSequence)
        {
            return Lost() ? FeedReadResult.Overtaken : FeedReadResult.CaughtUp;
        }

        try
        {
            long pos = _pos;
            if (Lost() || NextHeader(ref pos, _sequence) is not { } r)
            {
                return FeedReadResult.Overtaken;
            }

            var span = _slab.Reserve(r.Length);
            int read = RandomAccess.Read(_file.Handle, span[..r.Length], pos + RecordHeaderSize);

            // Checked after the read: the writer moves the oldest sequence on before it overwrites a byte.
            if (read != r.Length || Lost() || !IsSealed(_header, span[..r.Length]))
            {
                return FeedReadResult.Overtaken;
            }

            var payload = _slab.Commit(r.Length, out var owner);
            packet = new MediaPacket(r.Track, r.Dts, r.Pts, r.IsKeyframe, payload, r.Duration, owner);
            _pos = pos + r.Size;
            _sequence++;
            NextFeedSequence = r.FeedSequence + 1;
            return FeedReadResult.Packet;
        }
        catch (ObjectDisposedException)
        {
            return FeedReadResult.Overtaken; // the file was renamed aside and closed
        }
    }

    private bool Lost()
    {
        if (_sequence < _file.OldestSequence || _epoch != _file.Epoch)
        {
            _positioned = false;
            return true;
        }

        return false;
    }

    public void Dispose() => _slab.Dispose();
}
