using System.Net;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Server.Feeds;
using Sluice.Server.Processes;
using Sluice.Server.Streams;

namespace Sluice.Server.Sources;

/// <summary>
/// A file played as a live source (ffserver's re-streaming of a <c>&lt;Stream&gt;</c> with <c>File</c> and no Feed):
/// the file is read once a pass and its packets are published into a feed of the stream's own at real time, each when
/// the server's clock reaches its decode time, so that every output of the feed (the stream's muxer, HLS and DASH,
/// RTMP, an encoder) serves it as it serves a publisher. One source a stream, shared by all its viewers, from the
/// server's start: ffserver opened the file once per viewer, which costs a reader (and an encoder) per viewer and
/// gives each a different time line; one source costs one reader whatever the audience, and every viewer, HLS player
/// and encoder sees the same packets at the same times, as with a live feed.
/// <para>
/// Looping (the default): at the end of the file the next pass follows in the same publisher session, every time
/// offset by the length of a pass (the longest track's span, its last packet's duration included), so the
/// feed's time line goes on continuous and increasing and viewers play on without reconnecting. With NoLoop the
/// session ends after one pass and <c>ended</c> is told, which ends the stream's viewers' responses.
/// </para>
/// <para>
/// Runs on its own task under a <see cref="Supervisor"/>: the file is read between waits on the server's clock (a
/// piece or a packet at a time, from the page cache in the usual case), never on a socket thread. A damaged file is
/// logged once with the format's message and byte offset, and the source stops; a file that cannot be opened any
/// more (removed, permissions changed) is retried with the supervisor's backoff and logged once until it changes.
/// </para>
/// </summary>
internal sealed partial class FileSource
{
    /// <summary>The waits between attempts to open a file that could not be read.</summary>
    public static readonly Backoff Retry = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));

    private readonly string _stream;
    private readonly Func<IFileReader> _open;
    private readonly Feed _feed;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<string>? _ended;
    private readonly Lock _lock = new();
    private Supervisor _supervisor;   // the current run's (a supervisor runs once: an OnDemand source makes one a start)
    private bool _wanted;             // started and not asked to stop (by the last viewer's leaving, or the server)
    private bool _finished;           // ended for good: NoLoop's pass, a damaged file, the server stopping
    private Demand? _demand;
    private string? _lastFailure;

    /// <param name="stream">The stream's name, for the log.</param>
    /// <param name="path">The file, for the log and the status page.</param>
    /// <param name="open">Opens the file for one pass.</param>
    /// <param name="loop">Whether a pass follows the last one (not NoLoop).</param>
    /// <param name="feed">The stream's own feed, which the source publishes into.</param>
    /// <param name="time">The server's clock: the pacing and the retries.</param>
    /// <param name="ended">Told with the reason when the source ends for good (NoLoop's one pass, a damaged file).</param>
    public FileSource(string stream, string path, Func<IFileReader> open, bool loop, Feed feed, TimeProvider time, ILogger logger, Action<string>? ended = null)
    {
        _stream = stream;
        Path = path;
        _open = open;
        Loop = loop;
        _feed = feed;
        _time = time;
        _logger = logger;
        _ended = ended;
        _supervisor = NewSupervisor();
    }

    /// <summary>
    /// OnDemand: the source runs only while the stream has viewers (progressive ones and RTMP players, as an OnDemand
    /// encoder), started by the first and stopped this long after the last leaves; each start plays the file from its
    /// beginning, its times going on after the last run's. Null: it runs from the server's start.
    /// </summary>
    public TimeSpan? OnDemand
    {
        get => _onDemand;
        init
        {
            _onDemand = value;
            _demand = value is null ? null : new Demand(value, _time, StartWatched, StopUnwatchedAsync);
        }
    }

    private readonly TimeSpan? _onDemand;

    public string Path { get; }

    public bool Loop { get; }

    /// <summary>Passes begun since the start (the first is 1).</summary>
    public int Passes => Volatile.Read(ref _passes);

    private int _passes;

    /// <summary>Completes when the current run has stopped (for a source that is not OnDemand: for good).</summary>
    public Task Stopped { get { lock (_lock) { return _supervisor.Stopped; } } }

    /// <summary>Whether the source is running or about to (false before an OnDemand source's first viewer, and after the end).</summary>
    public bool Running { get { lock (_lock) { return _wanted; } } }

    /// <summary>The server has started: a source that is not OnDemand starts now.</summary>
    public void Start()
    {
        if (OnDemand is null)
        {
            Run();
        }
    }

    /// <summary>The server is stopping: the source stops for good; completes when it has.</summary>
    public Task StopAsync()
    {
        _demand?.Close();
        lock (_lock)
        {
            _finished = true;
            _wanted = false;
            return _supervisor.StopAsync();
        }
    }

    /// <summary>A viewer of the stream came (an OnDemand source starts with the first); dispose the result when it leaves.</summary>
    public IDisposable? Watch() => _demand?.Watch();

    private void StartWatched()
    {
        lock (_lock)
        {
            if (!_wanted && !_finished)
            {
                LogOnDemand(_logger, _stream, "a viewer came: playing the file");
                Run();
            }
        }
    }

    private Task StopUnwatchedAsync(TimeSpan after)
    {
        lock (_lock)
        {
            if (!_wanted)
            {
                return Task.CompletedTask;
            }

            _wanted = false;
            LogOnDemand(_logger, _stream, $"no viewer for {after.TotalSeconds:0.#} s: stopping");
            return _supervisor.StopAsync();
        }
    }

    /// <summary>Starts a run under a supervisor of its own once the one before has stopped (its publisher has gone).</summary>
    private void Run()
    {
        lock (_lock)
        {
            _wanted = true;
            var previous = _supervisor;
            if (previous.State == SupervisorState.Idle)
            {
                previous.Start();
                return;
            }

            var next = _supervisor = NewSupervisor();
            _ = previous.Stopped.ContinueWith(_ => next.Start(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private Supervisor NewSupervisor() => new(RunAsync, Retry, _time, OnExit);

    /// <summary>Ends the source for good from its own run (NoLoop's pass, a damaged file): the loop ends when the run returns.</summary>
    private void Finish()
    {
        lock (_lock)
        {
            _finished = true;
            _wanted = false;
            _ = _supervisor.StopAsync();
        }
    }

    /// <summary>One publisher session: the passes over the file, paced at real time; 0 when it ended for good.</summary>
    private async Task<int?> RunAsync(CancellationToken stop)
    {
        var publisher = _feed.TryAcquire(IPAddress.Loopback, $"file {Path}")
            ?? throw new InvalidOperationException($"the feed of stream {_stream} has another publisher");
        try
        {
            await PlayAsync(publisher, stop).ConfigureAwait(false);
        }
        finally
        {
            publisher.Dispose(); // the session ends before the stream is told
        }

        LogPlayedOnce(_logger, _stream, Path);
        _ended?.Invoke($"its file {System.IO.Path.GetFileName(Path)} has been played to its end (NoLoop)");
        Finish();
        return 0;
    }

    /// <summary>Publishes the file pass after pass (once with NoLoop); returns after the last one.</summary>
    private async Task PlayAsync(Publisher publisher, CancellationToken stop)
    {
        var pacer = new Pacer(_time);
        long offset = long.MinValue; // the first pass starts at 0: a file's first decode time may be below it (B-frames)
        IReadOnlyList<TrackInfo>? tracks = null;
        while (true)
        {
            Interlocked.Increment(ref _passes);
            var pass = new PassLength();
            using (var reader = _open())
            {
                if (tracks is null || !SameTracks(tracks, reader.Tracks))
                {
                    tracks = reader.Tracks;
                    publisher.Format = reader.FormatName;
                    publisher.OnTracks(tracks);
                    LogPlaying(_logger, _stream, Path, reader.FormatName, string.Join(", ", tracks));
                }

                while (reader.TryReadPacket(out var packet))
                {
                    offset = offset == long.MinValue ? -packet.Dts : offset;
                    pass.Add(packet);
                    var shifted = packet.Shifted(offset);
                    try
                    {
                        await pacer.WaitForAsync(shifted.Dts, stop).ConfigureAwait(false);
                    }
                    catch
                    {
                        packet.Release();
                        throw;
                    }

                    publisher.AddBytes(packet.Payload.Length);
                    publisher.Accept(shifted);
                }
            }

            if (pass.Length <= 0)
            {
                throw new MediaFormatException(publisher.Format ?? "file", 0, "the file has no packet to play");
            }

            _lastFailure = null; // a whole pass read: a later failure is news
            if (!Loop)
            {
                return;
            }

            offset += pass.Length;
        }
    }

    private void OnExit(SupervisedExit exit)
    {
        if (exit.Error is MediaFormatException damaged)
        {
            LogDamaged(_logger, _stream, Path, damaged.Message);
            _ended?.Invoke($"its file is damaged: {damaged.Message}");
            Finish();
            return;
        }

        if (exit.Error is { } error && error.Message != _lastFailure)
        {
            _lastFailure = error.Message;
            LogUnreadable(_logger, _stream, Path, error.Message, exit.Wait.TotalSeconds);
        }
    }

    private static bool SameTracks(IReadOnlyList<TrackInfo> a, IReadOnlyList<TrackInfo> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.IsCompatibleWith(p.Second));

    [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "Stream {Stream}: playing the file {Path} ({Format}: {Tracks})")]
    private static partial void LogPlaying(ILogger logger, string stream, string path, string format, string tracks);

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "Stream {Stream}: the file {Path} has been played once (NoLoop): the stream has ended")]
    private static partial void LogPlayedOnce(ILogger logger, string stream, string path);

    [LoggerMessage(EventId = 802, Level = LogLevel.Error, Message = "Stream {Stream}: the file {Path} is damaged, the stream has stopped: {Reason}")]
    private static partial void LogDamaged(ILogger logger, string stream, string path, string reason);

    [LoggerMessage(EventId = 804, Level = LogLevel.Information, Message = "Stream {Stream} (OnDemand): {What}")]
    private static partial void LogOnDemand(ILogger logger, string stream, string what);

    [LoggerMessage(EventId = 803, Level = LogLevel.Error, Message = "Stream {Stream}: the file {Path} cannot be read ({Reason}); trying again in {Seconds} s")]
    private static partial void LogUnreadable(ILogger logger, string stream, string path, string reason, double seconds);
}

