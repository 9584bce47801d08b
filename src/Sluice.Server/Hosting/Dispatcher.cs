using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sluice.Server.Delivery;
using Sluice.Server.Hls;
using Sluice.Server.Ingest;
using Sluice.Server.Status;

namespace Sluice.Server.Hosting;

/// <summary>
/// Maps every request to what the config names: a feed (publishers), a stream (viewers), a status page,
/// a redirect, or the index page. Registers the request for the limits, the status page and the access log.
/// </summary>
internal sealed partial class Dispatcher
{
    private readonly SluiceServer _server;
    private readonly HttpIngest _ingest;
    private readonly ViewerEndpoint _viewers;
    private readonly HlsEndpoint _hls;
    private readonly ILogger _logger;

    public Dispatcher(SluiceServer server)
    {
        _server = server;
        _logger = server.Loggers.CreateLogger("Sluice.Http");
        _ingest = new HttpIngest(server, server.Loggers.CreateLogger("Sluice.Ingest"));
        _viewers = new ViewerEndpoint(server);
        _hls = new HlsEndpoint(server);
    }

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.Features.Get<ConnectionGate.Entry>() is { } gated)
        {
            _server.Limits.Gate.HeadReceived(gated);
        }

        var remote = context.Connection.RemoteIpAddress ?? IPAddress.None;
        string target = request.Path.Value + request.QueryString.Value;
        var connection = new ClientConnection(_server.Limits.NextId(), remote, request.Method, target, request.Protocol, _server.Time.GetUtcNow())
        {
            Abort = context.Abort,
        };
        try
        {
            if (_server.Limits.Open(connection, status: _server.Limits.OverConnectionLimit && IsStatus(request.Path.Value)) is { } refusal)
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
            _server.Limits.Close(connection);
            if (connection.BytesSent == 0 && context.Response.ContentLength is long length && !HttpMethods.IsHead(request.Method))
            {
                connection.AddSent(length);
            }

            _server.AccessLog?.Write(AccessLog.Format(connection, context.Response.StatusCode, _server.Time.GetUtcNow(),
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
    private bool IsStatus(string? path) => path is { Length: > 1 } && StatusPage.Find(_server.Config, path[1..], out _) is not null;

    private async Task RouteAsync(HttpContext context, ClientConnection connection)
    {
        string path = context.Request.Path.Value ?? "/";
        string method = context.Request.Method;
        string name = path.TrimStart('/');
        if (_server.Feeds.TryGetValue(name, out var feed))
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
        if (path == "/" || (path == "/index.html" && !_server.Streams.ContainsKey(name) && !_server.Config.Redirects.Any(r => r.Name == name)))
        {
            await IndexPage.WriteAsync(context, _server).ConfigureAwait(false);
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
        if (slash > 0 && !_server.Streams.ContainsKey(name) && _server.Streams.TryGetValue(name[..slash], out var segmented))
        {
            if (_server.Segmenters.TryGetValue(segmented.Name, out var segmenter))
            {
                await _hls.HandleAsync(context, segmented, segmenter, name[(slash + 1)..], connection).ConfigureAwait(false);
            }
            else
            {
                await Responses.TextAsync(context, 404, $"Stream {segmented.Name} is served progressively only (HLS off, {segmented.Config.Location}): watch /{segmented.Name}.").ConfigureAwait(false);
            }

            return;
        }

        if (_server.Streams.TryGetValue(name, out var stream))
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

        var statusStream = StatusPage.Find(_server.Config, name, out bool json);
        if (statusStream is not null)
        {
            if (_server.Admission.Status(statusStream, connection) is { } refusal)
            {
                await Responses.TextAsync(context, refusal.StatusCode, refusal.Reason).ConfigureAwait(false);
                return;
            }

            await StatusPage.WriteAsync(context, _server, json).ConfigureAwait(false);
            return;
        }

        var redirect = _server.Config.Redirects.FirstOrDefault(r => r.Name == name);
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
