using Microsoft.AspNetCore.Http;
using Sluice.Server.Delivery;

namespace Sluice.Server.Status;

/// <summary>GET /hls.min.js: the hls.js player of the / page, embedded in the server when it was built.</summary>
internal static class PlayerScript
{
    public const string Path = "/hls.min.js";

    private static readonly Lazy<byte[]?> Script = new(() =>
    {
        using var resource = typeof(PlayerScript).Assembly.GetManifestResourceStream("hls.min.js");
        if (resource is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        resource.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>True when the server was built with hls.js (scripts/run and scripts/test install it).</summary>
    public static bool Available => Script.Value is not null;

    public static async Task WriteAsync(HttpContext context)
    {
        if (Script.Value is not { } script)
        {
            await Responses.TextAsync(context, 404, "This server was built without hls.js (npm ci in src/Sluice.Server/web before building; scripts/run does it).").ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.ContentType = "text/javascript; charset=utf-8";
        response.Headers.CacheControl = "public, max-age=86400";
        response.ContentLength = script.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(script, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
