namespace Sluice.Server.Feeds;

/// <summary>
/// The sparse keyframe index of a feed file, in memory: one entry a GOP start (at most one a
/// <see cref="MinSpacing"/> of decode time), oldest first, in a growable circular array. Entries are added by the
/// writer and dropped from the front as the ring overwrites their records; lookups binary-search it (O(log n)).
/// One writer thread changes it; readers look it up under <see cref="Lock"/>.
/// </summary>
internal sealed class FeedFileIndex
{
    /// <summary>An indexed record: where it starts, in which lap of the ring, and its sequence and times.</summary>
    public readonly record struct Entry(ulong Sequence, long Offset, uint Lap, long Dts, long Received);

    /// <summary>
    /// Least decode time between two entries: an intra-only feed (MJPEG, every packet a keyframe) gets an entry a
    /// half second, not one a frame, and a lookup reads at most that far on from its entry to the exact keyframe.
    /// </summary>
    public static readonly long MinSpacing = Sluice.Media.MediaTime.TicksPerSecond / 2;

    private Entry[] _entries = new Entry[64];
    private int _first;

    public Lock Lock { get; } = new();

    public int Count { get; private set; }

    public Entry this[int i] => _entries[(_first + i) % _entries.Length];

    public Entry? Oldest
    {
        get
        {
            lock (Lock)
            {
                return Count == 0 ? null : this[0];
            }
        }
    }

    public Entry? Newest
    {
        get
        {
            lock (Lock)
            {
                return Count == 0 ? null : this[Count - 1];
            }
        }
    }

    /// <summary>Whether a GOP start at <paramref name="dts"/> gets an entry (the spacing from the newest).</summary>
    public bool Wants(long dts) => Count == 0 || dts - this[Count - 1].Dts >= MinSpacing || dts < this[Count - 1].Dts;

    public void Add(Entry entry)
    {
        lock (Lock)
        {
            if (Count == _entries.Length)
            {
                var grown = new Entry[_entries.Length * 2];
                for (int i = 0; i < Count; i++)
                {
                    grown[i] = this[i];
                }

                _entries = grown;
                _first = 0;
            }

            _entries[(_first + Count) % _entries.Length] = entry;
            Count++;
        }
    }

    public void DropOldest()
    {
        lock (Lock)
        {
            _first = (_first + 1) % _entries.Length;
            Count--;
        }
    }

    public void Clear()
    {
        lock (Lock)
        {
            _first = 0;
            Count = 0;
        }
    }

    /// <summary>The newest entry whose <paramref name="key"/> is at or before <paramref name="at"/>: binary search; -1 when all are after.</summary>
    public int FindAtOrBefore(long at, Func<Entry, long> key)
    {
        lock (Lock)
        {
            int lo = 0, hi = Count - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (key(this[mid]) <= at)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return found;
        }
    }
}
