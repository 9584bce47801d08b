using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Logging;
using Sluice.Server.Streams;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Delivery;

/// <summary>
/// A viewer of a stream fed by hand, writing to a connection whose writes are taken only when the test says so, on a
/// fake clock: SlowViewerTimeout is decided by the server's clock alone.
/// </summary>
public sealed class ProgressiveViewerTests : IDisposable
{
    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240 };
    private static readonly ViewerPolicy Policy = new() { SlowViewerTimeout = TimeSpan.FromSeconds(10) };
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));
    private readonly ListLogger _log = new();
    private readonly Feed _feed;
    private readonly LiveStream _stream;
    private readonly Publisher _publisher;
    private readonly HeldWriter _writer = new();
    private readonly CancellationTokenSource _request = new();
    private readonly ClientConnection _connection;
    private int _aborts;

    public ProgressiveViewerTests()
    {
        _feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, _time);
        _stream = new LiveStream(new StreamConfig { Name = "live.webm", Feed = "f.ffm", Format = "webm" }, _feed, OutputFormat.WebM, NullLogger.Instance);
        _publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        _publisher.OnTracks([Vp8]);
        _publisher.Accept(Packet(0, key: true));
        _publisher.Accept(Packet(40));
        _connection = new ClientConnection(1, IPAddress.Loopback, "GET", "/live.webm", "HTTP/1.1", _time.GetUtcNow())
        {
            Abort = () => Interlocked.Increment(ref _aborts),
        };
    }

    public void Dispose()
    {
        _request.Dispose();
        _publisher.Dispose();
        _stream.Close();
        _feed.ReleaseBuffers();
    }

    private static MediaPacket Packet(long ms, bool key = false) =>
        new(0, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, new byte[100]);

    private Task RunViewer() => new ProgressiveViewer(_stream, _connection, Policy, _log, _time).RunAsync(_writer, _request.Token);

    [Fact]
    public async Task Viewers_of_a_stream_with_nothing_to_send_leave_one_line_an_interval_and_a_count()
    {
        var feed = new Feed(new FeedConfig { Name = "g.ffm" }, NullLogger.Instance, _time);
        var stream = new LiveStream(new StreamConfig { Name = "g.webm", Feed = "g.ffm", Format = "webm" }, feed, OutputFormat.WebM, NullLogger.Instance);
        feed.Unavailable = "its encoder fails at every start";
        using var throttle = ProgressiveViewer.UnavailableLog(_time, _log);
        var policy = Policy with { UnavailableLog = throttle };

        // Five viewers ask, each answered at once with the end of its response: one line says so, the rest are counted.
        for (int i = 0; i < 5; i++)
        {
            var connection = new ClientConnection(10 + i, IPAddress.Parse($"127.0.0.{i + 1}"), "GET", "/g.webm", "HTTP/1.1", _time.GetUtcNow());
            await new ProgressiveViewer(stream, connection, policy, _log, _time).RunAsync(new HeldWriter(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(["Viewer 127.0.0.1 of g.webm: closing the response: the stream has nothing to send (its encoder fails at every start)"],
            _log.Entries.Where(e => e.Id == 311).Select(e => e.Message));
        Assert.DoesNotContain(_log.Entries, e => e.Id == 312);

        _time.Advance(LogThrottle.DefaultInterval);
        Assert.Equal(["4 more viewers' responses closed in 10 s, for g.webm: its encoder fails at every start (the last from 127.0.0.5)"],
            _log.Entries.Where(e => e.Id == 312).Select(e => e.Message));
        stream.Close();
        feed.ReleaseBuffers();
    }

    [Fact]
    public async Task A_viewer_whose_write_is_not_taken_is_dropped_at_the_slow_viewer_timeout_and_not_before()
    {
        var viewing = RunViewer();
        var flush = await _writer.NextFlushAsync(); // the header and the stream's chunks so far, under the deadline
        Assert.True(_writer.Written > 0);

        _time.Advance(Policy.SlowViewerTimeout - Tick);
        Assert.False(flush.Token.IsCancellationRequested);
        Assert.False(viewing.IsCompleted);
        Assert.Equal(0, _aborts);

        _time.Advance(Tick);
        Assert.True(flush.Token.IsCancellationRequested); // by the server's clock's own timer, at the due time exactly
        await viewing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, _aborts);
        Assert.Contains(_log.Entries, e => e.Id == 301 && e.Message == "Viewer 127.0.0.1 of live.webm disconnected: it stayed behind (or took no data) for more than 10 s (skipped 0 times)");
    }

    [Fact]
    public async Task A_viewer_whose_writes_are_taken_within_the_timeout_is_kept()
    {
        var viewing = RunViewer();
        var first = await _writer.NextFlushAsync();
        _time.Advance(Policy.SlowViewerTimeout - Tick);
        first.Take();

        // Well past where the first write's deadline was: that timer was stopped when the write was taken.
        _time.Advance(Policy.SlowViewerTimeout);
        Assert.False(first.Token.IsCancellationRequested);

        long written = _writer.Written;
        _publisher.Accept(Packet(80));
        var next = await _writer.NextFlushAsync();
        Assert.True(next.WrittenBefore > written); // the next flush carries the new chunk: no flush of nothing came between
        _time.Advance(Policy.SlowViewerTimeout - Tick);
        Assert.False(next.Token.IsCancellationRequested); // a deadline of its own, from its own start
        next.Take();

        await _request.CancelAsync(); // the viewer leaves
        await viewing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, _aborts);
        Assert.DoesNotContain(_log.Entries, e => e.Id == 301);
        Assert.Equal(_writer.Written, _connection.BytesSent);
    }

    [Fact]
    public async Task A_batch_larger_than_the_connection_s_buffer_segments_reaches_the_viewer_whole_and_in_order()
    {
        // Chunks of 70 KB, 5 KB and 40 KB into a pipe of 4 KiB segments: the batch's copy fills span after span.
        var rng = new Random(7);
        foreach (var (ms, size, key) in new[] { (120L, 70_000, true), (160L, 5_000, false), (200L, 40_000, false) })
        {
            var payload = new byte[size];
            rng.NextBytes(payload);
            _publisher.Accept(new MediaPacket(0, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, payload));
        }

        var output = _stream.Output!;
        var expected = new List<byte>(output.Muxer.Header.ToArray());
        var leases = new ChunkLease[64];
        long from = output.Ring.JoinPointBefore((long)(_stream.Config.EffectivePreroll * MediaTime.TicksPerSecond));
        Assert.Equal(ChunkReadStatus.Data, output.Ring.Read(from, leases, out int count));
        for (int i = 0; i < count; i++)
        {
            expected.AddRange(leases[i].Prefix.ToArray());
            expected.AddRange(leases[i].Payload.ToArray());
            leases[i].Release();
        }

        Assert.True(expected.Count > 115_000);
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 4096, pauseWriterThreshold: 0, useSynchronizationContext: false));
        var viewing = new ProgressiveViewer(_stream, _connection, Policy, _log, _time).RunAsync(pipe.Writer, _request.Token);
        var received = new List<byte>();
        while (received.Count < expected.Count)
        {
            var read = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            foreach (var segment in read.Buffer)
            {
                received.AddRange(segment.ToArray());
            }

            pipe.Reader.AdvanceTo(read.Buffer.End);
        }

        Assert.Equal(expected, received);
        Assert.Equal(expected.Count, _connection.BytesSent);
        await _request.CancelAsync();
        await viewing.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// A flush of the viewer's connection, pending until the test takes it or its token is canceled. The test is handed
    /// it once the viewer awaits it (its deadline armed); once <see cref="Take"/> returns, the viewer has gone on to its
    /// next flush or its wait, since its continuation runs inline.
    /// </summary>
    private sealed class Flush : IValueTaskSource<FlushResult>
    {
        private readonly TaskCompletionSource _awaited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ManualResetValueTaskSourceCore<FlushResult> _core;
        private int _done;

        public Flush(CancellationToken token, long writtenBefore)
        {
            Token = token;
            WrittenBefore = writtenBefore;
            token.Register(() =>
            {
                if (Interlocked.Exchange(ref _done, 1) == 0)
                {
                    _core.SetException(new OperationCanceledException(token));
                }
            });
        }

        public CancellationToken Token { get; }

        /// <summary>What the viewer had written when it flushed.</summary>
        public long WrittenBefore { get; }

        public Task Awaited => _awaited.Task;

        public ValueTask<FlushResult> AsValueTask() => new(this, _core.Version);

        /// <summary>The client has read what was written.</summary>
        public void Take()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                _core.SetResult(new FlushResult(isCanceled: false, isCompleted: false));
            }
        }

        public FlushResult GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _core.OnCompleted(continuation, state, token, flags);
            _awaited.TrySetResult();
        }
    }

    /// <summary>A connection that keeps what is written and hands each flush to the test.</summary>
    private sealed class HeldWriter : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();
        private readonly Channel<Flush> _flushes = Channel.CreateUnbounded<Flush>();

        public long Written => Volatile.Read(ref _written);

        private long _written;

        /// <summary>The viewer's next flush, once the viewer awaits it.</summary>
        public async Task<Flush> NextFlushAsync()
        {
            var flush = await _flushes.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            await flush.Awaited.WaitAsync(TimeSpan.FromSeconds(10));
            return flush;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            var flush = new Flush(cancellationToken, Written);
            _flushes.Writer.TryWrite(flush);
            return flush.AsValueTask();
        }

        public override void Advance(int bytes)
        {
            _buffer.Advance(bytes);
            Interlocked.Add(ref _written, bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }
    }
}
