using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Formats;
using Sluice.Media.Formats.Matroska;
using Sluice.Server.Processes;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Streams;

/// <summary>
/// One run of the ffmpeg that writes a stream's container (see <see cref="FfmpegMux"/>): the stream's packets go in
/// as Matroska on stdin; what ffmpeg writes on stdout is cut by the format's <see cref="JoinPointScanner"/> into the
/// header, kept for every viewer, and units appended to a ring of the run's own, which viewers read from a join point.
/// </summary>
internal sealed partial class FfmpegMuxRun
{
    /// <summary>Packets waiting for ffmpeg's stdin; past this, packets are dropped up to the next keyframe.</summary>
    private const int InputQueuePackets = 4096;

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly LiveStream _stream;
    private readonly IReadOnlyList<TrackInfo> _tracks;
    private readonly FfmpegMuxing _muxing;
    private readonly Action<StreamOutput> _publish;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _ringBytes;
    private readonly EncoderFailures _failures;
    private readonly Channel<MediaPacket> _queue = Channel.CreateBounded<MediaPacket>(
        new BoundedChannelOptions(InputQueuePackets) { SingleReader = true, SingleWriter = true });

    private readonly int _videoTrack;
    private bool _replayed;
    private bool _skipping;
    private bool _behind;
    private long _started;

    /// <param name="publish">Called once, on the run's reader, with the output viewers read once ffmpeg's header is whole.</param>
    /// <param name="failures">The stream's account of its ffmpeg's failures, run after run: a line the failed run before printed is not logged again.</param>
    public FfmpegMuxRun(LiveStream stream, IReadOnlyList<TrackInfo> tracks, FfmpegMuxing muxing, long ringBytes, Action<StreamOutput> publish, EncoderFailures failures, ILogger logger, TimeProvider time)
    {
        _failures = failures;
        _stream = stream;
        _tracks = tracks;
        _muxing = muxing;
        _ringBytes = ringBytes;
        _publish = publish;
        _logger = logger;
        _time = time;
        _videoTrack = tracks.ToList().FindIndex(t => t.Kind == MediaKind.Video);
        _skipping = _videoTrack >= 0;
        Arguments = FfmpegMuxArguments.For(stream.Config, muxing, tracks);
    }

    public List<string> Arguments { get; }

    /// <summary>ffmpeg's process id while it runs; null before it starts and once it has exited.</summary>
    public int? ProcessId { get; private set; }

    /// <summary>The last line ffmpeg printed, or why it could not run.</summary>
    public string? LastError { get; private set; }

    /// <summary>Whether the run's output reached viewers (its header was whole).</summary>
    public bool Delivered { get; private set; }

    public string CommandLine => "ffmpeg " + string.Join(' ', Arguments);

    /// <summary>
    /// Queues one of the stream's packets (already in its output track numbering) for ffmpeg, on the feed's ingest
    /// thread; never waits. The first call queues the feed's packets from its newest keyframe first, so a run that
    /// restarts mid-session has a picture to start with.
    /// </summary>
    public void Offer(in MediaPacket packet, Func<IEnumerable<MediaPacket>> sinceKeyframe)
    {
        if (!_replayed)
        {
            _replayed = true;
            foreach (var earlier in sinceKeyframe())
            {
                Queue(earlier);
            }

            return;
        }

        Queue(packet);
    }

    private void Queue(MediaPacket packet)
    {
        if (_skipping)
        {
            if (packet.Track != _videoTrack || !packet.IsKeyframe)
            {
                return;
            }

            _skipping = false;
        }

        packet.Retain(); // the queue's reference, released once written to ffmpeg (or when the run ends)
        if (!_queue.Writer.TryWrite(packet))
        {
            packet.Release();
            _skipping = _videoTrack >= 0;
            if (!_behind)
            {
                _behind = true;
                LogBehind(_logger, _stream.Name);
            }
        }
    }

