using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Hls;
using Sluice.Server.Ingest;
using Sluice.Server.Status;
using Sluice.Server.Streams;

namespace Sluice.Server.Hosting;

/// <summary>
/// Maps every request to what the config names: a feed (publishers), a stream (viewers), a status page,
/// a redirect, or the index page. Registers the request for the limits, the status page and the access log.
/// </summary>
/// <param name="config">The status streams and redirects, looked up by name.</param>
/// <param name="directory">The feeds and streams, looked up by name.</param>
/// <param name="limits">Counts every request (MaxHTTPConnections, the status page).</param>
/// <param name="admission">Who may read a status page.</param>
/// <param name="accessLog">CustomLog, when the config has one: a line a request.</param>
/// <param name="status">Reads the status page's snapshot of the server.</param>
/// <param name="ingest">Publishers' POST and PUT to a feed.</param>
/// <param name="viewers">Progressive viewers of a stream.</param>
/// <param name="hls">A segmented stream's playlists, manifest and segments.</param>
/// <param name="time">The server's clock: the times of the status page and the access log.</param>
internal sealed partial class Dispatcher(
    ServerConfig config,
    StreamDirectory directory,
    Limits limits,
    Admission admission,
    AccessLog? accessLog,
    Func<StatusSnapshot> status,
    HttpIngest ingest,
    ViewerEndpoint viewers,
    HlsEndpoint hls,
    TimeProvider time,
    ILogger logger)
{
    private readonly ServerConfig _config = config;
    private readonly StreamDirectory _directory = directory;
    private readonly Limits _limits = limits;
    private readonly Admission _admission = admission;
    private readonly AccessLog? _accessLog = accessLog;
    private readonly Func<StatusSnapshot> _status = status;
    private readonly HttpIngest _ingest = ingest;
    private readonly ViewerEndpoint _viewers = viewers;
    private readonly HlsEndpoint _hls = hls;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<ConnectionGate.Entry>() is { } gated)
        {
            _limits.Gate.HeadReceived(gated);
        }

        var remote = context.Connection.RemoteIpAddress ?? IPAddress.None;
        string target = request.Path.Value + request.QueryString.Value;
        var connection = new ClientConnection(_limits.NextId(), remote, request.Method, target, request.Protocol, _time.GetUtcNow())
        {
            Abort = context.Abort,
        };
        try
        {
            if (_limits.Open(connection, status: _limits.OverConnectionLimit && IsStatus(request.Path.Value)) is { } refusal)
            {
                await Responses.TextAsync(context, refusal.StatusCode, refusal.Reason).ConfigureAwait(false);
                return;
            }

            await RouteAsync(context, connection).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex)
        {
            LogFailed(_logger, connection.Target, ex);
            if (!context.Response.HasStarted)
            {
                await Responses.TextAsync(context, 500, "Internal server error.").ConfigureAwait(false);
            }
        }
        finally
        {
            _limits.Close(connection);
            if (connection.BytesSent == 0 && context.Response.ContentLength is long length && !HttpMethods.IsHead(request.Method))
            {
                connection.AddSent(length);
            }

            _accessLog?.Write(AccessLog.Format(connection, context.Response.StatusCode, _time.GetUtcNow(),
                request.Headers.Referer.ToString(), request.Headers.UserAgent.ToString()));
        }
    }

    private async Task FeedAsync(HttpContext context, Feeds.Feed feed, string name, ClientConnection connection)
    {
        string method = context.Request.Method;
        if (HttpMethods.IsPost(method) || HttpMethods.IsPut(method))
        {
            await _ingest.HandleAsync(context, feed, connection).ConfigureAwait(false);
            return;
        }

        // An OPTIONS preflight too: no Access-Control-Allow-* header, so a browser never sends the POST it asks about.
        context.Response.Headers.Allow = "POST, PUT";
        await Responses.TextAsync(context, 405, $"{name} is a feed: publish to it with POST or PUT (ffmpeg ... -f webm http://host:port/{name}); watch one of its streams instead.").ConfigureAwait(false);
    }

    /// <summary>Whether the path asks for a status page (served within the connection margin kept for them).</summary>
    private bool IsStatus(string? path) => path is { Length: > 1 } && StatusPage.Find(_config, path[1..], out _) is not null;

    private async Task RouteAsync(HttpContext context, ClientConnection connection)
    {
        string path = context.Request.Path.Value ?? "/";
        string method = context.Request.Method;
        string name = path.TrimStart('/');
        if (_directory.Feeds.TryGetValue(name, out var feed))
        {
            await FeedAsync(context, feed, name, connection).ConfigureAwait(false);
            return;
        }

        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
        {
            // Only a feed takes a body; everything else is read. No CORS preflight is answered with permission either.
            context.Response.Headers.Allow = "GET, HEAD";
            await Responses.TextAsync(context, 405, $"{Responses.Quote(method)} is not allowed on {Responses.Quote(path)}: it is read with GET; only a feed takes POST or PUT.").ConfigureAwait(false);
            return;
        }

        // A config's <Redirect index.html> (or stream of that name) wins over the index page.
        if (path == "/" || (path == "/index.html" && !_directory.Streams.ContainsKey(name) && !_config.Redirects.Any(r => r.Name == name)))
        {
            await IndexPage.WriteAsync(context, _directory, _config).ConfigureAwait(false);
            return;
        }

        if (path == PlayerScript.Path)
        {
            await PlayerScript.WriteAsync(context).ConfigureAwait(false);
            return;
        }


        // A stream's name may have '/' in it (live/cam.webm): a path that is not a stream's whole name is a segmented
        // stream's name up to its last '/', then one of its HLS or DASH names.
        int slash = name.LastIndexOf('/');
        if (slash > 0 && !_directory.Streams.ContainsKey(name) && _directory.Streams.TryGetValue(name[..slash], out var segmented))
        {
            if (_directory.Segmenters.TryGetValue(segmented.Name, out var segmenter))
            {
                await _hls.HandleAsync(context, segmented, segmenter, name[(slash + 1)..], connection).ConfigureAwait(false);
            }
            else
            {
                await Responses.TextAsync(context, 404, $"Stream {segmented.Name} is served progressively only (HLS off, {segmented.Config.Location}): watch /{segmented.Name}.").ConfigureAwait(false);
            }

            return;
        }

        if (_directory.Streams.TryGetValue(name, out var stream))
        {
            if (stream.Format.IsSegmentedOnly)
            {
                // A Format hls or dash stream has no progressive form: send the player to its playlist.
                string entry = stream.Format == Sluice.Media.Formats.OutputFormat.Dash ? MediaUrl.ManifestName : MediaUrl.MultivariantName;
                context.Response.Headers.Location = $"{stream.Config.UrlPath}/{entry}";
                await Responses.TextAsync(context, 302, $"Stream {name} is served as {stream.Format.Name}: /{name}/{entry}.").ConfigureAwait(false);
                return;
            }

            await _viewers.HandleAsync(context, stream, connection).ConfigureAwait(false);
            return;
        }

        var statusStream = StatusPage.Find(_config, name, out bool json);
        if (statusStream is not null)
        {
            if (_admission.Status(statusStream, connection) is { } refusal)
            {
                await Responses.TextAsync(context, refusal.StatusCode, refusal.Reason).ConfigureAwait(false);
                return;
            }

            await StatusPage.WriteAsync(context, _status(), json).ConfigureAwait(false);
            return;
        }

        var redirect = _config.Redirects.FirstOrDefault(r => r.Name == name);
        if (redirect is { Url: null })
        {
            await Responses.TextAsync(context, 404, $"The redirect {Responses.Quote(name)} has no target: its URL in the server's configuration is only a comment.").ConfigureAwait(false);
            return;
        }

        if (redirect is not null)
        {
            context.Response.Headers.Location = redirect.Url;
            await Responses.TextAsync(context, 301, $"Moved to {redirect.Url}.").ConfigureAwait(false);
            return;
        }

        await Responses.TextAsync(context, 404, $"No feed or stream is named {Responses.Quote(name)}.").ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "Request {Target} failed")]
    private static partial void LogFailed(ILogger logger, string target, Exception ex);
}
