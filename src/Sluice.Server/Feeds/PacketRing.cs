using Sluice.Media;

namespace Sluice.Server.Feeds;

/// <summary>
/// The newest packets of a feed with an index of its keyframes, bounded in bytes: the oldest packets go
/// first, but never the latest complete GOP (everything from the newest video keyframe on stays, however
/// large). Written by one ingest; read under the same short lock by whoever needs history.
/// </summary>
internal sealed class PacketRing
{
    private readonly Lock _lock = new();
    private readonly long _maxBytes;
    private readonly Queue<MediaPacket> _packets = new();
    private readonly Queue<long> _keyframes = new(); // sequence numbers of keyframe packets in _packets
    private long _firstSequence;
    private long _bytes;

    public PacketRing(long maxBytes) => _maxBytes = Math.Max(maxBytes, 1);

    public long Bytes { get { lock (_lock) { return _bytes; } } }

    public int Count { get { lock (_lock) { return _packets.Count; } } }

    /// <summary>Appends a packet. <paramref name="isIndexed"/>: a keyframe that starts a GOP (a video keyframe, or any packet of an audio-only feed).</summary>
    public void Add(MediaPacket packet, bool isIndexed)
    {
        lock (_lock)
        {
            long sequence = _firstSequence + _packets.Count;
            _packets.Enqueue(packet);
            _bytes += packet.Payload.Length;
            if (isIndexed)
            {
                _keyframes.Enqueue(sequence);
            }

            // Evict whole GOPs from the front while over budget, keeping the newest GOP.
            while (_bytes > _maxBytes && _keyframes.Count > 1)
            {
                long nextGop = _keyframes.ElementAt(1);
                if (!TryEvictUntil(nextGop))
                {
                    break;
                }
            }

            // Before any keyframe arrived (or packets before the first one): keep the budget anyway.
            while (_bytes > _maxBytes && _packets.Count > 0 && (_keyframes.Count == 0 || _keyframes.Peek() > _firstSequence))
            {
                EvictOne();
            }
        }
    }

    private bool TryEvictUntil(long sequence)
    {
        while (_firstSequence < sequence)
        {
            EvictOne();
        }

        return true;
    }

    private void EvictOne()
    {
        var packet = _packets.Dequeue();
        _bytes -= packet.Payload.Length;
        if (_keyframes.Count > 0 && _keyframes.Peek() == _firstSequence)
        {
            _keyframes.Dequeue();
        }

        _firstSequence++;
    }

    /// <summary>The packets from the newest keyframe at or before <paramref name="notAfterDts"/> (or the newest keyframe) on.</summary>
    public List<MediaPacket> SnapshotFromKeyframe(long notAfterDts = long.MaxValue)
    {
        lock (_lock)
        {
            long start = -1;
            foreach (long k in _keyframes)
            {
                var p = _packets.ElementAt((int)(k - _firstSequence));
                if (p.Dts <= notAfterDts || start < 0)
                {
                    start = k;
                }
            }

            return start < 0 ? [] : _packets.Skip((int)(start - _firstSequence)).ToList();
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _firstSequence += _packets.Count;
            _packets.Clear();
            _keyframes.Clear();
            _bytes = 0;
        }
    }
}
