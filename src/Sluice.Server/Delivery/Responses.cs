using Microsoft.AspNetCore.Http;

namespace Sluice.Server.Delivery;

/// <summary>The short answers a client gets: a status code and a one-line reason, never a stack trace.</summary>
internal static class Responses
{
    /// <summary>Client input quoted in an answer: at most 100 characters of it, so no answer grows with what was sent.</summary>
    public static string Quote(string text) => text.Length <= 100 ? text : string.Concat(text.AsSpan(0, 100), "...");

    public static async Task TextAsync(HttpContext context, int status, string reason)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        if (status == 503)
        {
            response.Headers.RetryAfter = "5";
        }

        string body = reason + "\n";
        response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(body);
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Answers and closes the connection (a publisher only notices a refusal when the connection closes).
    /// "Connection: close" makes Kestrel end the connection after the response without reading the rest of
    /// the body, so a client that waits for the answer reads it, and one that keeps sending (ffmpeg) is cut off.
    /// </summary>
    /// <param name="time">The server's clock, for the bound on reading what the client still sends.</param>
    public static async Task RefuseAndCloseAsync(HttpContext context, int status, string reason, TimeProvider time)
    {
        try
        {
            context.Response.Headers.Connection = "close";
            await TextAsync(context, status, reason).ConfigureAwait(false);
            await context.Response.CompleteAsync().ConfigureAwait(false);
            // A client that sends a short body and then reads (curl, a browser) gets the answer: what it still sends is
            // read and dropped, up to a bound. Then the connection is closed, not left to Kestrel's drain of an endless
            // body: a publisher that keeps sending (ffmpeg sent its whole 5 s feed into a refusal) notices within a
            // second, and no drain fails in the log.
            await DiscardAsync(context.Request.BodyReader, time).ConfigureAwait(false);
            context.Abort();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client is gone already; the refusal is logged by the caller.
            context.Abort();
        }
    }

    private static readonly TimeSpan DiscardTime = TimeSpan.FromSeconds(1);
    private const long DiscardBytes = 1 << 20;

    /// <summary>Reads and drops a refused request's body until it ends, 1 MiB has come, or a second has passed.</summary>
    private static async Task DiscardAsync(System.IO.Pipelines.PipeReader body, TimeProvider time)
    {
        using var limit = new CancellationTokenSource(DiscardTime, time);
        long read = 0;
        try
        {
            while (read < DiscardBytes)
            {
                var result = await body.ReadAsync(limit.Token).ConfigureAwait(false);
                read += result.Buffer.Length;
                body.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException or InvalidOperationException)
        {
            // Slow, broken or gone: closed all the same.
        }
    }
}
