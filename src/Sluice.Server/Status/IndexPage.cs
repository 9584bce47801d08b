using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sluice.Server.Status;

/// <summary>The / page: every stream with a player, and links to the status pages.</summary>
public static class IndexPage
{
    public static async Task WriteAsync(HttpContext context, SluiceServer server)
    {
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sluice</title>")
         .Append("<style>body{font-family:sans-serif;margin:1.5em;background:#111;color:#eee}a{color:#8cf}section{margin-bottom:2em}video{background:#000;max-width:100%}</style>")
         .Append("</head><body><h1>Sluice</h1>");
        foreach (var stream in server.Streams.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            string name = WebUtility.HtmlEncode(stream.Name);
            b.Append("<section><h2>").Append(name).Append("</h2>");
            if (stream.Format.CanCarry(Sluice.Media.CodecId.MJPEG) && !stream.Format.CanCarry(Sluice.Media.CodecId.H264))
            {
                b.Append($"<img id=\"{name}\" src=\"/{name}\" alt=\"{name}\" width=\"640\">");
            }
            else if (stream.Format.ContentType.StartsWith("video/", StringComparison.Ordinal) || stream.Format.ContentType.StartsWith("audio/", StringComparison.Ordinal))
            {
                b.Append($"<video id=\"{name}\" src=\"/{name}\" autoplay muted controls playsinline width=\"640\"></video>");
            }

            b.Append($"<p><a href=\"/{name}\">/{name}</a> ({WebUtility.HtmlEncode(stream.Format.Name)}, feed {WebUtility.HtmlEncode(stream.Config.Feed)})</p></section>");
        }

        foreach (var status in server.Config.Streams.Where(s => s.IsStatus))
        {
            string name = WebUtility.HtmlEncode(status.Name);
            b.Append($"<p>Status: <a href=\"/{name}\">/{name}</a>, <a href=\"/{WebUtility.HtmlEncode(StatusPage.JsonName(status.Name))}\">JSON</a></p>");
        }

        b.Append("</body></html>");
        byte[] body = Encoding.UTF8.GetBytes(b.ToString());
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