/// <summary>
/// Releases packets at real time: the first packet's decode time is now on the clock, and each later one waits until
/// the clock has gone as far past that as its decode time has (never before). A packet a little late (a slow read)
/// goes at once and the schedule stays, so that lateness does not drift the stream; one more than
/// <see cref="MaxLateness"/> late (the process was stalled, the clock jumped) starts the schedule again from it, rather
/// than send the seconds missed in one burst that would overrun every viewer's buffer.
/// </summary>
internal sealed class Pacer(TimeProvider time)
{
    public static readonly TimeSpan MaxLateness = TimeSpan.FromSeconds(1);

    private long _originTimestamp;
    private long _originDts = long.MinValue;

    /// <summary>Completes when the clock has reached <paramref name="dts"/> (90 kHz ticks) on the schedule.</summary>
    public ValueTask WaitForAsync(long dts, CancellationToken stop)
    {
        if (_originDts == long.MinValue)
        {
            Anchor(dts);
            return ValueTask.CompletedTask;
        }

        var due = Due(dts) - time.GetElapsedTime(_originTimestamp);
        if (due < -MaxLateness)
        {
            Anchor(dts);
        }

        return due <= TimeSpan.Zero ? ValueTask.CompletedTask : new ValueTask(Task.Delay(due, time, stop));
    }

