using System.Globalization;
using System.Text;

namespace Sluice.Server.Delivery;

/// <summary>
/// CustomLog: one line per finished request in the Apache combined format
/// (<c>host - - [time] "request" status bytes "referer" "user-agent"</c>), to standard output ("-") or a file.
/// </summary>
public sealed class AccessLog : IDisposable
{
    private readonly TextWriter _writer;
    private readonly bool _owns;
    private readonly Lock _lock = new();

    private AccessLog(TextWriter writer, bool owns)
    {
        _writer = writer;
        _owns = owns;
    }

    public static AccessLog? Open(string? customLog)
    {
        if (string.IsNullOrEmpty(customLog))
        {
            return null;
        }

        if (customLog == "-")
        {
            return new AccessLog(Console.Out, owns: false);
        }

        var stream = new FileStream(customLog, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        return new AccessLog(new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true }, owns: true);
    }

    public static string Format(ClientConnection c, int status, DateTimeOffset time, string? referer, string? userAgent)
    {
        var sb = new StringBuilder(160);
        sb.Append(c.Remote.IsIPv4MappedToIPv6 ? c.Remote.MapToIPv4() : c.Remote).Append(" - - [")
          .Append(time.ToString("dd/MMM/yyyy:HH:mm:ss ", CultureInfo.InvariantCulture))
          .Append(time.Offset < TimeSpan.Zero ? '-' : '+').Append(time.Offset.ToString("hhmm", CultureInfo.InvariantCulture))
          .Append("] \"").Append(Escape(c.Method)).Append(' ').Append(Escape(c.Target)).Append(' ').Append(Escape(c.Protocol)).Append("\" ")
          .Append(status).Append(' ')
          .Append(c.BytesSent > 0 ? c.BytesSent.ToString(CultureInfo.InvariantCulture) : "-")
          .Append(" \"").Append(string.IsNullOrEmpty(referer) ? "-" : Escape(referer))
          .Append("\" \"").Append(string.IsNullOrEmpty(userAgent) ? "-" : Escape(userAgent)).Append('"');
        return sb.ToString();
    }

    private static string Escape(string s)
    {
        if (!s.AsSpan().ContainsAny("\"\\\r\n"))
        {
            return s;
        }

        return s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    public void Write(string line)
    {
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    public void Dispose()
    {
        if (_owns)
        {
            _writer.Dispose();
        }
    }
}
