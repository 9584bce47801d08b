using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media.Buffers;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Ingest;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Ingest;

/// <summary>
/// A publisher's request driven through <see cref="HttpIngest"/> with a <see cref="DefaultHttpContext"/> and a
/// <see cref="Pipe"/> for its body: no host, no socket, and no server either: the ingest is built from the parts it
/// takes (the admission over the limits, a pool, the clock) and publishes to a feed made on its own. The body's reader
/// tells when each read begins, so a test advances the fake clock only once the ingest has armed its timer for that read.
/// </summary>
public sealed class HttpIngestTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly BlockPool _buffers = new();
    private readonly Limits _limits;
    private readonly Feed _feed;
    private readonly ListLogger _log = new();
    private readonly HttpIngest _ingest;

    public HttpIngestTests()
    {
        var config = new ServerConfig
        {
            Feeds = [new FeedConfig { Name = "feed.ffm", PublishKey = "s3cret", Location = new ConfigLocation("t.conf", 1) }],
        };
        _limits = new Limits(config, _time);
        _feed = new Feed(config.Feeds[0], NullLogger.Instance, _time, _buffers);
        _ingest = new HttpIngest(new Admission(_limits), _buffers, _time, _log);
    }

    public void Dispose()
    {
        _feed.ReleaseBuffers();
        Assert.Equal(0L, _buffers.Outstanding);
    }

    private sealed class Request
    {
        public required DefaultHttpContext Context { get; init; }
        public required Pipe Body { get; init; }
        public required WatchedReader Reader { get; init; }
        public MemoryStream Response => (MemoryStream)Context.Response.Body;
        public required ClientConnection Connection { get; init; }

        public string Text => Encoding.UTF8.GetString(Response.ToArray());

        public async Task SendAsync(byte[] bytes) => await Body.Writer.WriteAsync(bytes);
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }

    /// <summary>The pipe's reader, counting the reads begun.</summary>
    private sealed class WatchedReader(PipeReader inner) : PipeReader
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Begun)> _waits = [];
        private int _reads;

        /// <summary>Completes when the <paramref name="count"/>th read has begun.</summary>
        public Task ReadBegun(int count)
        {
            lock (_lock)
            {
                if (_reads >= count)
                {
                    return Task.CompletedTask;
                }

                var begun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waits.Add((count, begun));
                return begun.Task;
            }
        }

        /// <summary>The token of the latest read begun.</summary>
        public CancellationToken LastToken
        {
            get
            {
                lock (_lock)
                {
                    return _lastToken;
                }
            }
        }

        private CancellationToken _lastToken;

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            lock (_lock)
            {
                _lastToken = cancellationToken;
                _reads++;
                foreach (var wait in _waits.Where(w => w.Count <= _reads).ToList())
                {
                    wait.Begun.SetResult();
                    _waits.Remove(wait);
                }
            }

            return inner.ReadAsync(cancellationToken);
        }

        public override bool TryRead(out ReadResult result) => inner.TryRead(out result);

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }

    private Request NewRequest(string query)
    {
        var body = new Pipe();
        var reader = new WatchedReader(body.Reader);
        var response = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/feed.ffm";
        context.Request.QueryString = new QueryString(query);
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(reader));
        context.Response.Body = response;
        var connection = new ClientConnection(_limits.NextId(), IPAddress.Loopback, "POST", "/feed.ffm" + query, "HTTP/1.1", _time.GetUtcNow());
        return new Request { Context = context, Body = body, Reader = reader, Connection = connection };
    }

    /// <summary>Every read of the body ended in AdvanceTo (Kestrel's drain of a body with a read left open fails).</summary>
    private static void AssertNoReadLeftOpen(Request request)
    {
        Assert.True(request.Body.Reader.TryRead(out var rest));
        Assert.True(rest.IsCompleted);
        request.Body.Reader.AdvanceTo(rest.Buffer.End);
    }

    private Task HandleAsync(Request request) => _ingest.HandleAsync(request.Context, _feed, request.Connection);

    [Fact]
    public async Task A_wrong_key_is_answered_403_with_the_reason_and_the_connection_closed()
    {
        var request = NewRequest("?key=wrong");
        request.Body.Writer.Complete();
        await HandleAsync(request);

        Assert.Equal(403, request.Context.Response.StatusCode);
        Assert.Equal("close", request.Context.Response.Headers.Connection.ToString());
        Assert.Equal("text/plain; charset=utf-8", request.Context.Response.ContentType);
        Assert.Equal("Wrong publish key for feed.ffm.\n", request.Text);
        Assert.Null(_feed.CurrentPublisher);
        Assert.Equal([(400, "Feed feed.ffm: refused publisher 127.0.0.1: Wrong publish key for feed.ffm.")], _log.Entries);
    }

    [Fact]
    public async Task A_refused_publisher_that_keeps_sending_is_cut_off_a_second_later_on_the_server_s_clock()
    {
        var request = NewRequest("?key=wrong");
        var handling = HandleAsync(request);
        await request.Reader.ReadBegun(1); // the refusal reads and drops what the publisher still sends
        var discarding = request.Reader.LastToken;
        await request.SendAsync(new byte[1000]);
        await request.Reader.ReadBegun(2);

        _time.Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
        Assert.False(discarding.IsCancellationRequested);
        Assert.False(handling.IsCompleted);

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(discarding.IsCancellationRequested); // by the server's clock's own timer
        await handling.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(403, request.Context.Response.StatusCode);
        Assert.Equal("Wrong publish key for feed.ffm.\n", request.Text);
        Assert.Null(_feed.CurrentPublisher);
    }

    [Fact]
    public async Task A_missing_key_is_answered_403_naming_the_query_parameter()
    {
        var request = NewRequest("");
        request.Body.Writer.Complete();
        await HandleAsync(request);

        Assert.Equal(403, request.Context.Response.StatusCode);
        Assert.Equal("Publishing to feed.ffm needs its publish key (the key query parameter, ?key=...).\n", request.Text);
    }

    [Fact]
    public async Task A_second_publisher_is_answered_409_naming_the_one_publishing()
    {
        var feed = _feed;
        using var first = feed.TryAcquire(IPAddress.Parse("192.0.2.7"), "RTMP publish");
        Assert.NotNull(first);

        var request = NewRequest("?key=s3cret");
        request.Body.Writer.Complete();
        await HandleAsync(request);

        Assert.Equal(409, request.Context.Response.StatusCode);
        Assert.Equal("feed.ffm is already being published (from 192.0.2.7 via RTMP publish since 2026-12-03 09:00:00Z).\n", request.Text);
        Assert.Same(first, feed.CurrentPublisher);
    }

    [Fact]
    public async Task Refusals_of_one_feed_are_logged_once_an_interval_then_counted()
    {
        for (int i = 0; i < 3; i++)
        {
            var request = NewRequest("?key=wrong");
            request.Body.Writer.Complete();
            await HandleAsync(request);
            Assert.Equal(403, request.Context.Response.StatusCode);
        }

        Assert.Single(_log.Entries); // the first in full; the others wait for the interval's count
        _time.Advance(Sluice.Server.Logging.LogThrottle.DefaultInterval);
        var more = NewRequest("?key=wrong");
        more.Body.Writer.Complete();
        await HandleAsync(more);

        Assert.Equal([400, 404, 400], _log.Entries.Select(e => e.Id));
        Assert.Equal("Feed feed.ffm: 2 more publishers refused in the last 10 s (the last: 127.0.0.1: Wrong publish key for feed.ffm.)", _log.Entries[1].Message);
    }

    [Fact]
    public async Task Bytes_that_are_no_container_are_answered_400_with_the_reason_at_byte_0()
    {
        var request = NewRequest("?key=s3cret");
        var handling = HandleAsync(request);
        await request.SendAsync("PUT / HTTP/1.1\r\n"u8.ToArray());
        request.Body.Writer.Complete(); // the refusal reads on what follows, to its end
        await handling;

        Assert.Equal(400, request.Context.Response.StatusCode);
        Assert.Equal("close", request.Context.Response.Headers.Connection.ToString());
        Assert.Equal(
            "the feed is not a container Sluice reads (expected Matroska/WebM, MPEG-TS or FLV: ffmpeg -f matroska, -f webm, -f mpegts or -f flv) (at byte 0)\n",
            request.Text);
        Assert.Null(_feed.CurrentPublisher); // released
        AssertNoReadLeftOpen(request);
        Assert.Contains(_log.Entries, e => e.Id == 403 && e.Message.StartsWith("Feed feed.ffm: publisher 127.0.0.1 disconnected: the feed is not a container", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_that_ends_before_a_container_can_be_recognized_is_answered_400_with_its_length()
    {
        var request = NewRequest("?key=s3cret");
        var handling = HandleAsync(request);
        await request.SendAsync([0x1A, 0x45]);
        Assert.False(handling.IsCompleted); // two bytes: it waits for the rest of the probe
        request.Body.Writer.Complete();
        await handling;

        Assert.Equal(400, request.Context.Response.StatusCode);
        Assert.Equal("the feed ended after 2 bytes, before a container could be recognized\n", request.Text);
        AssertNoReadLeftOpen(request);
    }

    [Fact]
    public async Task An_empty_body_is_a_publisher_that_sent_nothing_and_ends_with_200()
    {
        var request = NewRequest("?key=s3cret");
        request.Body.Writer.Complete();
        await HandleAsync(request);

        Assert.Equal(200, request.Context.Response.StatusCode);
        Assert.Equal("", request.Text);
        Assert.Equal("feed.ffm", request.Connection.Name);
        Assert.Contains(_log.Entries, e => e.Id == 401 && e.Message == "Feed feed.ffm: publisher 127.0.0.1 connected (HTTP POST)");
        Assert.Contains(_log.Entries, e => e.Id == 402 && e.Message == "Feed feed.ffm: publisher 127.0.0.1 finished after 0 bytes");
        AssertNoReadLeftOpen(request);
    }

    [Fact]
    public async Task A_container_that_ends_inside_its_header_is_answered_400_with_the_demuxer_s_reason()
    {
        var request = NewRequest("?key=s3cret");
        var handling = HandleAsync(request);
        await request.SendAsync([(byte)'F', (byte)'L', (byte)'V', 0x01, 0x05]);
        request.Body.Writer.Complete();
        await handling;

        Assert.Equal(400, request.Context.Response.StatusCode);
        Assert.Equal("FLV: input ended before the end of the FLV header (5 of 9 bytes present) (at byte 0)\n", request.Text);
        AssertNoReadLeftOpen(request);
    }

    [Fact]
    public async Task A_publisher_that_sends_nothing_for_the_idle_timeout_is_disconnected_on_the_server_s_clock()
    {
        var request = NewRequest("?key=s3cret");
        var handling = HandleAsync(request);
        Assert.Equal("RECEIVE_DATA", request.Connection.State);
        await request.Reader.ReadBegun(1);

        _time.Advance(TimeSpan.FromSeconds(9));
        await request.SendAsync([(byte)'F']); // a byte re-arms the timer for the next read
        await request.Reader.ReadBegun(2);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(handling.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        request.Body.Writer.Complete(); // lets the refusal's drain of the body end
        await handling;

        Assert.Equal(400, request.Context.Response.StatusCode);
        Assert.Equal("it sent nothing for 10 s (after 0 bytes)\n", request.Text);
        AssertNoReadLeftOpen(request);
    }

    [Fact]
    public async Task A_whole_FLV_header_and_its_end_is_a_publisher_that_finished()
    {
        var request = NewRequest("?key=s3cret");
        var handling = HandleAsync(request);
        Assert.NotNull(_feed.CurrentPublisher);
        // The FLV header (version 1, audio and video, 9 bytes) and PreviousTagSize0.
        await request.SendAsync([(byte)'F', (byte)'L', (byte)'V', 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00]);
        request.Body.Writer.Complete();
        await handling;

        Assert.Equal(200, request.Context.Response.StatusCode);
        Assert.Equal(13, request.Connection.BytesReceived);
        Assert.Null(_feed.CurrentPublisher);
        Assert.Contains(_log.Entries, e => e.Id == 402 && e.Message == "Feed feed.ffm: publisher 127.0.0.1 finished after 13 bytes");
        AssertNoReadLeftOpen(request);
    }
}
