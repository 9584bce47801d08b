using System.Text;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Delivery;

namespace Sluice.Server.Tests.Delivery;

public sealed class ImmutableResponseTests
{
    private static readonly DateTimeOffset Made = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = [.. Enumerable.Range(0, 100).Select(i => (byte)i)];

    private readonly ImmutableResponse _immutable = new("e");
    private long _sent;

    private static DefaultHttpContext Request(string method = "GET", string? range = null, string? ifNoneMatch = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Response.Body = new MemoryStream();
        if (range is not null)
        {
            context.Request.Headers.Range = range;
        }

        if (ifNoneMatch is not null)
        {
            context.Request.Headers.IfNoneMatch = ifNoneMatch;
        }

        return context;
    }

    private Task ServeAsync(HttpContext context, int tag = 5) =>
        _immutable.WriteAsync(context, Body, new Tag(tag), Made, "video/mp4", "e-5.m4s", static (self, bytes) => self._sent += bytes, this);

    private static byte[] Sent(HttpContext context) => ((MemoryStream)context.Response.Body).ToArray();

    [Fact]
    public async Task A_body_is_served_whole_with_its_validators_and_cacheable_for_a_year()
    {
        var context = Request();
        await ServeAsync(context);
        var response = context.Response;
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl.ToString());
        Assert.Equal("\"e-s5\"", response.Headers.ETag.ToString());
        Assert.Equal("bytes", response.Headers.AcceptRanges.ToString());
        Assert.Equal("Sat, 01 Mar 2025 12:00:00 GMT", response.Headers.LastModified.ToString());
        Assert.Equal("video/mp4", response.ContentType);
        Assert.Equal(100, response.ContentLength);
        Assert.Equal(Body, Sent(context));
        Assert.Equal(100, _sent);
    }

    [Fact]
    public async Task The_validators_are_made_once_a_body_and_again_for_another_tag()
    {
        var first = Request();
        var second = Request();
        var other = Request();
        await ServeAsync(first);
        await ServeAsync(second);
        await ServeAsync(other, tag: 6);
        Assert.Same(first.Response.Headers.ETag.ToString(), second.Response.Headers.ETag.ToString());
        Assert.Equal("\"e-s6\"", other.Response.Headers.ETag.ToString());
    }

    [Theory]
    [InlineData("bytes=10-19", 10, 10)]
    [InlineData("bytes=90-", 90, 10)]
    [InlineData("bytes=90-1000", 90, 10)]
    [InlineData("bytes=-10", 90, 10)]
    [InlineData("bytes=-1000", 0, 100)]
    [InlineData("BYTES= 0-0 ", 0, 1)]
    public async Task A_satisfiable_range_is_served_as_206(string range, int offset, int length)
    {
        var context = Request(range: range);
        await ServeAsync(context);
        Assert.Equal(206, context.Response.StatusCode);
        Assert.Equal($"bytes {offset}-{offset + length - 1}/100", context.Response.Headers.ContentRange.ToString());
        Assert.Equal(length, context.Response.ContentLength);
        Assert.Equal(Body[offset..(offset + length)], Sent(context));
        Assert.Equal(length, _sent);
    }

    [Theory]
    [InlineData("bytes=100-")]
    [InlineData("bytes=20-10")]
    [InlineData("bytes=-0")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=x-")]
    [InlineData("bytes=5")]
    [InlineData("items=0-1")]
    [InlineData("bytes=99999999999999999999-")]
    [InlineData("bytes=<script>alert(1)</script>-")]
    public async Task An_unsatisfiable_range_is_a_416_that_does_not_echo_it(string range)
    {
        var context = Request(range: range);
        await ServeAsync(context);
        Assert.Equal(416, context.Response.StatusCode);
        Assert.Equal("bytes */100", context.Response.Headers.ContentRange.ToString());
        string text = Encoding.UTF8.GetString(Sent(context));
        Assert.Equal("Range: the bytes asked for are not within the 100 bytes of e-5.m4s.\n", text);
        Assert.DoesNotContain(range, text, StringComparison.Ordinal);
        Assert.Equal(0, _sent);
    }

    [Fact]
    public async Task If_none_match_with_its_etag_is_a_304_without_a_body()
    {
        var context = Request(ifNoneMatch: "\"e-s5\"", range: "bytes=0-9");
        await ServeAsync(context);
        Assert.Equal(304, context.Response.StatusCode);
        Assert.Equal("\"e-s5\"", context.Response.Headers.ETag.ToString());
        Assert.Empty(Sent(context));
        Assert.Equal(0, _sent);
    }

    [Fact]
    public async Task If_none_match_with_another_etag_serves_the_body()
    {
        var context = Request(ifNoneMatch: "\"e-s4\"");
        await ServeAsync(context);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(Body, Sent(context));
    }

    [Fact]
    public async Task Head_answers_the_headers_only()
    {
        var context = Request("HEAD");
        await ServeAsync(context);
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(100, context.Response.ContentLength);
        Assert.Empty(Sent(context));
        Assert.Equal(0, _sent);
    }

    [Theory]
    [InlineData("bytes=0-", 0, false)]
    [InlineData("bytes=0-", 1, true)]
    [InlineData("bytes=-1", 0, false)]
    [InlineData("bytes=0-0", 0, false)]
    [InlineData("bytes=-5", 1, true)]
    public void Ranges_of_small_bodies(string range, int size, bool satisfiable) =>
        Assert.Equal(satisfiable, ImmutableResponse.TryRange(range, size, out _, out _));

    private readonly record struct Tag(int Number)
    {
        public override string ToString() => $"s{Number}";
    }
}
