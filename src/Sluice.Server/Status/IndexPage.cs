using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Configuration;
using Sluice.Server.Hls;
using Sluice.Server.Streams;

namespace Sluice.Server.Status;

/// <summary>The / page: every stream with a player, and links to the status pages.</summary>
internal static class IndexPage
{
    /// <summary>
    /// Starts every HLS player: hls.js with lowLatencyMode where Media Source Extensions exist, else the browser's own
    /// HLS; shows the latency (wall clock minus the PROGRAM-DATE-TIME of the frame on screen) twice a second.
    /// </summary>
    private const string HlsScript = """
        for (const video of document.querySelectorAll('video.hls')) {
          const src = video.dataset.src;
          const label = document.querySelector(`span.latency[data-for="${video.id}"]`);
          if (window.Hls && Hls.isSupported()) {
            const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10, maxLiveSyncPlaybackRate: 1.5 });
            hls.loadSource(src);
            hls.attachMedia(video);
            video.hls = hls;
            // A publisher that drops can leave the player without data for a while: recover instead of stopping.
            hls.on(Hls.Events.ERROR, (_, d) => {
              (window.hlsErrors ||= []).push(d.details + (d.fatal ? ' (fatal)' : '') + (d.reason ? ': ' + d.reason : ''));
              if (!d.fatal) return;
              if (d.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError(); else setTimeout(() => hls.startLoad(), 1000);
            });
            setInterval(() => {
              const date = hls.playingDate;
              if (date && label) { video.dataset.latency = (Date.now() - date.getTime()) / 1000; label.textContent = `${Number(video.dataset.latency).toFixed(2)} s`; }
            }, 500);
          } else {
            video.src = src;
            setInterval(() => {
              const date = video.getStartDate && video.getStartDate();
              if (date && !isNaN(date.getTime()) && label) { video.dataset.latency = (Date.now() - date.getTime()) / 1000 - video.currentTime; label.textContent = `${Number(video.dataset.latency).toFixed(2)} s`; }
            }, 500);
          }
        }
        """;

    /// <param name="directory">The streams the page shows, each with its player.</param>
    /// <param name="config">The config's status streams, linked at the end.</param>
    public static async Task WriteAsync(HttpContext context, StreamDirectory directory, ServerConfig config)
    {
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sluice</title>")
         .Append("<style>body{font-family:sans-serif;margin:1.5em;background:#111;color:#eee}a{color:#8cf}section{margin-bottom:2em}video{background:#000;max-width:100%}</style>")
         .Append("</head><body><h1>Sluice</h1>");
        foreach (var stream in directory.Streams.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            string name = WebUtility.HtmlEncode(stream.Name);
            b.Append("<section><h2>").Append(name).Append("</h2>");
            if (directory.Segmenters.TryGetValue(stream.Name, out var segmenter) && (stream.Format.IsSegmentedOnly || segmenter.Unavailable is null))
            {
                // HLS through hls.js in low-latency mode (native HLS where the browser has it and hls.js cannot run),
                // with the latency measured from EXT-X-PROGRAM-DATE-TIME.
                string src = $"/{name}/{MediaUrl.MultivariantName}";
                b.Append($"<video id=\"{name}\" class=\"hls\" data-src=\"{src}\" autoplay muted controls playsinline width=\"640\"></video>");
                b.Append($"<p>HLS: <a href=\"{src}\">{src}</a>, DASH: <a href=\"/{name}/{MediaUrl.ManifestName}\">/{name}/{MediaUrl.ManifestName}</a>; latency <span class=\"latency\" data-for=\"{name}\">-</span></p>");
            }
            else if (stream.Format.CanCarry(Sluice.Media.CodecId.MJPEG) && !stream.Format.CanCarry(Sluice.Media.CodecId.H264))
            {
                b.Append($"<img id=\"{name}\" src=\"/{name}\" alt=\"{name}\" width=\"640\">");
            }
            else if (stream.Format.ContentType.StartsWith("video/", StringComparison.Ordinal) || stream.Format.ContentType.StartsWith("audio/", StringComparison.Ordinal))
            {
                b.Append($"<video id=\"{name}\" src=\"/{name}\" autoplay muted controls playsinline width=\"640\"></video>");
            }

            b.Append($"<p><a href=\"/{name}\">/{name}</a> ({WebUtility.HtmlEncode(stream.Format.Name)}, {WebUtility.HtmlEncode(stream.Config.Feed is { } feed ? $"feed {feed}" : $"file {Path.GetFileName(stream.Config.SourceFile)}")})</p></section>");
        }

        foreach (var status in config.Streams.Where(s => s.IsStatus))
        {
            string name = WebUtility.HtmlEncode(status.Name);
            b.Append($"<p>Status: <a href=\"/{name}\">/{name}</a>, <a href=\"/{WebUtility.HtmlEncode(StatusPage.JsonName(status.Name))}\">JSON</a></p>");
        }

        if (directory.Segmenters.Count > 0)
        {
            b.Append("<script src=\"").Append(PlayerScript.Path).Append("\"></script><script>").Append(HlsScript).Append("</script>");
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
