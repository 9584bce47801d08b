using System.Net;
using Sluice.Server.Delivery;

namespace Sluice.Server.Tests.Delivery;

public sealed class AccessLogTests
{
    [Fact]
    public void Lines_are_in_the_Apache_combined_format()
    {
        var c = new ClientConnection(1, IPAddress.Parse("::ffff:127.0.0.1"), "GET", "/livestream?x=\"1\"", "HTTP/1.1", DateTimeOffset.UnixEpoch);
        c.AddSent(123456);
        var time = new DateTimeOffset(2026, 11, 24, 13, 5, 9, TimeSpan.FromHours(-5));
        Assert.Equal(
            "127.0.0.1 - - [24/Nov/2026:13:05:09 -0500] \"GET /livestream?x=\\\"1\\\" HTTP/1.1\" 200 123456 \"-\" \"Lavf/59.27.100\"",
            AccessLog.Format(c, 200, time, null, "Lavf/59.27.100"));
    }

    [Fact]
    public void A_response_with_no_body_logs_a_dash()
    {
        var c = new ClientConnection(1, IPAddress.Loopback, "HEAD", "/", "HTTP/1.1", DateTimeOffset.UnixEpoch);
        Assert.EndsWith("\"HEAD / HTTP/1.1\" 404 - \"http://x/\" \"-\"", AccessLog.Format(c, 404, DateTimeOffset.UnixEpoch, "http://x/", ""));
    }

    [Fact]
    public void Control_characters_are_escaped_and_secrets_masked()
    {
        var c = new ClientConnection(1, IPAddress.Loopback, "POST", "/k.ffm?key=s3cr3t-KEY", "HTTP/1.1", DateTimeOffset.UnixEpoch);
        string line = AccessLog.Format(c, 403, DateTimeOffset.UnixEpoch, null, "evil\u001b[31mred\u0007\r\nforged \"line\"\u007f");
        Assert.EndsWith("\"POST /k.ffm?key=REDACTED HTTP/1.1\" 403 - \"-\" \"evil\\x1b[31mred\\x07\\r\\nforged \\\"line\\\"\\x7f\"", line);
        Assert.DoesNotContain('\u001b', line);
        Assert.DoesNotContain("s3cr3t", line);
    }
}
