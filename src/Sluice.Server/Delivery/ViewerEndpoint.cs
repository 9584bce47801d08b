using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Sluice.Server.Streams;

namespace Sluice.Server.Delivery;

/// <summary>GET /stream: ACL and limits, then an endless progressive response.</summary>
internal sealed partial class ViewerEndpoint(Admission admission, ViewerPolicy policy, WatchStream watch, TimeProvider time, ILogger logger)
{
    private readonly Admission _admission = admission;
    private readonly ViewerPolicy _policy = policy;
    private readonly WatchStream _watch = watch;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    public async Task HandleAsync(HttpContext context, LiveStream stream, ClientConnection connection)
    {
        if (_admission.Watch(stream, connection) is { } refusal)
        {
            LogRefused(_logger, stream.Name, connection.Remote.ToString(), refusal.Reason);
            await Responses.TextAsync(context, refusal.StatusCode, refusal.Reason).ConfigureAwait(false);
            return;
        }

        if (stream.Format.IsSnapshot)
        {
            await SnapshotAsync(context, stream).ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.StatusCode = 200;
        // The muxer knows best (audio/webm for a stream without video, video/ogg with Theora); before the first
        // publisher there is no muxer yet, and the format says what it usually is.
        response.ContentType = stream.Output?.Muxer.ContentType ?? stream.Format.ContentType;
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers.AccessControlAllowOrigin = "*";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        stream.CountConnection();
        using var watching = _watch(stream.Name);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        ProgressiveViewer.LimitSendBuffer(context.Features);
        if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
        {
            // SlowViewerTimeout alone decides when a viewer that does not keep up goes (and logs it), not Kestrel's
            // own minimum response rate as well.
            rate.MinDataRate = null;
        }

        var viewer = new ProgressiveViewer(stream, connection, _policy, _logger, _time);
        await response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        await viewer.RunAsync(response.BodyWriter, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>How long a snapshot request waits for the stream's first picture.</summary>
    private static readonly TimeSpan SnapshotWait = TimeSpan.FromSeconds(10);

    /// <summary>Format jpeg: the newest frame as one image/jpeg response.</summary>
    private async Task SnapshotAsync(HttpContext context, LiveStream stream)
    {
        using var watching = _watch(stream.Name);
        var buffer = new ChunkLease[1];
        long started = _time.GetTimestamp();
        while (true)
        {
            if (stream.Output?.Ring is { } ring && ring.LatestJoinPoint is var position and >= 0
                && ring.Read(position, buffer, out int count) == ChunkReadStatus.Data && count > 0)
            {
                var chunk = buffer[0];
                try
                {
                    if (!chunk.Payload.IsEmpty)
                    {
                        await SendSnapshotAsync(context, stream, chunk.Payload).ConfigureAwait(false);
                        return;
                    }
                }
                finally
                {
                    chunk.Release();
                }
            }

            if (_time.GetElapsedTime(started) >= SnapshotWait)
            {
                await Responses.TextAsync(context, 503, $"Stream {stream.Name} has no picture yet: its feed has no publisher.").ConfigureAwait(false);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task SendSnapshotAsync(HttpContext context, LiveStream stream, ReadOnlyMemory<byte> jpeg)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "image/jpeg";
        response.ContentLength = jpeg.Length;
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers.AccessControlAllowOrigin = "*";
        stream.CountConnection();
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(jpeg, context.RequestAborted).ConfigureAwait(false);
            stream.AddBytesSent(jpeg.Length);
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "Stream {Stream}: refused viewer {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string stream, string remote, string reason);
}
