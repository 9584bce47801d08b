using Sluice.Media;

namespace Sluice.Server.Feeds;

/// <summary>
/// The newest packets of a feed with an index of its keyframes, bounded in bytes: the oldest packets go
/// first, but never the latest complete GOP (everything from the newest video keyframe on stays, however
/// large). Written by one ingest; read under the same short lock by whoever needs history.
/// The ring owns one reference to each packet's payload block (<see cref="MediaPacket.Owner"/>), handed over by
/// <see cref="Add"/> and released when the packet leaves.
/// </summary>
internal sealed class PacketRing
{
    private readonly Lock _lock = new();
    private readonly long _maxBytes;
    private readonly Queue<MediaPacket> _packets = new();
    private readonly List<long> _keyframes = []; // sequence numbers of the GOP starts in _packets, oldest first (a few dozen)
    private long _firstSequence;
    private long _bytes;

    /// <param name="firstSequence">The sequence number of the first packet added: a feed with a reopened file goes on
    /// from the file's, so a packet has one number in the file and in the ring.</param>
    public PacketRing(long maxBytes, long firstSequence = 0)
    {
        _maxBytes = Math.Max(maxBytes, 1);
        _firstSequence = firstSequence;
    }

    public long Bytes { get { lock (_lock) { return _bytes; } } }

    public int Count { get { lock (_lock) { return _packets.Count; } } }

    /// <summary>
    /// Appends a packet, taking over the caller's reference to its payload. <paramref name="isIndexed"/>: a keyframe
    /// that starts a GOP (a video keyframe, or any packet of an audio-only feed).
    /// </summary>
    public void Add(MediaPacket packet, bool isIndexed)
    {
        lock (_lock)
        {
            if (isIndexed)
            {
                _keyframes.Add(_firstSequence + _packets.Count);
            }

            _packets.Enqueue(packet);
            _bytes += packet.Payload.Length;

            // Over budget: drop whole GOPs from the front, never the newest one; packets from before the
            // first GOP start go one by one.
            while (_bytes > _maxBytes && _packets.Count > 0)
            {
                if (_keyframes.Count == 0 || _keyframes[0] > _firstSequence)
                {
                    EvictOne(); // a packet from before the first GOP start (or no GOP start at all yet)
                }
                else if (_keyframes.Count > 1)
                {
                    long nextGop = _keyframes[1];
                    while (_firstSequence < nextGop)
                    {
                        EvictOne();
                    }
                }
                else
                {
                    break; // only the newest GOP is left: it stays, however large
                }
            }
        }
    }

    private void EvictOne()
    {
        var packet = _packets.Dequeue();
        _bytes -= packet.Payload.Length;
        packet.Release();
        if (_keyframes.Count > 0 && _keyframes[0] == _firstSequence)
        {
            _keyframes.RemoveAt(0);
        }

        _firstSequence++;
    }

    /// <summary>
    /// The packets from the newest keyframe at or before <paramref name="notAfterDts"/> (or the newest keyframe) on,
    /// lent: valid until the ingest writes again (call on the ingest's thread), retained by whoever keeps one.
    /// </summary>
    public List<MediaPacket> SnapshotFromKeyframe(long notAfterDts = long.MaxValue)
    {
        lock (_lock)
        {
            var packets = _packets.ToArray();
            int start = -1;
            foreach (long k in _keyframes)
            {
                int index = (int)(k - _firstSequence);
                if (packets[index].Dts <= notAfterDts || start < 0)
                {
                    start = index;
                }
            }

            return start < 0 ? [] : packets[start..].ToList();
        }
    }

    /// <summary>
    /// The packets from sequence number <paramref name="sequence"/> on (a reader of the feed file that has caught up goes
    /// on here without a gap), lent as <see cref="SnapshotFromKeyframe"/>'s are; null when the ring no longer holds that
    /// packet (the reader goes on in the file, which has it unless its writes were dropped). Empty when none has come yet.
    /// </summary>
    public List<MediaPacket>? SnapshotFromSequence(long sequence)
    {
        lock (_lock)
        {
            if (sequence < _firstSequence)
            {
                return null;
            }

            long skip = sequence - _firstSequence;
            return skip >= _packets.Count ? [] : _packets.Skip((int)skip).ToList();
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _firstSequence += _packets.Count;
            foreach (var packet in _packets)
            {
                packet.Release();
            }

            _packets.Clear();
            _keyframes.Clear();
            _bytes = 0;
        }
    }
}
