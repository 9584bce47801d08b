using System.Globalization;
using System.Text;

namespace Sluice.Server.Delivery;

/// <summary>
/// CustomLog: one line per finished request in the Apache combined format
/// (<c>host - - [time] "request" status bytes "referer" "user-agent"</c>), to standard output ("-") or a file.
/// </summary>
internal sealed class AccessLog : IDisposable
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

    /// <summary>
    /// Quotes, backslashes and control characters escaped as Apache does (<c>\"</c>, <c>\\</c>, <c>\n</c>, <c>\x1b</c>): a
    /// client's User-Agent or target can neither end its field, nor forge a line, nor send escape sequences to a
    /// terminal that shows the log.
    /// </summary>
    internal static string Escape(string s)
    {
        if (!s.AsSpan().ContainsAnyInRange('\0', '\x1f') && !s.AsSpan().ContainsAny("\"\\\x7f"))
        {
            return s;
        }

        var sb = new StringBuilder(s.Length + 16);
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\r': sb.Append("\\r"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ' or '\x7f': sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }

        return sb.ToString();
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
