using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Hosting;

namespace Sluice.Server.Ingest;

/// <summary>
/// A publisher pushing a feed by HTTP POST or PUT (chunked or not, ffmpeg's way). Refusals are answered and
/// the connection is closed at once, because ffmpeg reads no response while it sends and notices a refusal
/// only when the connection closes.
/// </summary>
internal sealed partial class HttpIngest
{
    private readonly Admission _admission;
    private readonly BlockPool _buffers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private readonly Logging.LogThrottle _refusals;

    /// <param name="admission">Decides who may publish to a feed.</param>
    /// <param name="buffers">The pool the publishers' demuxers copy payloads into.</param>
    /// <param name="time">The server's clock: the idle timeout and the refusal log's interval.</param>
    public HttpIngest(Admission admission, BlockPool buffers, TimeProvider time, ILogger logger)
    {
        _admission = admission;
        _buffers = buffers;
        _time = time;
        _logger = logger;
        _refusals = new Logging.LogThrottle(time, Logging.LogThrottle.DefaultInterval,
            (feed, count, last) => LogRefusedMore(_logger, feed, count, Logging.LogThrottle.DefaultInterval.TotalSeconds, last));
    }

    /// <summary>A publisher that sends nothing for this long is disconnected.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public async Task HandleAsync(HttpContext context, Feed feed, ClientConnection connection)
    {
        var remote = connection.Remote;
        string origin = context.Request.Headers.Origin.ToString();
        if (_admission.Publish(feed, connection, context.Request.Query["key"].ToString(), "the key query parameter, ?key=...", origin, launchToken: true) is { } refusal)
        {
            await RefuseAsync(context, feed, remote, refusal).ConfigureAwait(false);
            return;
        }

        connection.Name = feed.Name;
        using var publisher = feed.TryAcquire(remote, $"HTTP {context.Request.Method}");
        if (publisher is null)
        {
            await RefuseAsync(context, feed, remote, Admission.Busy(feed)).ConfigureAwait(false);
            return;
        }

        // A live feed has no end and no promised rate: lift Kestrel's body size and rate limits; the idle timeout guards it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        connection.State = "RECEIVE_DATA";
        LogPublishing(_logger, feed.Name, remote.ToString(), publisher.Via);
        bool untilClose = context.Request.Headers[UntilCloseBody.Header] == UntilCloseBody.Value;
        var (ok, reason2) = await ReceiveAsync(context.Request.BodyReader, publisher, connection, untilClose, context.RequestAborted).ConfigureAwait(false);
        if (ok)
        {
            LogEnded(_logger, feed.Name, remote.ToString(), publisher.BytesReceived);
            context.Response.StatusCode = 200;
            return;
        }

        LogDisconnected(_logger, feed.Name, remote.ToString(), reason2);
        if (!context.RequestAborted.IsCancellationRequested)
        {
            await Responses.RefuseAndCloseAsync(context, 400, reason2, _time).ConfigureAwait(false);
        }
    }

    /// <summary>Refuses a publisher: logged (once an interval per feed, then a count), answered, and the connection closed.</summary>
    private async Task RefuseAsync(HttpContext context, Feed feed, System.Net.IPAddress remote, Refusal refusal)
    {
        if (_refusals.ShouldLog(feed.Name, $"{remote}: {refusal.Reason}"))
        {
            LogRefused(_logger, feed.Name, remote.ToString(), refusal.Reason);
        }

        await Responses.RefuseAndCloseAsync(context, refusal.StatusCode, refusal.Reason, _time).ConfigureAwait(false);
    }

    private async Task<(bool Ok, string Reason)> ReceiveAsync(PipeReader reader, Publisher publisher, ClientConnection connection, bool untilClose, CancellationToken aborted)
    {
        // Not linked to the request's abort: a publisher that sends its last bytes and closes at once (ffmpeg's way)
        // aborts the request while those bytes are still buffered, and they must be read, not dropped.
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        IDemuxer? demuxer = null;
        long offset = 0;
        long pending = 0; // bytes received but not yet consumed by the demuxer (an element still arriving)
        try
        {
            while (true)
            {
                idle.CancelAfter(IdleTimeout);
                var result = await reader.ReadAsync(idle.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (demuxer is null)
                {
                    var detected = ContainerDetector.Detect(buffer);
                    if (detected == ContainerDetector.Result.NeedMore)
                    {
                        if (result.IsCompleted)
                        {
                            long received = buffer.Length;
                            reader.AdvanceTo(buffer.End);
                            return received == 0 ? (true, "") : (false, $"the feed ended after {received} bytes, before a container could be recognized");
                        }

                        reader.AdvanceTo(buffer.Start, buffer.End);
                        continue;
                    }

                    demuxer = ContainerDetector.CreateDemuxer(detected, _buffers, out string? why);
                    if (demuxer is null)
                    {
                        reader.AdvanceTo(buffer.Start, buffer.End); // every read ends in AdvanceTo: the refusal reads on
                        return (false, $"{why} (at byte 0)");
                    }

                    publisher.Format = demuxer.FormatName;
                }

                SequencePosition consumed;
                try
                {
                    consumed = demuxer.Read(buffer, publisher);
                }
                catch (MediaFormatException)
                {
                    // Ends the read before the refusal reads on (a read left open made Kestrel's own drain fail with
                    // "Reading is already in progress" and a stack trace in the log).
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw;
                }

                long length = buffer.Slice(0, consumed).Length;
                offset += length;
                publisher.AddBytes(length);
                connection.AddReceived(length);
                if (result.IsCompleted)
                {
                    try
                    {
                        demuxer.Complete(buffer.Slice(consumed));
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.End); // also when the feed ended inside an element: the refusal reads on
                    }

                    return (true, "");
                }

                pending = buffer.Length - length;
                reader.AdvanceTo(consumed, buffer.End);
            }
        }
        catch (MediaFormatException ex)
        {
            return (false, ex.Message);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested)
        {
            return (false, $"it sent nothing for {IdleTimeout.TotalSeconds:0} s (after {offset} bytes)");
        }
        catch (Exception ex) when (untilClose && demuxer is not null
            && (aborted.IsCancellationRequested || !idle.IsCancellationRequested) // closed, not idle
            && ex is BadHttpRequestException or OperationCanceledException)
        {
            // A body sent without a length ends when the publisher closes: that is its normal end, unless it
            // stopped inside an element.
            if (pending > 0)
            {
                return (false, $"{demuxer.FormatName}: the feed ended inside an element, {pending} bytes into it (at byte {offset})");
            }

            try
            {
                demuxer.Complete(default);
                return (true, "");
            }
            catch (MediaFormatException format)
            {
                return (false, format.Message);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return (false, $"the connection broke off after {offset} bytes ({ex.Message})");
        }
        finally
        {
            demuxer?.Dispose();
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Feed {Feed}: refused publisher {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string feed, string remote, string reason);

    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "Feed {Feed}: {Count} more publishers refused in the last {Seconds} s (the last: {Last})")]
    private static partial void LogRefusedMore(ILogger logger, string feed, int count, double seconds, string last);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Feed {Feed}: publisher {Remote} connected ({Via})")]
    private static partial void LogPublishing(ILogger logger, string feed, string remote, string via);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Feed {Feed}: publisher {Remote} finished after {Bytes} bytes")]
    private static partial void LogEnded(ILogger logger, string feed, string remote, long bytes);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "Feed {Feed}: publisher {Remote} disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string feed, string remote, string reason);
}
