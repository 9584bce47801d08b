using System.Buffers;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Codecs;
using Sluice.Media.Formats;
using Sluice.Media.Formats.Mp4;
using Sluice.Media.Formats.MpegTs;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Streams;

namespace Sluice.Server.Hls;

/// <summary>
/// Cuts one stream's packets into HLS segments (at keyframes) and, for CMAF, LL-HLS parts, kept in memory: every
/// segment and part is made once, on the ingest thread, and its bytes are shared by every request. Segment numbers
/// keep rising for the life of the server; a publisher that comes back starts a new segment marked as a
/// discontinuity, with a new init segment only when the tracks changed.
/// </summary>
internal sealed partial class HlsSegmenter : IFeedListener
{
    private const long Ticks = MediaTime.TicksPerSecond;

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<HlsSegment> _segments = [];  // complete, oldest first
    private readonly List<MediaPacket> _partPackets = [];
    private List<MediaPacket> _segmentPackets = [];
    private readonly ArrayBufferWriter<byte> _tsBytes = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _version;
    private volatile RenderedPlaylist _playlistCache = new(-1, []);

    private readonly BlockPool _buffers;
    private FragmentedMp4Muxer? _cmaf;
    private MpegTsMuxer? _ts;
    private HlsInit? _init;
    private int _generation;
    private HlsSegment? _open;
    private int[] _trackMap = [];
    private DtsInterleaver _interleaver = new(0, Ticks);
    private int _timingTrack = -1;   // feed index of the track that times parts and segments (video, else audio)
    private bool _hasVideo;
    private bool _waitingForKeyframe = true;
    private bool _discontinuityPending;
    private long _nextSequence;
    private int _discontinuitiesDropped;
    private long _partStart;
    private long _lastTicks = long.MinValue;
    private long _lastStep = Ticks / 25;
    private bool _anchored;
    private DateTimeOffset _anchorWall;
    private long _anchorTicks;
    private readonly PartCadence _cadence;
    private DashOrigin? _dashOrigin; // media time 0 of the first session on the wall clock: DASH's availabilityStartTime

    public HlsSegmenter(StreamConfig config, Feed output, ILogger logger, TimeProvider? time = null)
    {
        Config = config;
        Settings = config.Hls;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Audience = new HlsAudience(_time);
        _cadence = new PartCadence(_time);
        _buffers = output.Buffers;
        output.Subscribe(this);
    }

    public StreamConfig Config { get; }

    /// <summary>Requests and players of this stream's HLS and DASH (the status page).</summary>
    public HlsAudience Audience { get; }

    public HlsSettings Settings { get; }

    public string Name => Config.Name;

    public bool IsCmaf => !Settings.IsTs;

    /// <summary>Why the stream has no HLS right now (no publisher yet, codecs HLS cannot carry), or null.</summary>
    public string? Unavailable { get; private set; } = "no publisher has sent it yet";

    /// <summary>RFC 6381 codecs of the tracks served, e.g. "avc1.64001f,mp4a.40.2".</summary>
    public string Codecs { get; private set; } = "";

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>The highest bitrate of a complete segment (bit/s), for BANDWIDTH.</summary>
    public long PeakBitRate { get; private set; }

    /// <summary>The longest complete segment, for EXT-X-TARGETDURATION.</summary>
    public double MaxSegmentDuration { get; private set; }

    public long SegmentsMade { get; private set; }

    /// <summary>
    /// EXT-X-TARGETDURATION: the longest segment, rounded up, not to nearest as the RFC allows: Chromium's own HLS
    /// refuses a playlist with a segment longer than the target (a 1.02 s segment under TARGETDURATION 1).
    /// </summary>
    public int TargetDuration => Math.Max(1, (int)Math.Ceiling(Math.Max(MaxSegmentDuration, Settings.SegmentDuration) - 0.0005));

    /// <summary>Completes at the next change (a part, a segment, a session).</summary>
    public Task Changed { get { lock (_lock) { return _changed.Task; } } }

    /// <summary>
    /// The media playlist as it is now, rendered once per change and shared by every request until the next (thousands
    /// of players poll or block on it).
    /// </summary>
    public byte[] MediaPlaylist(Func<HlsSnapshot, HlsSegmenter, string> render)
    {
        var cached = _playlistCache;
        if (cached.Version == Interlocked.Read(ref _version))
        {
            return cached.Body; // no snapshot taken: the common case costs a read
        }

        var snapshot = Snapshot();
        byte[] body = System.Text.Encoding.UTF8.GetBytes(render(snapshot, this));
        _playlistCache = new RenderedPlaylist(snapshot.Version, body);
        return body;
    }

