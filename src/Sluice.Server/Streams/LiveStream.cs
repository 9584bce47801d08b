using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;

namespace Sluice.Server.Streams;

/// <summary>
/// The output of one configured stream: the feed's packets muxed once into the stream's container, in a
/// ring of chunks every viewer reads. When a publisher comes back with the same tracks, the output goes on
/// (viewers see one continuous stream); when the tracks change, the current output ends and a new one
/// begins (viewers reconnect and get a new header).
/// </summary>
internal sealed partial class LiveStream : IFeedListener
{
    /// <summary>The least a stream keeps for its viewers, whatever the feed's FileMaxSize: how far a slow viewer may fall behind before it skips.</summary>
    public const long MinRingBytes = 4L * 1024 * 1024;

    private readonly ILogger _logger;
    private readonly long _ringBytes;
    private readonly Lock _lock = new();
    private StreamOutput? _output;
    private int[] _trackMap = [];   // feed track index -> output track index, -1 when dropped
    private int _videoTrack = -1;   // feed index of the video track carried, -1 when none
    private bool _waitingForKeyframe = true;
    private long _bytesSent;
    private long _connectionsServed;

    /// <summary>Longest media time an audio chunk waits for a video chunk before viewers are woken anyway.</summary>
    private const long MaxHoldTicks = MediaTime.TicksPerSecond / 10;

    private readonly bool _holdAudioForVideo;
    private readonly MergedWakes? _merged;
    private long _lastWake = long.MinValue;

    /// <param name="holdAudioForVideo">
    /// Wake viewers for video chunks only (and for audio every 100 ms of media time at most): audio then goes out
    /// with the next video frame, which halves the wake-ups and socket writes per viewer of a stream with audio and
    /// video, for at most a frame of added latency on audio.
    /// </param>
    /// <param name="writeInterval">
    /// Merged writes (ViewerWriteInterval): viewers are woken at most once this interval (<see cref="MergedWakes"/>);
    /// zero wakes them for every chunk the rule above lets wake them.
    /// </param>
    /// <param name="time">The clock of the ffmpeg runs of a format ffmpeg writes (their backoff, the ring's times).</param>
    public LiveStream(StreamConfig config, Feed feed, OutputFormat format, ILogger logger, bool holdAudioForVideo = false, TimeProvider? time = null, TimeSpan writeInterval = default)
    {
        _holdAudioForVideo = holdAudioForVideo;
        _muxing = format.MuxedByFfmpeg;
        _time = time ?? TimeProvider.System;
        Config = config;
        Feed = feed;
        Format = format;
        _logger = logger;
        _ringBytes = Math.Max(feed.Config.FileMaxSize, MinRingBytes);
        _merged = writeInterval > TimeSpan.Zero && !format.IsSegmentedOnly && !format.ShownOnArrival && format.MuxedByFfmpeg is null ? new MergedWakes(_time, writeInterval) : null;
        feed.Subscribe(this);
    }

    public StreamConfig Config { get; }

    public Feed Feed { get; }

    public OutputFormat Format { get; }

    public string Name => Config.Name;

    /// <summary>The current output, or null before the feed's first publisher.</summary>
    public StreamOutput? Output { get { lock (_lock) { return _output; } } }

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long ConnectionsServed => Interlocked.Read(ref _connectionsServed);

    public void AddBytesSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    public void CountConnection() => Interlocked.Increment(ref _connectionsServed);

    /// <summary>
    /// The stream's bitrate in kbit/s for MaxBandwidth: its configured codec bitrates, or the feed's measured
    /// bitrate when it configures none.
    /// </summary>
    public long BitRateKbps => Config.ConfiguredBitRate > 0 ? Config.ConfiguredBitRate : (Feed.MeasuredBitRate + 999) / 1000;

