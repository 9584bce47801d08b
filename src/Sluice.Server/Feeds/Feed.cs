using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Media.Buffers;
using Sluice.Server.Configuration;

namespace Sluice.Server.Feeds;

/// <summary>
/// A live feed: written by one publisher at a time, read by every stream of it. Packet times are made
/// continuous across publisher sessions, so a viewer that stays connected while the publisher drops
/// and comes back sees one timeline.
/// </summary>
internal sealed partial class Feed
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PacketRing _ring;
    private readonly Lock _publisherLock = new();
    private ImmutableArray<IFeedListener> _listeners = [];

    private Publisher? _publisher;
    private ImmutableArray<TrackInfo> _tracks = [];
    private long _offset;           // added to every packet time of the current session
    private long _sessionFirstDts = long.MinValue;
    private long _lastDts = long.MinValue; // output time line
    private long _lastDuration;
    private long[] _trackLastDts = [];       // output time of each track's newest packet
    private long[] _trackInterval = [];      // and the interval before it (a frame's duration, about)
    private bool[] _trackSeenInSession = [];
    private readonly List<MediaPacket> _held = []; // a returning publisher's first packets, until its offset is known
    private bool _holding;
    private int _heldTrackCount; // tracks with a held packet (marked in _trackSeenInSession)
    private long _heldFirst, _heldLast;
    private int _videoTrack = -1;
    private readonly ExactTimes _exact = new(); // the exact times of a millisecond container's audio and video

    // bitrate measurement over windows of 2 s or more, the first from the feed's first packet on
    private bool _measuring;
    private long _windowStartTicks;
    private long _windowBytes;
    private long _measuredBitsPerSecond;

    public Feed(FeedConfig config, ILogger logger, TimeProvider? time = null, BlockPool? buffers = null, FeedFile? file = null)
    {
        Config = config;
        _logger = logger;
        _time = time ?? TimeProvider.System;

        // With a file, memory holds the newest GOPs only and older packets are read from the file; without one,
        // FileMaxSize bounds the ring, as it bounded ffserver's feed.
        _ring = new PacketRing(file is null ? config.FileMaxSize : Math.Min(config.FileMaxSize, FeedFile.MemoryBudget), file?.ReopenedFeedSequence ?? 0);
        Buffers = buffers ?? BlockPool.Shared;
        File = file;
        if (file is not null)
        {
            // A reopened file's packets stay on the feed's time line: the next publisher's come after them.
            _lastDts = file.ReopenedLastDts ?? long.MinValue;
            _feedSequence = file.ReopenedFeedSequence;
        }
    }

    /// <summary>The feed's file on disk (File, ReadOnlyFile), or null when the feed is kept in memory only.</summary>
    public FeedFile? File { get; }

    private long _feedSequence; // the number of each packet on the feed's time line, the feed file's and the ring's too

    public FeedConfig Config { get; }

    /// <summary>The pool the demuxers of its publishers and the muxers of its readers take their blocks from (the server's).</summary>
    public BlockPool Buffers { get; }

    public string Name => Config.Name;

    /// <summary>The tracks of the current (or last) publisher; empty before the first.</summary>
    public ImmutableArray<TrackInfo> Tracks => _tracks;

    public Publisher? CurrentPublisher => _publisher;

    /// <summary>
    /// Why no packets will come for now though the source is live (a stream's encoder fails every time it starts),
    /// for the viewers that wait; null otherwise.
    /// </summary>
    public string? Unavailable
    {
        get => Volatile.Read(ref _unavailable);
        set => Volatile.Write(ref _unavailable, value);
    }

    private string? _unavailable;

    public long PacketsReceived { get; private set; }

    public long BytesReceived => _publisher?.BytesReceived ?? 0;

    /// <summary>Measured payload bitrate of the feed in bit/s (over the last few seconds).</summary>
    public long MeasuredBitRate => Interlocked.Read(ref _measuredBitsPerSecond);

    public long RingBytes => _ring.Bytes;

    /// <summary>The packets from the newest keyframe on (call on the ingest thread to get a consistent view).</summary>
    internal List<MediaPacket> SnapshotFromKeyframe() => _ring.SnapshotFromKeyframe();

    /// <summary>
    /// The packets from feed sequence number <paramref name="sequence"/> on (<see cref="FeedFileReader.NextFeedSequence"/>
    /// of a reader that caught up with the file), or null when memory no longer holds it; lent as the snapshot above.
    /// </summary>
    internal List<MediaPacket>? SnapshotFromSequence(long sequence) => _ring.SnapshotFromSequence(sequence);

    /// <summary>Lets go of the packets the feed keeps for new viewers (the server has stopped; their blocks go back to the pool).</summary>
    internal void ReleaseBuffers() => _ring.Clear();

    public void Subscribe(IFeedListener listener) => ImmutableInterlocked.Update(ref _listeners, l => l.Add(listener));

    /// <summary>Claims the feed for a publisher; null when another one holds it.</summary>
    private string? _launchToken;

    /// <summary>
    /// A fresh single-use key for the feeder the server launches, in place of the PublishKey on its command line
    /// (which every local user can read in /proc): good for one publish, and replaced at the feeder's next start.
    /// </summary>
    public string IssueLaunchToken()
    {
        string token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        Volatile.Write(ref _launchToken, token);
        return token;
    }

    /// <summary>The launched feeder has gone: its token, if still unused, is no good any more.</summary>
    public void RevokeLaunchToken() => Volatile.Write(ref _launchToken, null);

    /// <summary>Whether <paramref name="given"/> is the launched feeder's token; it is spent by this call when it is.</summary>
    public bool TryUseLaunchToken(string? given)
    {
        string? token = Volatile.Read(ref _launchToken);
        return token is not null && Ingest.PublishKeys.Match(token, given) && Interlocked.CompareExchange(ref _launchToken, null, token) == token;
    }

    public Publisher? TryAcquire(IPAddress remote, string via)
    {
        lock (_publisherLock)
        {
            if (_publisher is not null)
            {
                return null;
            }

            _publisher = new Publisher(this, remote, via, _time.GetUtcNow());
            return _publisher;
        }
    }

    internal void Release(Publisher publisher)
    {
        lock (_publisherLock)
        {
            if (_publisher != publisher)
            {
                return;
            }

            if (publisher.HasSession)
            {
                Settle();
                foreach (var listener in _listeners)
                {
                    listener.OnSessionEnd();
                }
            }

            _publisher = null;
        }
    }

    internal void StartSession(IReadOnlyList<TrackInfo> tracks)
    {
        Settle(); // what a session before these tracks left held goes out on its own time line first
        bool continues = _tracks.Length == tracks.Count && _tracks.Zip(tracks).All(p => p.First.IsCompatibleWith(p.Second));
        _tracks = [.. tracks];
        _videoTrack = tracks.FirstOrDefault(t => t.Kind == MediaKind.Video)?.Index ?? -1;
        _sessionFirstDts = long.MinValue;
        _trackSeenInSession = new bool[tracks.Count];
        _holding = _lastDts != long.MinValue && tracks.Count > 1; // a returning publisher with more than one track
        _measuring = false; // the session's first packet opens its first window: no window spans a time with no publisher
        _windowBytes = 0;
        _heldTrackCount = 0;
        _exact.OnTracks(tracks);
        if (!continues)
        {
            _ring.Clear();
            _trackLastDts = Enumerable.Repeat(long.MinValue, tracks.Count).ToArray();
            _trackInterval = new long[tracks.Count];
        }

        File?.OnSession(tracks, Config.Truncate);
        LogSession(_logger, Name, string.Join(", ", tracks), continues);
        foreach (var listener in _listeners)
        {
            listener.OnSessionStart(tracks, continues);
        }
    }

    /// <summary>Longest span of decode time a returning publisher's first packets are held for a track that has not come.</summary>
    private static readonly long MaxHoldTicks = MediaTime.TicksPerSecond;

    /// <summary>Most packets held (a track that never comes must not hold the rest for long).</summary>
    private const int MaxHeld = 512;

    /// <summary>
    /// Takes a packet of the current session (and the publisher's reference to its payload). A returning publisher's
    /// first packets are held until every track has one (at most <see cref="MaxHoldTicks"/> of decode time or
    /// <see cref="MaxHeld"/> packets): the session's offset is then the least that puts each track after its own last
    /// packet of the session before, so that no track's times jump inside the new session (its audio often comes a
    /// little before or after its first picture, in either order).
    /// </summary>
    internal void Write(MediaPacket packet)
    {
        if (!_holding)
        {
            WriteOnTimeLine(packet);
            return;
        }

        _held.Add(packet);
        _heldFirst = _held.Count == 1 ? packet.Dts : Math.Min(_heldFirst, packet.Dts);
        _heldLast = _held.Count == 1 ? packet.Dts : Math.Max(_heldLast, packet.Dts);
        if ((uint)packet.Track < (uint)_trackSeenInSession.Length && !_trackSeenInSession[packet.Track])
        {
            _trackSeenInSession[packet.Track] = true;
            _heldTrackCount++;
        }

        if (_heldTrackCount >= _trackSeenInSession.Length || _heldLast - _heldFirst >= MaxHoldTicks || _held.Count >= MaxHeld)
        {
            Settle();
        }
    }

    /// <summary>Places the held first packets of a returning publisher on the time line and writes them, in the order they came.</summary>
    private void Settle()
    {
        if (!_holding)
        {
            return;
        }

        _holding = false;
        if (_held.Count == 0)
        {
            return;
        }

        long first = _heldFirst;
        long offset = _lastDts + Math.Max(_lastDuration, MediaTime.TicksPerMillisecond) - first;
        for (int t = 0; t < _trackSeenInSession.Length; t++)
        {
            int index = _trackSeenInSession[t] ? _held.FindIndex(p => p.Track == t) : -1;
            if (index < 0)
            {
                continue;
            }

            long trackLast = t < _trackLastDts.Length ? _trackLastDts[t] : long.MinValue;
            if (trackLast != long.MinValue)
            {
                offset = Math.Max(offset, trackLast + Math.Max(_trackInterval[t], MediaTime.TicksPerMillisecond) - _held[index].Dts);
            }
        }

        _sessionFirstDts = first;
        _offset = offset;
        foreach (var held in _held)
        {
            WriteOnTimeLine(held);
        }

        _held.Clear();
    }

    private void WriteOnTimeLine(MediaPacket packet)
    {
        if (_sessionFirstDts == long.MinValue)
        {
            // First packet of a session: place it right after the previous session's last packet.
            _sessionFirstDts = packet.Dts;
            _offset = _lastDts == long.MinValue ? 0 : _lastDts + Math.Max(_lastDuration, MediaTime.TicksPerMillisecond) - packet.Dts;
        }

        if ((uint)packet.Track < (uint)_trackSeenInSession.Length && !_trackSeenInSession[packet.Track])
        {
            // A track's first packet of a session must come a frame after that track's last one: the session's
            // first packet may belong to another track that starts a little later, so raise the offset if needed.
            _trackSeenInSession[packet.Track] = true;
            long last = _trackLastDts[packet.Track];
            long next = last + Math.Max(_trackInterval[packet.Track], MediaTime.TicksPerMillisecond);
            if (last != long.MinValue && packet.Dts + _offset < next)
            {
                _offset = next - packet.Dts;
            }
        }

        // On the feed's own time line first, then exact: an offset that is no whole number of samples would otherwise
        // round the exact times unevenly in an output at the audio's sample rate.
        var shifted = _exact.Apply(packet.Shifted(_offset));
        if ((uint)packet.Track < (uint)_trackLastDts.Length && shifted.Dts > _trackLastDts[packet.Track])
        {
            long previous = _trackLastDts[packet.Track];
            if (previous != long.MinValue)
            {
                _trackInterval[packet.Track] = Math.Min(shifted.Dts - previous, MediaTime.TicksPerSecond);
            }

            _trackLastDts[packet.Track] = shifted.Dts;
        }

        if (shifted.Dts > _lastDts)
        {
            _lastDuration = _lastDts == long.MinValue ? 0 : Math.Min(shifted.Dts - _lastDts, MediaTime.TicksPerSecond);
            _lastDts = shifted.Dts;
        }

        PacketsReceived++;
        bool indexed = packet.IsKeyframe && (_videoTrack < 0 || packet.Track == _videoTrack);
        File?.Enqueue(in shifted, indexed, _feedSequence++); // retains the payload for its writer; never waits on the disk
        _ring.Add(shifted, indexed); // the ring takes the publisher's reference to the payload; listeners borrow it
        Measure(packet.Payload.Length);

        foreach (var listener in _listeners)
        {
            try
            {
                listener.Observe(in shifted);
            }
            catch (Exception ex)
            {
                // A fault in one output (a muxer, a segmenter) must not cost the publisher or the other outputs.
                LogListenerFailed(_logger, Name, listener.GetType().Name, ex);
            }
        }
    }

    private void Measure(int bytes)
    {
        long now = _time.GetTimestamp();
        if (!_measuring)
        {
            // The first packet opens the first window; a window counts the bytes that come after its start.
            _measuring = true;
            _windowStartTicks = now;
            return;
        }

        _windowBytes += bytes;
        var elapsed = _time.GetElapsedTime(_windowStartTicks, now);
        if (elapsed >= TimeSpan.FromSeconds(2))
        {
            Interlocked.Exchange(ref _measuredBitsPerSecond, (long)(_windowBytes * 8 / elapsed.TotalSeconds));
            _windowBytes = 0;
            _windowStartTicks = now;
        }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Feed {Feed}: {Listener} failed on a packet")]
    private static partial void LogListenerFailed(ILogger logger, string feed, string listener, Exception ex);

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Feed {Feed}: tracks {Tracks}{Continues}")]
    private static partial void LogSessionCore(ILogger logger, string feed, string tracks, string continues);

    private static void LogSession(ILogger logger, string feed, string tracks, bool continues) =>
        LogSessionCore(logger, feed, tracks, continues ? " (same as before: viewers continue)" : "");
}

/// <summary>The one publisher a feed has at a time.</summary>
internal sealed class Publisher : IPacketSink, IDisposable
{
    private readonly Feed _feed;
    private long _bytes;

    internal Publisher(Feed feed, IPAddress remote, string via, DateTimeOffset since)
    {
        _feed = feed;
        Remote = remote;
        Via = via;
        Since = since;
    }

    public IPAddress Remote { get; }

    /// <summary>How it publishes: "HTTP POST", "HTTP PUT", "launch", ...</summary>
    public string Via { get; }

    public DateTimeOffset Since { get; }

    public string? Format { get; internal set; }

    public long BytesReceived => Interlocked.Read(ref _bytes);

    internal bool HasSession { get; private set; }

    public void AddBytes(long count) => Interlocked.Add(ref _bytes, count);

    public void OnTracks(IReadOnlyList<TrackInfo> tracks)
    {
        HasSession = true;
        _feed.StartSession(tracks);
    }

    public void Accept(MediaPacket packet) => _feed.Write(packet);

    public void Dispose() => _feed.Release(this);
}