    /// <summary>A consistent view of what is listed now.</summary>
    public HlsSnapshot Snapshot()
    {
        lock (_lock)
        {
            int first = Math.Max(0, _segments.Count - Settings.ListSize);
            int dropped = _discontinuitiesDropped;
            for (int i = 0; i < first; i++)
            {
                dropped += _segments[i].Discontinuity ? 1 : 0;
            }

            return new HlsSnapshot(
                [.. _segments.Skip(first)],
                _open,
                _open is null ? [] : [.. _open.Parts],
                dropped,
                TargetDuration,
                _version,
                IsCmaf ? _cadence.HoldBack(Settings.PartDuration, TargetDuration) : 0,
                _dashOrigin);
        }
    }

    /// <summary>A segment still held (listed, or just dropped from the list), or the one being made.</summary>
    public HlsSegment? FindSegment(long sequence)
    {
        lock (_lock)
        {
            if (_open?.Sequence == sequence)
            {
                return _open;
            }

            foreach (var segment in _segments)
            {
                if (segment.Sequence == sequence)
                {
                    return segment;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The complete segment whose fragment of <paramref name="track"/> starts at <paramref name="time"/>, in that
    /// track's timescale (DASH asks by each track's own time); else the one being made, when the time is where it will
    /// start (the end of the newest complete one), since players ask for the next segment as soon as the last is listed.
    /// </summary>
    public HlsSegment? FindSegmentOfTrackAt(int track, long time)
    {
        lock (_lock)
        {
            var writers = _init?.TrackWriters ?? [];
            if ((uint)track >= (uint)writers.Length)
            {
                return null;
            }

            var writer = writers[track];
            foreach (var segment in _segments)
            {
                if (segment.Init?.TrackWriters is { } own && (uint)track < (uint)own.Length
                    && track < segment.TrackSpans.Count && segment.TrackSpans[track].Start is var start and not long.MinValue
                    && own[track].TrackTime(0, start) == time)
                {
                    return segment;
                }
            }

            return _open is not null && _segments.Count > 0 && _segments[^1] is var last && track < last.TrackSpans.Count
                && last.TrackSpans[track].End is var end and not long.MinValue && writer.TrackTime(0, end) == time
                ? _open
                : null;
        }
    }

    public HlsPart? FindPart(long sequence, int index)
    {
        lock (_lock)
        {
            var segment = _open?.Sequence == sequence ? _open : _segments.Find(s => s.Sequence == sequence);
            return segment is not null && index < segment.Parts.Count ? segment.Parts[index] : null;
        }
    }

    /// <summary>One track's fragment of a complete CMAF segment (DASH).</summary>
    public byte[]? FindTrackSegment(long sequence, int track)
    {
        lock (_lock)
        {
            return _segments.Find(s => s.Sequence == sequence)?.TrackData(track);
        }
    }

    public HlsInit? FindInit(int generation)
    {
        lock (_lock)
        {
            if (_init?.Generation == generation)
            {
                return _init;
            }

            return _segments.Find(s => s.Init?.Generation == generation)?.Init;
        }
    }

    /// <summary>The sequence number the next segment to begin will get.</summary>
    public long NextSequence { get { lock (_lock) { return _nextSequence; } } }

    public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues)
    {
        lock (_lock)
        {
            Drain();
            EndSegment();
            _waitingForKeyframe = true;
            _anchored = false;
            _discontinuityPending = _nextSequence > 0;
            if (continues && (_cmaf is not null || _ts is not null))
            {
                return;
            }

            var selected = SelectTracks(tracks);
            DisposeMuxers();
            if (selected.Count == 0)
            {
                Unavailable = $"its tracks ({string.Join(", ", tracks)}) are not ones HLS {(IsCmaf ? "CMAF" : "MPEG-TS")} segments can carry";
                LogUnavailable(_logger, Name, Unavailable);
                return;
            }

            if (IsCmaf)
            {
                _cmaf = new FragmentedMp4Muxer(selected, _buffers);
                var writers = selected.Select(t => new FragmentedMp4Muxer([t with { Index = 0 }], _buffers)).ToArray();
                _init = new HlsInit(++_generation, _cmaf.Header.ToArray(), _time.GetUtcNow(), selected, [.. writers.Select(w => w.Header.ToArray())])
                {
                    TrackWriters = writers,
                };
            }
            else
            {
                _ts = new MpegTsMuxer(selected, _buffers);
            }

            Codecs = string.Join(',', selected.Select(FragmentedMp4Muxer.CodecsParameter));
            var video = selected.FirstOrDefault(t => t.Kind == MediaKind.Video);
            (Width, Height) = (video?.Width ?? 0, video?.Height ?? 0);
            Unavailable = null;
        }
    }

    public void Observe(in MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_trackMap.Length || _trackMap[packet.Track] < 0 || (_cmaf is null && _ts is null))
        {
            return;
        }

        lock (_lock)
        {
            // In decode-time order across the tracks, so that a part or segment cut at a video time holds each track's
            // packets up to that time: the interleaver holds a reference of its own to each packet it keeps waiting.
            var mapped = packet.AsTrack(_trackMap[packet.Track]);
            mapped.Retain();
            _interleaver.Add(mapped);
            while (_interleaver.TryTake(out var next))
            {
                Process(next);
                next.Release();
            }
        }
    }

    /// <summary>Hands every packet still waiting in the interleaver to the segments (the session ends or changes). Call under the lock.</summary>
    private void Drain()
    {
        while (_interleaver.TryFlush(out var next))
        {
            if (_cmaf is not null || _ts is not null)
            {
                Process(next);
            }

            next.Release();
        }
    }

    /// <summary>One packet, in decode-time order, with its output track index. Call under the lock.</summary>
    private void Process(MediaPacket packet)
    {
        bool timing = packet.Track == _trackMap[_timingTrack];
        bool cut = timing && (packet.IsKeyframe || !_hasVideo);
        if (_waitingForKeyframe)
        {
            if (!cut)
            {
                return;
            }

            _waitingForKeyframe = false;
            StartSegment(packet.Dts);
        }
        else if (cut && packet.Dts - _open!.StartTicks >= (long)((Settings.SegmentDuration - 0.05) * Ticks))
        {
            EndSegment(packet.Dts);
            StartSegment(packet.Dts);
        }
        else if (timing && IsCmaf && _partPackets.Count > 0 && packet.Dts + _lastStep - _partStart > (long)(Settings.PartDuration * Ticks))
        {
            // Cut before the frame that would make the part longer than its target (parts must not exceed it).
            EndPart(packet.Dts);
        }

        if (timing)
        {
            if (_lastTicks != long.MinValue && packet.Dts > _lastTicks)
            {
                _lastStep = Math.Min(packet.Dts - _lastTicks, Ticks);
            }

            _lastTicks = packet.Dts;
        }

        if (_cmaf is not null)
        {
            // The segment keeps its packets (for its one-track DASH forms) until it is dropped: one reference.
            packet.Retain();
            _partPackets.Add(packet);
            _segmentPackets.Add(packet);
        }
        else
        {
            var chunk = _ts!.Write(packet);
            _tsBytes.Write(chunk.Prefix.Span);
            _tsBytes.Write(chunk.Payload.Span);
            chunk.Release(); // copied: its slab block can be lent again
        }
    }

    /// <summary>
    /// Ends the segmenter for good (the server has stopped): every segment lets go of its packets and the muxers of
    /// their framing blocks, so that every block they held goes back to the pool. Later packets are dropped.
    /// </summary>
    public void Close()
    {
        lock (_lock)
        {
            while (_interleaver.TryFlush(out var waiting))
            {
                waiting.Release();
            }

            foreach (var packet in _segmentPackets)
            {
                packet.Release(); // the open segment's: _partPackets shares their references
            }

            _segmentPackets = [];
            _partPackets.Clear();
            _open = null;
            foreach (var segment in _segments)
            {
                segment.ReleasePackets();
            }

            _segments.Clear();
            DisposeMuxers();
            _trackMap = [];
        }
    }

    private void DisposeMuxers()
    {
        _cmaf?.Dispose();
        _cmaf = null;
        _ts?.Dispose();
        _ts = null;
        foreach (var writer in _init?.TrackWriters ?? [])
        {
            writer.Dispose();
        }

        _init = null;
    }

    public void OnSessionEnd()
    {
        lock (_lock)
        {
            Drain();
            // The open segment stays open, with what it has as parts, until a publisher comes back (it ends there and
            // the next begins with a discontinuity): players waiting on the live edge see the same playlist meanwhile,
            // and no segment is listed that their own view of the edge did not expect.
            // That last part comes when the session's end is seen, not after the part before it: no gap of the source.
            EndPart(_lastTicks == long.MinValue ? _partStart + _lastStep : _lastTicks + _lastStep, onTime: false);
            _cadence.OnSessionEnd();
            _waitingForKeyframe = true;
        }
    }

    private void StartSegment(long start)
    {
        var now = _time.GetUtcNow();
        if (!_anchored)
        {
            // Each publisher session is placed on the wall clock when its first segment begins.
            _anchored = true;
            _anchorWall = now;
            _anchorTicks = start;
        }

        var pdt = _anchorWall + TimeSpan.FromSeconds((start - _anchorTicks) / (double)Ticks);
        if (_segments.Count > 0 && _segments[^1] is var last && pdt < last.ProgramDateTime + TimeSpan.FromSeconds(last.Duration))
        {
            pdt = last.ProgramDateTime + TimeSpan.FromSeconds(last.Duration);
        }

        _open = new HlsSegment(_nextSequence++, _init, _discontinuityPending, pdt, start, _anchorTicks);
        _discontinuityPending = false;
        _partStart = start;
        if (_ts is not null)
        {
            _tsBytes.ResetWrittenCount();
            _tsBytes.Write(_ts.Header.Span);
        }

        Signal();
    }

    /// <summary>Completes the open segment at <paramref name="end"/>, or a frame after the last packet when the feed stopped.</summary>
    private void EndSegment(long? end = null)
    {
        if (_open is not { } segment)
        {
            return;
        }

        long endTicks = end ?? (_lastTicks == long.MinValue ? segment.StartTicks + _lastStep : _lastTicks + _lastStep);
        EndPart(endTicks);
        byte[] data;
        if (_cmaf is not null)
        {
            data = new byte[segment.Parts.Sum(p => p.Data.Length)];
            int at = 0;
            foreach (var part in segment.Parts)
            {
                part.Data.CopyTo(data, at);
                at += part.Data.Length;
            }
        }
        else
        {
            data = _tsBytes.WrittenSpan.ToArray();
            _tsBytes.ResetWrittenCount();
        }

        double duration = Math.Max(endTicks - segment.StartTicks, 1) / (double)Ticks;
        segment.Complete(data, duration, _time.GetUtcNow(), _segmentPackets, TrackSpans(_segmentPackets, endTicks));
        if (_dashOrigin is null && _cmaf is not null && segment.MediaOrigin() is { } origin)
        {
            _dashOrigin = new DashOrigin(origin, segment.SessionTicks);
        }
        _segmentPackets = [];
        _segments.Add(segment);
        _open = null;
        SegmentsMade++;
        MaxSegmentDuration = Math.Max(MaxSegmentDuration, duration);
        PeakBitRate = Math.Max(PeakBitRate, (long)(data.Length * 8 / duration));
        // Keep what is listed and a few more for players that fetch a segment just dropped from the list.
        while (_segments.Count > Settings.ListSize + 4)
        {
            _discontinuitiesDropped += _segments[0].Discontinuity ? 1 : 0;
            _segments[0].ReleasePackets(); // no request can reach it any more: every lookup is under this lock
            _segments.RemoveAt(0);
        }

        Signal();
    }

    /// <summary>Each output track's start and end in a segment's packets (see <see cref="HlsSegment.TrackSpans"/>).</summary>
    private (long Start, long End)[] TrackSpans(List<MediaPacket> packets, long end)
    {
        var tracks = _init?.Tracks ?? [];
        var spans = new (long Start, long End)[tracks.Count];
        Array.Fill(spans, (long.MinValue, long.MinValue));
        var last = new MediaPacket[tracks.Count];
        foreach (var packet in packets)
        {
            if ((uint)packet.Track >= (uint)spans.Length)
            {
                continue;
            }

            if (spans[packet.Track].Start == long.MinValue)
            {
                spans[packet.Track].Start = packet.Dts;
            }

            last[packet.Track] = packet; // decode order: the track's last packet ends it
        }

        // Only each track's last packet's length counts (read once, not for every packet).
        for (int t = 0; t < spans.Length; t++)
        {
            if (spans[t].Start != long.MinValue)
            {
                var packet = last[t];
                long length = packet.Duration > 0 ? packet.Duration
                    : AudioTimeline.SamplesOf(tracks[t], packet.Payload.Span, out int rate) is > 0 and var samples
                        ? (long)Math.Round(samples * (double)Ticks / rate)
                        : 0;
                spans[t].End = packet.Dts + length;
            }
        }

        if (_timingTrack >= 0 && _trackMap[_timingTrack] is >= 0 and var timing && timing < spans.Length && spans[timing].Start != long.MinValue)
        {
            spans[timing].End = end;
        }

        return spans;
    }

    /// <param name="onTime">False for a part ended by the session's end: its time says nothing of the source's cadence.</param>
    private void EndPart(long end, bool onTime = true)
    {
        if (_cmaf is null || _partPackets.Count == 0 || _open is not { } segment)
        {
            _partPackets.Clear();
            return;
        }

        bool independent = !_hasVideo || (_partPackets.Find(p => p.Track == _trackMap[_timingTrack]) is { IsKeyframe: true });
        var data = _cmaf.WriteFragment(_partPackets, end);
        foreach (var writer in _init?.TrackWriters ?? [])
        {
            writer.StartTimeAt(_cmaf.TimeOffset); // DASH's one-track fragments on the same media time line
        }

        segment.AddPart(new HlsPart(segment.Sequence, segment.Parts.Count, data, Math.Max(end - _partStart, 1) / (double)Ticks, independent, _time.GetUtcNow()));
        if (onTime)
        {
            _cadence.OnPart();
        }
        _partPackets.Clear();
        _partStart = end;
        Signal();
    }

    private void Signal()
    {
        Interlocked.Increment(ref _version);
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private List<TrackInfo> SelectTracks(IReadOnlyList<TrackInfo> tracks)
    {
        var container = IsCmaf ? OutputFormat.Mp4 : OutputFormat.MpegTs;
        // The segment's container must carry the codec, and HLS or DASH players must play it: MPEG-TS and MP4 also
        // carry MPEG-4 Part 2 and MPEG-1/2 video, which no HLS or DASH player takes.
        var selection = TrackSelection.Of(tracks, Config, track => container.CanCarry(track.Codec)
            && (OutputFormat.Hls.CanCarry(track.Codec) || OutputFormat.Dash.CanCarry(track.Codec))
            && (!IsCmaf || FragmentedMp4Muxer.Refusal(track) is null));
        _trackMap = selection.Map;
        _interleaver = new DtsInterleaver(selection.Selected.Count, Ticks); // a track may hold the others up for a second at most
        _hasVideo = selection.VideoTrack >= 0;
        _timingTrack = _hasVideo ? selection.VideoTrack : selection.AudioTrack;
        // A stream without its picture (or sound) is not the stream: no HLS rather than half of it.
        return selection.Refused.Count > 0 ? [] : selection.Selected;
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Stream {Stream}: no HLS or DASH: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string stream, string reason);
}

internal sealed record RenderedPlaylist(long Version, byte[] Body);

/// <summary>
/// What a playlist lists at one moment: complete segments, the segment being made and its parts so far, and the
/// PART-HOLD-BACK the source's recent cadence of parts calls for (<see cref="PartCadence"/>; 0 without parts), and
/// the wall clock of the first publisher session's media time 0 (<see cref="HlsSegment.MediaOrigin"/>; null before
/// the first CMAF segment is complete), which DASH keeps as its availabilityStartTime for the server's life.
/// </summary>
internal sealed record HlsSnapshot(
    IReadOnlyList<HlsSegment> Segments,
    HlsSegment? Open,
    IReadOnlyList<HlsPart> OpenParts,
    int DiscontinuitySequence,
    int TargetDuration,
    long Version,
    double PartHoldBack,
    DashOrigin? DashOrigin);

/// <summary>The wall clock of the first publisher session's media time 0, and that session (its <see cref="HlsSegment.SessionTicks"/>).</summary>
internal sealed record DashOrigin(DateTimeOffset Wall, long SessionTicks);
