using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;

namespace Sluice.Server.Delivery;

/// <summary>
/// Answers with a body that never changes once made (a segment, a part, an init segment): cacheable for a year, with an
/// ETag and Last-Modified, 304 to an If-None-Match that names it, and one byte range (206, or 416 when it is not
/// within the body).
/// </summary>
internal sealed class ImmutableResponse
{
    private const string Immutable = "public, max-age=31536000, immutable";

    private readonly string _tagPrefix;

    /// <summary>ETag and Last-Modified of each body served, made on its first request (bodies never change; kept as long as the body).</summary>
    private readonly ConditionalWeakTable<byte[], Validators> _validators = new();

    /// <param name="tagPrefix">Begins every ETag: what tells these bodies from others under the same names (a server's epoch).</param>
    public ImmutableResponse(string tagPrefix) => _tagPrefix = tagPrefix;

    /// <summary>
    /// Answers with <paramref name="data"/> (200, 206, 304 or 416), and tells <paramref name="sent"/> how many of its
    /// bytes are sent before they are written (nothing for HEAD, 304 and 416).
    /// </summary>
    /// <param name="tag">What the body is, in the caller's terms; its text follows the prefix in the ETag. Equal tags name the same body.</param>
    /// <param name="name">The name asked for, in the 416 text.</param>
    /// <param name="sent">Told how many bytes are about to be written (a static lambda: no allocation per request).</param>
    public async Task WriteAsync<TTag, TState>(HttpContext context, byte[] data, TTag tag, DateTimeOffset? modified, string type, string name,
        Action<TState, long> sent, TState state)
        where TTag : struct, IEquatable<TTag>
    {
        var request = context.Request;
        var response = context.Response;
        if (!_validators.TryGetValue(data, out var validators) || validators.Tag is not TTag known || !known.Equals(tag))
        {
            // (A body also served under another name, as a segment of a single part may be, is given its own each time.)
            validators = new Validators(tag, $"\"{_tagPrefix}-{tag}\"", modified?.ToString("R", CultureInfo.InvariantCulture));
            _validators.TryAdd(data, validators);
        }

        string etag = validators.ETag;
        response.Headers.CacheControl = Immutable;
        response.Headers.ETag = etag;
        response.Headers.AcceptRanges = "bytes";
        if (validators.LastModified is { } lastModified)
        {
            response.Headers.LastModified = lastModified;
        }

        if (request.Headers.IfNoneMatch == etag)
        {
            response.StatusCode = 304;
            return;
        }

        int offset = 0, length = data.Length;
        if (request.Headers.Range.ToString() is { Length: > 0 } range)
        {
            if (!TryRange(range, data.Length, out offset, out length))
            {
                response.Headers.ContentRange = $"bytes */{data.Length}";
                // The Range header is the client's, of any length: not echoed back.
                await Responses.TextAsync(context, 416, $"Range: the bytes asked for are not within the {data.Length} bytes of {name}.").ConfigureAwait(false);
                return;
            }

            response.StatusCode = 206;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{data.Length}");
        }
        else
        {
            response.StatusCode = 200;
        }

        response.ContentType = type;
        response.ContentLength = length;
        if (!HttpMethods.IsHead(request.Method))
        {
            sent(state, length);
            await response.Body.WriteAsync(data.AsMemory(offset, length), context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>One range of "bytes=a-b", "bytes=a-" or "bytes=-n"; false when it is not satisfiable or not one range.</summary>
    public static bool TryRange(string header, int size, out int offset, out int length)
    {
        offset = 0;
        length = 0;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }

        var spec = header.AsSpan(6).Trim();
        int dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return false;
        }

        var from = spec[..dash];
        var to = spec[(dash + 1)..];
        if (from.IsEmpty)
        {
            if (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out long suffix) || suffix == 0 || size == 0)
            {
                return false;
            }

            length = (int)Math.Min(suffix, size);
            offset = size - length;
            return true;
        }

        if (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out long first) || first >= size)
        {
            return false;
        }

        long last = size - 1;
        if (!to.IsEmpty && (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out last) || last < first))
        {
            return false;
        }

        offset = (int)first;
        length = (int)(Math.Min(last, size - 1) - first + 1);
        return true;
    }

    /// <summary>The tag a body's validators were made for (boxed once, when they are made), and the header values.</summary>
    private sealed record Validators(object Tag, string ETag, string? LastModified);
}
