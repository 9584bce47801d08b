using System.Net;

namespace Sluice.Server.Delivery;

internal enum ClientKind
{
    /// <summary>Any other request (pages, 404s...).</summary>
    Request,
    Viewer,
    Publisher,
    Status,
}

/// <summary>One HTTP request in flight, as the status page and the access log see it.</summary>
internal sealed class ClientConnection
{
    private long _bytesSent;
    private long _bytesReceived;

    public ClientConnection(long id, IPAddress remote, string method, string target, string protocol, DateTimeOffset start)
    {
        Id = id;
        Remote = remote;
        Method = method;
        Target = Security.SecretQuery.Redact(target);
        Protocol = protocol;
        Start = start;
    }

    public long Id { get; }
    public IPAddress Remote { get; }
    public string Method { get; }

    /// <summary>The request target (path and query) as pages and logs show it: secret query values masked (<see cref="Security.SecretQuery"/>).</summary>
    public string Target { get; }
    public string Protocol { get; }
    public DateTimeOffset Start { get; }

    public ClientKind Kind { get; set; }

    /// <summary>The stream or feed served, when there is one.</summary>
    public string? Name { get; set; }

    /// <summary>What the client counts against MaxBandwidth, in kbit/s.</summary>
    public long BitRateKbps { get; set; }

    public string State { get; set; } = "WAIT";

    /// <summary>Closes the connection at once (set by the HTTP side).</summary>
    public Action? Abort { get; set; }

    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public void AddSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);
    public void AddReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    /// <summary>Whether it counts against MaxClients.</summary>
    public bool IsClient => Kind is ClientKind.Viewer or ClientKind.Publisher or ClientKind.Status;
}
