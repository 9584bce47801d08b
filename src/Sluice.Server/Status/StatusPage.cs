using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Configuration;

namespace Sluice.Server.Status;

/// <summary>
/// A stream with <c>Format status</c>: ffserver's stat.html, as HTML at its name and as JSON at the same
/// name with <c>.json</c> in place of its extension (stat.html → stat.json).
/// </summary>
internal static class StatusPage
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static StreamConfig? Find(ServerConfig config, string name, out bool json)
    {
        json = false;
        foreach (var stream in config.Streams)
        {
            if (!stream.IsStatus)
            {
                continue;
            }

            if (stream.Name == name)
            {
                return stream;
            }

            if (name == JsonName(stream.Name))
            {
                json = true;
                return stream;
            }
        }

        return null;
    }

    public static string JsonName(string statusName) => Path.ChangeExtension(statusName, ".json");

    public static async Task WriteAsync(HttpContext context, StatusSnapshot snapshot, bool json)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-cache";
        byte[] body;
        if (json)
        {
            response.ContentType = "application/json";
            body = JsonSerializer.SerializeToUtf8Bytes(snapshot, Json);
        }
        else
        {
            response.ContentType = "text/html; charset=utf-8";
            body = Encoding.UTF8.GetBytes(Html(snapshot));
        }

        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static string Html(StatusSnapshot s)
    {
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sluice status</title>")
         .Append("<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;padding:3px 8px;text-align:left}th{background:#eee}td.n{text-align:right}</style>")
         .Append("</head><body><h1>Sluice status</h1>");
        b.Append($"<p>Time {s.Time:u}, up since {s.Started:u}.</p>");

        b.Append("<h2>Available streams</h2><table><tr><th>Stream</th><th>Served</th><th>Viewers</th><th>Bytes</th><th>Format</th><th>kbit/s</th><th>Tracks</th><th>Feed</th><th>Source</th></tr>");
        foreach (var st in s.Streams)
        {
            b.Append($"<tr><td><a href=\"/{E(st.Name)}\">{E(st.Name)}</a></td><td class=n>{st.ConnectionsServed}</td><td class=n>{st.Viewers}</td><td class=n>{st.BytesSent}</td><td>{E(st.Format)}</td><td class=n>{st.BitRateKbps}</td><td>{E(string.Join(", ", st.Tracks))}</td><td>{E(st.Feed)}</td><td>{E(st.Mode)}</td></tr>");
        }

        b.Append("</table>");
        if (s.Streams.Any(st => st.Hls is not null))
        {
            b.Append("<h2>HLS and DASH</h2><table><tr><th>Stream</th><th>Segments</th><th>Newest</th><th>Target s</th><th>Players (30 s)</th><th>Playlists</th><th>Segments served</th><th>Parts served</th><th>Bytes</th><th>State</th></tr>");
            foreach (var st in s.Streams.Where(st => st.Hls is not null))
            {
                var h = st.Hls!;
                b.Append($"<tr><td><a href=\"/{E(st.Name)}/index.m3u8\">{E(st.Name)}</a> ({E(h.SegmentFormat)})</td><td class=n>{h.Segments}</td><td class=n>{h.NewestSegment}</td><td class=n>{h.TargetDuration}</td><td class=n>{h.Players}</td><td class=n>{h.Playlists}</td><td class=n>{h.SegmentsServed}</td><td class=n>{h.PartsServed}</td><td class=n>{h.BytesSent}</td><td>{E(h.Unavailable ?? "serving")}</td></tr>");
            }

            b.Append("</table>");
        }

        b.Append("<h2>Feeds</h2><table><tr><th>Feed</th><th>Publisher</th><th>Format</th><th>kbit/s</th><th>Bytes received</th><th>Tracks</th></tr>");
        foreach (var f in s.Feeds)
        {
            string publisher = f.Publisher is null ? "none" : $"{f.Publisher.Address} ({f.Publisher.Via}) since {f.Publisher.Since:u}";
            b.Append($"<tr><td>{E(f.Name)}</td><td>{E(publisher)}</td><td>{E(f.Publisher?.Format)}</td><td class=n>{f.BitRateKbps}</td><td class=n>{f.Publisher?.BytesReceived ?? 0}</td><td>{E(string.Join(", ", f.Tracks))}</td></tr>");
        }

        b.Append("</table>");
        var files = s.Feeds.Where(f => f.File is not null).ToList();
        if (files.Count > 0)
        {
            b.Append("<h2>Feed files</h2><table><tr><th>Feed</th><th>File</th><th>State</th><th>Bytes</th><th>Packets</th><th>Oldest</th><th>Newest</th><th>Not written</th></tr>");
            foreach (var f in files)
            {
                var file = f.File!;
                string state = file.StopReason is { } why ? $"{file.State}: {why}" : file.State;
                b.Append($"<tr><td>{E(f.Name)}</td><td>{E(file.Path)}</td><td>{E(state)}</td><td class=n>{file.Size}</td><td class=n>{file.Packets}</td><td>{file.Oldest:u}</td><td>{file.Newest:u}</td><td class=n>{file.QueueDropped + file.Skipped}</td></tr>");
            }

            b.Append("</table>");
        }

        if (s.Encoders.Count > 0)
        {
            b.Append("<h2>Encoders</h2><table><tr><th>Feed</th><th>Streams</th><th>State</th><th>Process</th><th>Starts</th><th>Restarts</th><th>Speed</th><th>Frames</th><th>Dropped packets</th><th>Last message</th></tr>");
            foreach (var e in s.Encoders)
            {
                string speed = e.Speed is { } x ? $"{x:0.00}x" : "";
                b.Append($"<tr><td>{E(e.Feed)}</td><td>{E(string.Join(", ", e.Streams))}</td><td>{E(e.State)}</td><td class=n>{e.ProcessId}</td><td class=n>{e.Starts}</td><td class=n>{e.Restarts}</td><td class=n>{speed}</td><td class=n>{e.Frames}</td><td class=n>{e.DroppedPackets}</td><td>{E(e.LastError)}</td></tr>");
            }

            b.Append("</table>");
        }

        if (s.ContainerFfmpegs.Count > 0)
        {
            b.Append("<h2>Containers written by ffmpeg</h2><table><tr><th>Stream</th><th>Feed</th><th>Format</th><th>State</th><th>Process</th><th>Starts</th><th>Restarts</th><th>Same failures</th><th>Last message</th></tr>");
            foreach (var c in s.ContainerFfmpegs)
            {
                b.Append($"<tr><td>{E(c.Stream)}</td><td>{E(c.Feed)}</td><td>{E(c.Format)}</td><td>{E(c.State)}</td><td class=n>{c.ProcessId}</td><td class=n>{c.Starts}</td><td class=n>{c.Restarts}</td><td class=n>{c.SameFailures}</td><td>{E(c.LastError)}</td></tr>");
            }

            b.Append("</table>");
        }

        if (s.SkippedStreams.Count > 0)
        {
            b.Append("<h2>Streams not served</h2><table><tr><th>Stream</th><th>Why</th><th>Where</th></tr>");
            foreach (var skipped in s.SkippedStreams)
            {
                b.Append($"<tr><td>{E(skipped.Name)}</td><td>{E(skipped.Reason)}</td><td>{E(skipped.Location.ToString())}</td></tr>");
            }

            b.Append("</table>");
        }

        b.Append($"<p>Number of connections: {s.Clients} / {s.MaxClients} (HTTP connections {s.Connections} / {s.MaxHTTPConnections})<br>");
        b.Append($"Bandwidth in use: {s.BandwidthKbps}k / {s.MaxBandwidthKbps}k<br>");
        b.Append($"Media buffers: {s.Buffers.BlocksLent} blocks lent, {s.Buffers.BlocksMade} made, {s.Buffers.FreeBytes / 1024} KiB free</p>");
        b.Append("<h2>Connections</h2><table><tr><th>#</th><th>Address</th><th>URL</th><th>Kind</th><th>State</th><th>Target kbit/s</th><th>Bytes sent</th><th>Bytes received</th></tr>");
        foreach (var c in s.ConnectionList)
        {
            b.Append($"<tr><td class=n>{c.Id}</td><td>{E(c.Address)}</td><td>{E(c.Method)} {E(c.Url)}</td><td>{E(c.Kind)}</td><td>{E(c.State)}</td><td class=n>{c.BitRateKbps}</td><td class=n>{c.BytesSent}</td><td class=n>{c.BytesReceived}</td></tr>");
        }

        b.Append("</table></body></html>");
        return b.ToString();
    }
}
