using System.Net.Http;

namespace Sluice.Tests.Support;

/// <summary>A raw HTTP viewer that reads a stream and counts bytes, for tests of connections rather than decoding.</summary>
public sealed class RawViewer : IAsyncDisposable
{
    private readonly HttpClient _client = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stop = new();
    private Task? _reader;
    private long _bytes;

    public HttpResponseMessage? Response { get; private set; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public bool Ended { get; private set; }

    public static async Task<RawViewer> OpenAsync(string url, TimeSpan timeout)
    {
        var viewer = new RawViewer();
        using var cts = new CancellationTokenSource(timeout);
        viewer.Response = await viewer._client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        if (viewer.Response.IsSuccessStatusCode)
        {
            var body = await viewer.Response.Content.ReadAsStreamAsync(cts.Token);
            viewer._reader = Task.Run(() => viewer.ReadAsync(body));
        }

        return viewer;
    }

    private async Task ReadAsync(Stream body)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await body.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    break;
                }

                Interlocked.Add(ref _bytes, n);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
        {
        }

        Ended = true;
    }

    /// <summary>Waits until the byte count exceeds <paramref name="bytes"/>.</summary>
    public async Task<bool> WaitForBytesAsync(long bytes, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Bytes > bytes)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return Bytes > bytes;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        Response?.Dispose();
        if (_reader is not null)
        {
            await Task.WhenAny(_reader, Task.Delay(5000));
        }

        _client.Dispose();
        _stop.Dispose();
    }
}
