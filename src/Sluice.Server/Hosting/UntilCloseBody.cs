using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Sluice.Server.Hosting;

/// <summary>
/// Publishers such as <c>ffmpeg -chunked_post 0</c> send a POST/PUT body with neither Content-Length nor
/// chunked encoding and end it by closing the connection, which HTTP/1.1 reads as "no body". This
/// connection adapter looks at the first request head of a connection and, for such a request, declares the
/// body as running until the connection closes (a Content-Length no body reaches, plus the
/// <see cref="Header"/> marker that tells the ingest a close is the body's normal end). Every other
/// connection is handed to Kestrel as it came, once its first head has been looked at in place: copying a
/// player's requests through a second pipe cost a task switch per request.
/// </summary>
internal static class UntilCloseBody
{
    /// <summary>Set on a request whose body ends when the connection closes.</summary>
    public const string Header = "X-Sluice-Body";
    public const string Value = "until-close";

    private const int MaxHeadBytes = 16 * 1024;
    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] Injected = Encoding.ASCII.GetBytes($"Content-Length: {long.MaxValue}\r\n{Header}: {Value}\r\n");

    public static ConnectionDelegate Adapt(ConnectionDelegate next) => async connection =>
    {
        var original = connection.Transport;
        if (!await FirstHeadNeedsUntilCloseAsync(original.Input).ConfigureAwait(false))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var input = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var pump = PumpAsync(original.Input, input.Writer);
        connection.Transport = new Duplex(input.Reader, original.Output);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            // Kestrel is done with the connection: release a pump blocked on a full pipe (a refused publisher
            // that keeps sending) as well as one waiting for input.
            await input.Reader.CompleteAsync().ConfigureAwait(false);
            original.Input.CancelPendingRead();
            await pump.ConfigureAwait(false);
            connection.Transport = original;
        }
    };

    /// <summary>
    /// Reads until the first request head is complete and leaves it unread, so that Kestrel reads it next. A head
    /// that is too long or a connection that ends first is not ours to judge: Kestrel has it as it is (its own limits
    /// apply). A head that does not come is ConnectionAdmission's: it closes the connection at RequestHeaderTimeout,
    /// which ends this read (no timer a connection here: an idle one costs nothing but its socket and pipes).
    /// </summary>
    private static async Task<bool> FirstHeadNeedsUntilCloseAsync(PipeReader input)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHead, advancePastDelimiter: false))
            {
                bool needs = NeedsUntilClose(head.IsSingleSegment ? head.FirstSpan : head.ToArray());
                input.AdvanceTo(buffer.Start);
                return needs;
            }

            if (result.IsCanceled || result.IsCompleted || buffer.Length > MaxHeadBytes)
            {
                input.AdvanceTo(buffer.Start);
                return false;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static async Task PumpAsync(PipeReader from, PipeWriter to)
    {
        bool headDone = false;
        try
        {
            while (true)
            {
                var result = await from.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }

                if (!headDone)
                {
                    var reader = new SequenceReader<byte>(buffer);
                    if (reader.TryReadTo(out ReadOnlySequence<byte> head, EndOfHead, advancePastDelimiter: false))
                    {
                        headDone = true;
                        var headBytes = head.ToArray();
                        to.Write(headBytes);
                        to.Write("\r\n"u8);
                        if (NeedsUntilClose(headBytes))
                        {
                            to.Write(Injected);
                        }

                        to.Write("\r\n"u8);
                        buffer = buffer.Slice(head.Length + EndOfHead.Length);
                    }
                    else if (buffer.Length > MaxHeadBytes || result.IsCompleted)
                    {
                        headDone = true; // not ours to judge: Kestrel answers it
                    }
                    else
                    {
                        from.AdvanceTo(buffer.Start, buffer.End);
                        continue;
                    }
                }

                foreach (var segment in buffer)
                {
                    to.Write(segment.Span);
                }

                from.AdvanceTo(buffer.End);
                var flushed = await to.FlushAsync().ConfigureAwait(false);
                if (result.IsCompleted || flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or InvalidOperationException)
        {
            // The connection ended; Kestrel sees the end of the input below.
        }
        finally
        {
            await to.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A POST or PUT head with neither Content-Length nor Transfer-Encoding.</summary>
    internal static bool NeedsUntilClose(ReadOnlySpan<byte> head)
    {
        if (!head.StartsWith("POST "u8) && !head.StartsWith("PUT "u8))
        {
            return false;
        }

        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8) || Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
