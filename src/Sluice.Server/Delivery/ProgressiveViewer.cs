using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Server.Logging;
using Sluice.Server.Streams;

namespace Sluice.Server.Delivery;

/// <summary>How viewers that fall behind are treated.</summary>
internal sealed record ViewerPolicy
{
    /// <summary>A viewer more than this far behind the newest chunk skips to the newest keyframe.</summary>
    public TimeSpan MaxLag { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>A viewer that stays behind (or cannot take a write) this long is disconnected.</summary>
    public TimeSpan SlowViewerTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The log of responses closed because their stream has nothing to send (<see cref="ProgressiveViewer.UnavailableLog"/>):
    /// one line a stream and reason, then a count each interval, however many viewers ask meanwhile. Null: every one logged.
    /// </summary>
    public LogThrottle? UnavailableLog { get; init; }

}

/// <summary>
/// Writes one stream to one progressive HTTP viewer: the container header, then shared chunks from the
/// newest join point on. Nothing here copies a payload or allocates per packet: the viewer keeps one array
/// of chunk references, fills it under the ring's short lock, and writes the shared memory to its pipe.
/// </summary>
internal sealed partial class ProgressiveViewer
{
    private const int BatchSize = 64;

    /// <summary>How much earlier than its due time a timer's cancellation may look by the clock (its tick is coarser).</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(50);

    private readonly LiveStream _stream;
    private readonly ClientConnection _connection;
    private readonly ViewerPolicy _policy;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ChunkLease[] _batch = new ChunkLease[BatchSize];

    public ProgressiveViewer(LiveStream stream, ClientConnection connection, ViewerPolicy policy, ILogger logger, TimeProvider time)
    {
        _stream = stream;
        _connection = connection;
        _policy = policy;
        _logger = logger;
        _time = time;
    }

    public long Skips { get; private set; }

    /// <summary>The kernel send buffer of a progressive viewer's socket (Linux doubles it: 512 KiB).</summary>
    public const int ViewerSendBuffer = 256 * 1024;

    /// <summary>
    /// Caps the kernel's send buffer of a viewer's connection (HTTP or RTMP), as nginx's <c>sndbuf</c> does. Left to
    /// autotuning it grows to <c>tcp_wmem</c>'s maximum (4 MiB here): a viewer that stops reading would pin that much
    /// kernel memory, and be noticed as stalled only once it was full (tens of seconds at a few Mbit/s). 512 KiB is
    /// still seconds of a live stream, and more than the bandwidth-delay product of a 20 Mbit/s viewer 100 ms away.
    /// </summary>
    public static void LimitSendBuffer(Microsoft.AspNetCore.Http.Features.IFeatureCollection features)
    {
        if (features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } socket)
        {
            try
            {
                socket.SendBufferSize = ViewerSendBuffer;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // a connection already gone: its viewer loop ends at the first write
            }
        }
    }