    /// <summary>Runs ffmpeg until it exits or <paramref name="stop"/>; its exit code, or null when it did not start.</summary>
    public async Task<int?> RunAsync(CancellationToken stop)
    {
        _failures.RunStarts();
        Process process;
        try
        {
            process = await ChildProcess.StartAsync(ChildProcess.Piped(EncoderCheck.Ffmpeg, Arguments)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LastError = $"could not start ffmpeg: {ex.Message}";
            DrainQueue();
            return null;
        }

        using (process)
        {
            _started = _time.GetTimestamp();
            LogStarted(_logger, _stream.Name, process.Id, CommandLine);
            var pumps = Task.WhenAll(
                Task.Run(() => FeedAsync(process.StandardInput.BaseStream)),
                Task.Run(() => ScanAsync(process.StandardOutput.BaseStream)),
                Task.Run(() => ErrorsAsync(process.StandardError)));
            // When the session ends or the server stops, the end of its input lets ffmpeg write what it holds.
            ProcessId = process.Id;
            int? exitCode = await ChildProcess.WaitOrStopAsync(process, stop, () => _queue.Writer.TryComplete(), StopGrace, _time).ConfigureAwait(false);
            ProcessId = null;
            _queue.Writer.TryComplete();
            await pumps.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
            return exitCode;
        }
    }

    /// <summary>The queue into ffmpeg's stdin, muxed as Matroska; a closed pipe (ffmpeg has gone) ends it quietly.</summary>
    private async Task FeedAsync(Stream stdin)
    {
        var muxer = new WebmMuxer(_tracks, _stream.Feed.Buffers);
        try
        {
            await stdin.WriteAsync(muxer.Header).ConfigureAwait(false);
            await foreach (var packet in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                var framed = muxer.Write(packet);
                try
                {
                    await stdin.WriteAsync(framed.Prefix).ConfigureAwait(false);
                    await stdin.WriteAsync(framed.Payload).ConfigureAwait(false);
                    if (_queue.Reader.Count == 0)
                    {
                        await stdin.FlushAsync().ConfigureAwait(false);
                    }
                }
                finally
                {
                    framed.Release();
                    packet.Release();
                }
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
            DrainQueue();
            muxer.Dispose();
            stdin.Dispose();
        }
    }

    private void DrainQueue()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
        {
            left.Release();
        }
    }

    /// <summary>ffmpeg's stdout, cut into the header and units; the run's output is published once the header is whole.</summary>
    private async Task ScanAsync(Stream stdout)
    {
        var scanner = _muxing.CreateScanner();
        var units = new List<ScannedUnit>();
        var times = new UnitTimes(_time, _started);
        var buffer = new byte[64 * 1024];
        StreamOutput? output = null;
        try
        {
            int read;
            while ((read = await stdout.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                scanner.Write(buffer.AsSpan(0, read), units);
                if (output is null && scanner.Header is { } header)
                {
                    output = new StreamOutput(new WrittenHeader(_stream.Format.ContentType, header), _tracks, new ChunkRing(_ringBytes));
                    _publish(output);
                    Delivered = true;
                }

                Append(output, units, times);
            }

            scanner.Complete(units);
            Append(output, units, times);
        }
        catch (MediaFormatException ex)
        {
            LastError = $"unreadable {_stream.Format.Name} output: {ex.Message}";
            LogBadOutput(_logger, _stream.Name, ex.Message);
        }
        catch (IOException)
        {
        }
        finally
        {
            output?.Ring.Complete();
        }
    }

    private static void Append(StreamOutput? output, List<ScannedUnit> units, UnitTimes times)
    {
        if (output is not null)
        {
            // The ring's times are media ticks: the format's own where the scanner reads them (see UnitTimes).
            foreach (var unit in units)
            {
                output.Ring.Append(new MuxedChunk(ReadOnlyMemory<byte>.Empty, unit.Bytes, unit.IsJoinPoint), times.Next(unit.Time));
            }
        }

        units.Clear();
    }

    private async Task ErrorsAsync(StreamReader stderr)
    {
        try
        {
            while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    LastError = line.Trim();
                    if (!_failures.IsRepeat(LastError))
                    {
                        LogOutput(_logger, _stream.Name, LastError);
                    }
                }
            }
        }
        catch (IOException)
        {
        }
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Stream {Stream}: ffmpeg writes its container (process {Pid}): {Command}")]
    private static partial void LogStarted(ILogger logger, string stream, int pid, string command);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Stream {Stream}: ffmpeg: {Line}")]
    private static partial void LogOutput(ILogger logger, string stream, string line);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Stream {Stream}: ffmpeg does not keep up; dropping packets up to the next keyframe")]
    private static partial void LogBehind(ILogger logger, string stream);

    [LoggerMessage(EventId = 204, Level = LogLevel.Error, Message = "Stream {Stream}: ffmpeg's output cannot be served: {Reason}")]
    private static partial void LogBadOutput(ILogger logger, string stream, string reason);
}

/// <summary>The header ffmpeg wrote for a run, standing in for a muxer in the run's <see cref="StreamOutput"/> (viewers read only its header and content type).</summary>
internal sealed class WrittenHeader(string contentType, ReadOnlyMemory<byte> header) : IMuxer
{
    public string ContentType => contentType;

    public ReadOnlyMemory<byte> Header => header;

    public MuxedChunk Write(MediaPacket packet) => throw new InvalidOperationException("ffmpeg writes this stream's container; it takes no packets from Sluice");

    public void Dispose()
    {
    }
}
