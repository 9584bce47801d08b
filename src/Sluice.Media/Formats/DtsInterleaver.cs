namespace Sluice.Media.Formats;

/// <summary>
/// Puts the packets of several tracks in decode-time order, as they arrive interleaved however their source wrote them
/// (audio ahead of video by a few frames in Matroska, AAC in bursts of several frames a PES in MPEG-TS): a packet is
/// handed on once every track has one waiting (the smallest decode time first), or once it is
/// <see cref="MaxDelay"/> older than the newest packet seen (a track that paused or ended holds nothing up for
/// longer). An output cut by time (segments and parts at the video's keyframes) then gets each track's packets up to
/// the cut, and no more. It takes over the reference of each packet it is given and hands it on with the packet; it
/// allocates only while its queues grow to the interleaving depth.
/// </summary>
public sealed class DtsInterleaver
{
    private readonly Queue<MediaPacket>[] _queues;
    private readonly long[] _last; // each track's newest decode time added
    private long _newest = long.MinValue;
    private int _count;

    public DtsInterleaver(int tracks, long maxDelayTicks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tracks);
        _queues = new Queue<MediaPacket>[tracks];
        _last = new long[tracks];
        Array.Fill(_last, long.MinValue);
        for (int i = 0; i < tracks; i++)
        {
            _queues[i] = new Queue<MediaPacket>();
        }

        MaxDelay = maxDelayTicks;
    }

    /// <summary>How far (90 kHz ticks of decode time) a packet may wait for another track.</summary>
    public long MaxDelay { get; }

    /// <summary>Packets waiting.</summary>
    public int Count => _count;

    /// <summary>Adds a packet (its reference is the interleaver's until <see cref="TryTake"/> hands it on).</summary>
    public void Add(MediaPacket packet)
    {
        _queues[packet.Track].Enqueue(packet);
        _last[packet.Track] = Math.Max(_last[packet.Track], packet.Dts);
        _count++;
        _newest = Math.Max(_newest, packet.Dts);
    }

    /// <summary>The next packet in decode-time order, when it may go: every track has one waiting, or it waited long enough.</summary>
    public bool TryTake(out MediaPacket packet) => TryTake(out packet, flush: false);

    /// <summary>The next packet in decode-time order, waiting for nothing (the source has ended).</summary>
    public bool TryFlush(out MediaPacket packet) => TryTake(out packet, flush: true);

    private bool TryTake(out MediaPacket packet, bool flush)
    {
        packet = default;
        int earliest = -1;
        for (int t = 0; t < _queues.Length; t++)
        {
            if (_queues[t].Count > 0 && (earliest < 0 || _queues[t].Peek().Dts < _queues[earliest].Peek().Dts))
            {
                earliest = t;
            }
        }

        if (earliest < 0)
        {
            return false;
        }

        long dts = _queues[earliest].Peek().Dts;
        bool safe = true;
        for (int t = 0; t < _queues.Length && safe; t++)
        {
            safe = _queues[t].Count > 0 || _last[t] >= dts; // nothing earlier can come from track t
        }

        if (!flush && !safe && _newest - dts <= MaxDelay)
        {
            return false;
        }

        packet = _queues[earliest].Dequeue();
        _count--;
        return true;
    }
}