    public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues)
    {
        lock (_lock)
        {
            _waitingForKeyframe = true;
            if (_muxing is not null)
            {
                StartFfmpeg(tracks, _muxing);
                return;
            }

            if (continues && _output is not null)
            {
                return;
            }

            var selected = SelectTracks(tracks);
            var previous = _output;
            _output = selected.Count == 0 ? null : new StreamOutput(Format.CreateMuxer(selected, Feed.Buffers), selected, new ChunkRing(_ringBytes));
            previous?.Ring.Complete();
            previous?.Muxer.Dispose(); // its chunks keep their blocks
        }
    }

    public void Observe(in MediaPacket packet)
    {
        // Only the ingest thread calls this; _lock guards against a concurrent session change only.
        if (_muxing is not null)
        {
            if (Admit(packet, out int carried))
            {
                _ffmpegRun?.Offer(packet.AsTrack(carried), FeedSinceKeyframe);
            }

            return;
        }

        // A stream served only as segments (Format hls, dash) has no progressive viewers to mux for.
        var output = _output;
        if (output is null || Format.IsSegmentedOnly || !Admit(packet, out int track))
        {
            return;
        }

        var mapped = packet.AsTrack(track);
        var chunk = output.Muxer.Write(mapped);
        bool wake = !_holdAudioForVideo || _videoTrack < 0 || packet.Track == _videoTrack || _lastWake == long.MinValue || packet.Dts - _lastWake >= MaxHoldTicks;
        if (wake)
        {
            _lastWake = packet.Dts;
            wake = _merged?.ShouldWake(output.Ring, packet.Dts) ?? true;
        }

        output.Ring.Append(chunk, packet.Dts, wake);
    }

    /// <summary>The output track of a packet the stream carries, once the output has begun at a keyframe; false for one it drops.</summary>
    private bool Admit(in MediaPacket packet, out int track)
    {
        track = -1;
        if ((uint)packet.Track >= (uint)_trackMap.Length || _trackMap[packet.Track] < 0)
        {
            return false;
        }

        if (_waitingForKeyframe)
        {
            bool starts = _videoTrack < 0 ? packet.IsKeyframe : packet.Track == _videoTrack && packet.IsKeyframe;
            if (!starts)
            {
                return false;
            }

            _waitingForKeyframe = false;
        }

        track = _trackMap[packet.Track];
        return true;
    }

    /// <summary>
    /// Ends the output for good (the server has stopped, its viewers have gone): the ring lets go of its chunks and the
    /// muxer of its framing block, so that every block they held goes back to the pool. Later packets are dropped.
    /// </summary>
    public void Close()
    {
        _ = StopFfmpegAsync();
        _merged?.Dispose();
        lock (_lock)
        {
            var output = _output;
            _output = null;
            _trackMap = [];
            output?.Ring.Clear();
            output?.Muxer.Dispose();
        }
    }

    /// <summary>
    /// Ends the current output's viewers for good (a file stream played once): they send what the ring holds and their
    /// responses end. The output stays until <see cref="Close"/>, which lets go of its blocks; later packets are dropped.
    /// </summary>
    public void EndOutput()
    {
        lock (_lock)
        {
            _output?.Ring.Complete();
        }
    }

    public void OnSessionEnd()
    {
        lock (_lock)
        {
            _waitingForKeyframe = true;
        }

        // ffmpeg gets the end of its input, writes what it holds and exits; its output then ends.
        _ = StopFfmpegAsync();
    }

    private List<TrackInfo> SelectTracks(IReadOnlyList<TrackInfo> tracks)
    {
        var selection = TrackSelection.Of(tracks, Config, track => Format.CanCarry(track.Codec));
        foreach (var track in selection.Refused)
        {
            LogCannotCarry(_logger, Name, track.ToString(), Format.Name, string.Join(", ", Format.Codecs.Select(CodecIds.FfmpegName)));
        }

        _trackMap = selection.Map;
        _videoTrack = selection.VideoTrack;
        return selection.Selected;
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning,
        Message = "Stream {Stream}: feed track {Track} cannot be carried by Format {Format} (it carries {Codecs}); the track is left out")]
    private static partial void LogCannotCarry(ILogger logger, string stream, string track, string format, string codecs);
}

/// <summary>One continuous output: a muxer, its tracks, and the ring its viewers read.</summary>
internal sealed record StreamOutput(IMuxer Muxer, IReadOnlyList<TrackInfo> Tracks, ChunkRing Ring);