    /// <summary>How long after the schedule's start a packet of decode time <paramref name="dts"/> is due.</summary>
    private TimeSpan Due(long dts) => TimeSpan.FromTicks((long)((Int128)(dts - _originDts) * TimeSpan.TicksPerSecond / MediaTime.TicksPerSecond));

    private void Anchor(long dts)
    {
        _originDts = dts;
        _originTimestamp = time.GetTimestamp();
    }
}

/// <summary>
/// The length of one pass over a file, what the next pass is offset by: the longest track's own span, from its first
/// decode time to its last one plus that packet's duration (its own, or the interval before it). Each track's first
/// packet of the next pass then comes at least a frame after its last one (no track's times go back or overlap), and
/// the longest track's exactly a frame after. Measured on each track's own start, not the earliest of all: an MP4's
/// video starts its decode times a B-frame delay early and its AAC a priming frame early, and one start for both would
/// leave a gap of that delay in the other track at every loop.
/// </summary>
internal sealed class PassLength
{
    private readonly Dictionary<int, (long First, long Last, long Interval)> _tracks = [];

    public void Add(in MediaPacket packet)
    {
        if (!_tracks.TryGetValue(packet.Track, out var track))
        {
            _tracks[packet.Track] = (packet.Dts, packet.Dts, packet.Duration);
            return;
        }

        long interval = packet.Duration > 0 ? packet.Duration : packet.Dts > track.Last ? packet.Dts - track.Last : track.Interval;
        _tracks[packet.Track] = (Math.Min(track.First, packet.Dts), Math.Max(track.Last, packet.Dts), interval);
    }

    /// <summary>The pass's length in 90 kHz ticks; 0 for a pass that gave no packet.</summary>
    public long Length => _tracks.Count == 0 ? 0 : _tracks.Values.Max(t => t.Last + Math.Max(t.Interval, MediaTime.TicksPerMillisecond) - t.First);
}