    /// <summary>Runs until the viewer leaves, is dropped as too slow, or the stream's output ends.</summary>
    public async Task RunAsync(PipeWriter writer, CancellationToken aborted)
    {
        using var signal = new ViewerSignal(aborted);
        var output = await WaitForOutputAsync(aborted).ConfigureAwait(false);
        if (output is null)
        {
            return;
        }

        try
        {
            // Returns when the viewer leaves or is dropped, or when the stream's tracks change: a progressive
            // response cannot carry a second header, so it ends and the player reconnects.
            await SendAsync(output, writer, signal, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            Drop();
        }
    }

    /// <summary>Drops a viewer that stays behind: logged, and the connection closed at once (not ended cleanly,
    /// which would leave Kestrel draining its buffer to a client that does not read).</summary>
    private void Drop()
    {
        LogDropped(_logger, _connection.Remote.ToString(), _stream.Name, _policy.SlowViewerTimeout.TotalSeconds, Skips);
        _connection.Abort?.Invoke();
    }

    private async Task<StreamOutput?> WaitForOutputAsync(CancellationToken aborted)
    {
        _connection.State = "WAIT_FEED";
        while (!aborted.IsCancellationRequested)
        {
            var output = _stream.Output;
            if (output is not null && !output.Ring.IsCompleted)
            {
                return output;
            }

            if (_stream.Feed.Unavailable is { } reason)
            {
                // Nothing will come for now: the response ends, rather than send nothing for as long as the viewer waits.
                if (_policy.UnavailableLog?.ShouldLog($"{_stream.Name}: {reason}", _connection.Remote.ToString()) ?? true)
                {
                    LogUnavailable(_logger, _connection.Remote.ToString(), _stream.Name, reason);
                }
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, aborted).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Sends one output; false when the viewer is gone or dropped.</summary>
    private async Task<bool> SendAsync(StreamOutput output, PipeWriter writer, ViewerSignal signal, CancellationToken aborted)
    {
        var ring = output.Ring;
        long preroll = (long)(_stream.Config.EffectivePreroll * MediaTime.TicksPerSecond);
        long position;
        while ((position = ring.JoinPointBefore(preroll)) < 0)
        {
            if (ring.IsCompleted)
            {
                return true;
            }

            await ring.WaitAsync(ring.Next, signal).ConfigureAwait(false);
            if (aborted.IsCancellationRequested)
            {
                return false;
            }
        }

        // A viewer is "behind" when it is further from live than its own start (the preroll) plus MaxLag.
        long maxLag = preroll + (long)(MediaTime.TicksPerSecond * _policy.MaxLag.TotalSeconds);

        long headerBytes = output.Muxer.Header.Length;
        writer.Write(output.Muxer.Header.Span);
        Account(headerBytes);

        _connection.State = "SEND_DATA";
        using var deadline = new WriteDeadline(_time, aborted);
        return await SendChunksAsync(ring, position, maxLag, writer, signal, deadline, aborted).ConfigureAwait(false);
    }

    private async Task<bool> SendChunksAsync(ChunkRing ring, long position, long maxLag, PipeWriter writer, ViewerSignal signal, WriteDeadline deadline, CancellationToken aborted)
    {
        long behindSince = -1;
        bool unflushed = true; // the header
        while (!aborted.IsCancellationRequested)
        {
            // One lock a batch: the chunks, and what is left after them (to tell a caught-up viewer from one behind).
            var status = ring.Read(position, _batch, out int count, out var backlog);
            switch (status)
            {
                case ChunkReadStatus.Completed:
                    await writer.FlushAsync(aborted).ConfigureAwait(false);
                    return true;

                case ChunkReadStatus.Empty:
                    if (unflushed)
                    {
                        var flushed = await writer.FlushAsync(aborted).ConfigureAwait(false);
                        if (flushed.IsCompleted || flushed.IsCanceled)
                        {
                            return false;
                        }

                        unflushed = false;
                    }

                    await ring.WaitAsync(position, signal).ConfigureAwait(false);
                    continue;

                case ChunkReadStatus.Lagged:
                    position = await RejoinAsync(ring, position, signal, "its position left the stream's buffer").ConfigureAwait(false);
                    if (position < 0)
                    {
                        return !aborted.IsCancellationRequested;
                    }

                    continue;
            }

            long bytes;
            try
            {
                bytes = CopyBatch(writer, count);
            }
            finally
            {
                // Copied into the connection's own buffers (or the write threw: the connection has gone): let go of them.
                for (int i = 0; i < count; i++)
                {
                    var chunk = _batch[i];
                    _batch[i] = default;
                    chunk.Release();
                }
            }

            position += count;
            Account(bytes);
            if (!await FlushWithinDeadlineAsync(writer, deadline).ConfigureAwait(false))
            {
                return false;
            }

            unflushed = false;

            // Behind? Skip to the newest keyframe; behind for too long? Drop the viewer.
            if (backlog.Ticks > maxLag)
            {
                long now = _time.GetTimestamp();
                if (behindSince < 0)
                {
                    behindSince = now;
                }
                else if (_time.GetElapsedTime(behindSince, now) > _policy.SlowViewerTimeout)
                {
                    Drop();
                    return false;
                }

                long newest = ring.LatestJoinPoint;
                if (newest > position)
                {
                    // Only ever forward: with a GOP longer than the lag, the newest keyframe may be behind the viewer.
                    Skips++;
                    LogSkipped(_logger, _connection.Remote.ToString(), _stream.Name, $"it was {MediaTime.ToMilliseconds(backlog.Ticks)} ms behind");
                    position = newest;
                }
            }
            else
            {
                behindSince = -1;
                if (backlog.CaughtUp)
                {
                    // Nothing was left when the batch was read: wait (at once done if more came during the write).
                    await ring.WaitAsync(position, signal).ConfigureAwait(false);
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Copies the batch's chunks into the connection's buffer, filling each span the writer gives before asking for the
    /// next: one <c>GetSpan</c>/<c>Advance</c> a buffer segment rather than one a chunk's prefix and payload (each of those
    /// takes the HTTP output's lock and recomputes its chunked framing, a tenth of a viewer's CPU at 5000 viewers).
    /// </summary>
    private long CopyBatch(PipeWriter writer, int count)
    {
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            total += _batch[i].Length;
        }

        long left = total;
        Span<byte> span = default;
        int filled = 0;
        for (int i = 0; i < count; i++)
        {
            var chunk = _batch[i];
            for (int part = 0; part < 2; part++)
            {
                var source = (part == 0 ? chunk.Prefix : chunk.Payload).Span;
                while (!source.IsEmpty)
                {
                    if (filled == span.Length)
                    {
                        if (filled > 0)
                        {
                            writer.Advance(filled);
                        }

                        span = writer.GetSpan((int)Math.Min(left, CopySpanHint));
                        filled = 0;
                    }

                    int n = Math.Min(source.Length, span.Length - filled);
                    source[..n].CopyTo(span[filled..]);
                    filled += n;
                    left -= n;
                    source = source[n..];
                }
            }
        }

        if (filled > 0)
        {
            writer.Advance(filled);
        }

        return total;
    }

    /// <summary>The most a batch's copy asks of the writer at once: the pipe's blocks are 64 KiB, less the chunked framing.</summary>
    private const int CopySpanHint = 32 * 1024;

    /// <summary>
    /// Flushes a batch; false when the viewer is gone or was dropped because the write was not taken within the timeout.
    /// A flush the connection takes at once (the usual case: the kernel's buffer has room) arms no timer; the deadline
    /// is armed only for one that waits, from the moment it is seen waiting.
    /// </summary>
    private async ValueTask<bool> FlushWithinDeadlineAsync(PipeWriter writer, WriteDeadline deadline)
    {
        // A write the viewer does not take within the timeout drops it. Kestrel answers a canceled flush by aborting
        // the connection, which cancels the request's token too, on another thread and sometimes first: so the
        // time decides whether the viewer was dropped, not which token looks canceled by the time it is checked.
        long flushStart = 0;
        bool armed = false;
        FlushResult result;
        try
        {
            var pending = writer.FlushAsync(deadline.Token);
            if (pending.IsCompleted)
            {
                result = pending.Result;
            }
            else
            {
                flushStart = _time.GetTimestamp();
                deadline.Arm(_policy.SlowViewerTimeout);
                armed = true;
                result = await pending.ConfigureAwait(false);
                deadline.Disarm();
            }
        }
        catch (OperationCanceledException) when (armed && _time.GetElapsedTime(flushStart) >= _policy.SlowViewerTimeout - TimerSlack)
        {
            Drop();
            return false;
        }

        return !result.IsCompleted && !result.IsCanceled;
    }

    /// <summary>Moves a viewer whose position was evicted to the newest join point after it; -1 when it ends waiting.</summary>
    private async ValueTask<long> RejoinAsync(ChunkRing ring, long position, ViewerSignal signal, string why)
    {
        Skips++;
        LogSkipped(_logger, _connection.Remote.ToString(), _stream.Name, why);
        long joinPoint;
        while ((joinPoint = ring.LatestJoinPoint) <= position)
        {
            if (ring.IsCompleted || signal.IsAborted)
            {
                return -1;
            }

            await ring.WaitAsync(ring.Next, signal).ConfigureAwait(false);
        }

        return joinPoint;
    }

    private void Account(long bytes)
    {
        _connection.AddSent(bytes);
        _stream.AddBytesSent(bytes);
    }

    /// <summary>
    /// The deadline of a viewer's writes on the server's clock: its token is canceled when a write is not taken within
    /// the timeout, or when the viewer's request is aborted. One a viewer, reused write after write without allocating.
    /// </summary>
    private sealed class WriteDeadline : IDisposable
    {
        private readonly TimeProvider _time;
        private readonly CancellationToken _aborted;
        private CancellationTokenSource _source;
        private CancellationTokenRegistration _abort;

        public WriteDeadline(TimeProvider time, CancellationToken aborted)
        {
            _time = time;
            _aborted = aborted;
            (_source, _abort) = Create();
        }

        /// <summary>
        /// The token a write is given: canceled by the request's abort, and by the deadline once armed. A source that a
        /// timer already in flight canceled after the last write was taken is replaced first, so that a healthy write
        /// is never handed a canceled token.
        /// </summary>
        public CancellationToken Token
        {
            get
            {
                if (_source.IsCancellationRequested && !_aborted.IsCancellationRequested)
                {
                    Dispose();
                    (_source, _abort) = Create();
                }

                return _source.Token;
            }
        }

        /// <summary>Arms the deadline for the write now waiting: the token is canceled once <paramref name="timeout"/> has passed.</summary>
        public void Arm(TimeSpan timeout) => _source.CancelAfter(timeout);

        /// <summary>Disarms it: the write was taken.</summary>
        public void Disarm()
        {
            if (!_source.TryReset())
            {
                // The timer fired just as the write completed: the write counts, the next one needs a fresh source.
                Dispose();
                (_source, _abort) = Create();
            }
        }

        public void Dispose()
        {
            _abort.Dispose();
            _source.Dispose();
        }

        /// <summary>
        /// A source of the server's clock (a linked source could take no TimeProvider, and its CancelAfter would run on
        /// the system's timers), canceled by the request's abort through a registration of its own.
        /// </summary>
        private (CancellationTokenSource, CancellationTokenRegistration) Create()
        {
            var source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            return (source, _aborted.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), source));
        }
    }

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "Viewer {Remote} of {Stream}: closing the response: the stream has nothing to send ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string remote, string stream, string reason);

    [LoggerMessage(EventId = 312, Level = LogLevel.Warning, Message = "{Count} more viewers' responses closed in {Seconds} s, for {StreamAndReason} (the last from {Last})")]
    private static partial void LogUnavailableMore(ILogger logger, int count, double seconds, string streamAndReason, string last);

    /// <summary>The server's <see cref="ViewerPolicy.UnavailableLog"/>: a viewer per stream and reason is logged each interval, the rest counted.</summary>
    public static LogThrottle UnavailableLog(TimeProvider time, ILogger logger) =>
        new(time, LogThrottle.DefaultInterval, (kind, count, last) => LogUnavailableMore(logger, count, LogThrottle.DefaultInterval.TotalSeconds, kind, last));

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Viewer {Remote} of {Stream} skipped to the newest keyframe: {Why}")]
    private static partial void LogSkipped(ILogger logger, string remote, string stream, string why);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Viewer {Remote} of {Stream} disconnected: it stayed behind (or took no data) for more than {Seconds} s (skipped {Skips} times)")]
    private static partial void LogDropped(ILogger logger, string remote, string stream, double seconds, long skips);
}
