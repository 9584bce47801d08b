using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats.Rtmp;
using RtmpWire = Sluice.Media.Formats.Rtmp.Rtmp;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Streams;

namespace Sluice.Server.Ingest.Rtmp;

/// <summary>
/// One RTMP connection: the handshake, then messages until the peer publishes a feed or plays a stream. A publisher's
/// audio, video and data messages go into its feed as packets; a player gets the stream's shared RTMP output (see
/// <see cref="RtmpMuxer"/>) through the same delivery as a progressive HTTP viewer, so slow players skip and are
/// dropped alike. Bad input closes this connection only, with a log line saying why.
/// </summary>
internal sealed partial class RtmpSession
{
    /// <summary>The acknowledgement window Sluice asks of peers and announces as its bandwidth.</summary>
    private const uint Window = 2_500_000;

    private readonly RtmpServices _services;
    private readonly ConnectionContext _context;
    private readonly IPAddress _remote;
    private readonly ILogger _logger;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly RtmpChunkReader _chunks = new() { Limits = RtmpChunkLimits.Untrusted };
    private readonly Logging.LogThrottle _untrustedLog;
    private readonly CancellationTokenSource _untrusted;
    private bool _trusted;
    private int _outChunkSize = RtmpWire.DefaultChunkSize;
    private uint _peerWindow;
    private long _acknowledged;

    private string _app = "";
    private string _flashVer = "";
    private ClientConnection? _connection;
    private bool _opened;       // the connection is counted in the limits
    private int _status = 200;
    private Publisher? _publisher;
    private RtmpMediaReader? _media;
    private LiveStream? _playing;
    private string? _ending;   // set when a command ends the session (refusal, deleteStream)

    /// <param name="untrustedLog">Counts the warnings about clients that never published or played, shared by all sessions.</param>
    public RtmpSession(RtmpServices services, ConnectionContext context, IPAddress remote, ILogger logger, Logging.LogThrottle untrustedLog)
    {
        _services = services;
        _untrustedLog = untrustedLog;
        // From accept to an accepted publish or play, one deadline however the client drips its bytes.
        var accepted = context.Features.Get<Delivery.ConnectionGate.Entry>()?.Accepted ?? services.Time.GetTimestamp();
        var left = services.RequestHeaderTimeout - services.Time.GetElapsedTime(accepted);
        _untrusted = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, services.Time);
        _context = context;
        _remote = remote;
        _logger = logger;
        _input = context.Transport.Input;
        _output = context.Transport.Output;
    }

    /// <summary>A peer that sends nothing for this long before playing, or while publishing, is disconnected.</summary>
    public static TimeSpan IdleTimeout { get; } = TimeSpan.FromSeconds(10);

    public async Task RunAsync()
    {
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _services.Time);
        using var reads = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, _untrusted.Token);
        var closed = _context.ConnectionClosed;
        try
        {
            if (!await HandshakeAsync(idle, reads.Token).ConfigureAwait(false))
            {
                return;
            }

            string? reason = await ReadMessagesAsync(idle, reads.Token).ConfigureAwait(false);
            if (_playing is not null)
            {
                reason = await PlayAsync(_playing).ConfigureAwait(false);
            }

            End(reason);
        }
        catch (MediaFormatException ex)
        {
            _status = 400;
            End(ex.Message);
        }
        catch (OperationCanceledException) when (_untrusted.IsCancellationRequested && !_trusted && !closed.IsCancellationRequested)
        {
            _status = 408;
            End($"it did not publish or play within {_services.RequestHeaderTimeout.TotalSeconds:0.#} s of connecting (after {_chunks.Position} bytes)");
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !closed.IsCancellationRequested)
        {
            _status = 408;
            End($"it sent nothing for {IdleTimeout.TotalSeconds:0} s (after {_chunks.Position} bytes)");
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ConnectionResetException or ConnectionAbortedException)
        {
            End($"the connection broke off after {_chunks.Position} bytes ({ex.Message})");
        }
        finally
        {
            _untrusted.Dispose();
            _publisher?.Dispose();
            _media?.Dispose();
            if (_connection is { } connection)
            {
                if (_opened)
                {
                    _services.Limits.Close(connection);
                }

                _services.AccessLog?.Write(AccessLog.Format(connection, _status, _services.Time.GetUtcNow(), null, _flashVer));
            }

            // Completing the output sends what is buffered (a refusal's onStatus) before the connection closes.
            await _output.CompleteAsync().ConfigureAwait(false);
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Logs how the session ended: with a reason, or the peer's normal end (null).</summary>
    private void End(string? reason)
    {
        string name = _connection?.Name ?? "";
        if (reason is null)
        {
            if (_publisher is not null)
            {
                LogPublisherEnded(_logger, name, _remote.ToString(), _publisher.BytesReceived);
            }
            else if (_playing is not null)
            {
                LogEnded(_logger, _remote.ToString(), name, $"it left after {_connection?.BytesSent} bytes");
            }

            return;
        }

        if (_playing is not null && _status < 400)
        {
            LogEnded(_logger, _remote.ToString(), name, reason);
            return;
        }

        string what = _publisher is not null ? $"publisher of feed {name}" : _playing is not null ? $"player of {name}" : "client";
        if (_trusted || _untrustedLog.ShouldLog(KindOf(reason), $"{_remote}: {reason}"))
        {
            LogDisconnected(_logger, _remote.ToString(), what, reason);
        }
    }

    /// <summary>
    /// One kind of failure, whatever its numbers ("C0 version # is not RTMP", "a message of # bytes ..."): each kind's
    /// first is logged in full, a flood of one kind becomes a count.
    /// </summary>
    internal static string KindOf(string reason)
    {
        var kind = new System.Text.StringBuilder(Math.Min(reason.Length, 80));
        foreach (char c in reason.AsSpan(0, Math.Min(reason.Length, 80)))
        {
            if (!char.IsAsciiDigit(c))
            {
                kind.Append(c);
            }
            else if (kind.Length == 0 || kind[^1] != '#')
            {
                kind.Append('#');
            }
        }

        return kind.ToString();
    }

    /// <summary>The peer's publish or play was accepted: the chunk reader's full limits, and no more deadline but the idle one.</summary>
    private void Trust()
    {
        _trusted = true;
        _chunks.Limits = RtmpChunkLimits.Trusted;
        _untrusted.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    private async Task<bool> HandshakeAsync(CancellationTokenSource idle, CancellationToken token)
    {
        var handshake = new RtmpHandshake();
        while (true)
        {
            idle.CancelAfter(IdleTimeout);
            var result = await _input.ReadAsync(token).ConfigureAwait(false);
            var status = Handshake(handshake, result.Buffer, out var consumed);
            if (status == RtmpHandshake.Status.Done)
            {
                // The first messages may have come with C2: leave them unexamined for the next read.
                _input.AdvanceTo(consumed);
            }
            else
            {
                _input.AdvanceTo(consumed, result.Buffer.End);
            }

            await _output.FlushAsync(token).ConfigureAwait(false);
            if (status == RtmpHandshake.Status.Done)
            {
                return true;
            }

            if (result.IsCompleted)
            {
                if (!result.Buffer.IsEmpty)
                {
                    End($"the connection closed during the handshake, after {result.Buffer.Length} bytes");
                }

                return false;
            }
        }
    }

    private RtmpHandshake.Status Handshake(RtmpHandshake handshake, ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        RtmpHandshake.Status status;
        while ((status = handshake.Read(ref reader)) == RtmpHandshake.Status.Reply)
        {
            _output.Write(handshake.Reply);
        }

        consumed = reader.Position;
        return status;
    }

    /// <summary>Handles every whole message in the buffer (until one ends the session or starts playing); false at a partial message.</summary>
    private SequencePosition HandleMessages(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (_ending is null && _playing is null && _chunks.TryRead(ref reader, out var message))
            {
                Handle(message);
            }
        }
        catch (MediaFormatException)
        {
            _input.AdvanceTo(reader.Position, buffer.End);
            throw;
        }

        return reader.Position;
    }

    /// <summary>Reads messages until the peer leaves (null), an error or refusal ends it (the reason), or it plays.</summary>
    private async Task<string?> ReadMessagesAsync(CancellationTokenSource idle, CancellationToken token)
    {
        while (true)
        {
            idle.CancelAfter(IdleTimeout);
            var result = await _input.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            long before = _chunks.Position;
            var consumed = HandleMessages(buffer);
            if (_playing is not null)
            {
                _input.AdvanceTo(consumed);
            }
            else
            {
                _input.AdvanceTo(consumed, buffer.End);
            }

            long received = _chunks.Position - before;
            _publisher?.AddBytes(received);
            _connection?.AddReceived(received);
            Acknowledge();
            await _output.FlushAsync(token).ConfigureAwait(false);
            if (_ending is not null || _playing is not null)
            {
                return string.IsNullOrEmpty(_ending) ? null : _ending;
            }

            if (result.IsCompleted)
            {
                if (!buffer.Slice(consumed).IsEmpty || _chunks.InMessage)
                {
                    return $"the connection closed in the middle of a message (at byte {_chunks.Position})";
                }

                return _publisher is null ? null : $"it closed the connection without unpublishing (after {_chunks.Position} bytes)";
            }
        }
    }

    /// <summary>Acknowledges what was read, each time the peer's window is full.</summary>
    private void Acknowledge()
    {
        if (_peerWindow > 0 && _chunks.Position - _acknowledged >= _peerWindow)
        {
            _acknowledged = _chunks.Position;
            RtmpChunkWriter.WriteControl(_output, RtmpWire.Acknowledgement, unchecked((uint)_chunks.Position), _outChunkSize);
        }
    }

    private void Handle(in RtmpMessage message)
    {
        var payload = message.Payload.Span;
        switch (message.Type)
        {
            case RtmpWire.SetChunkSize:
                _chunks.ChunkSize = payload.Length >= 4 ? (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF) : 0;
                break;
            case RtmpWire.AbortMessage when payload.Length >= 4:
                _chunks.Abort((int)BinaryPrimitives.ReadUInt32BigEndian(payload));
                break;
            case RtmpWire.WindowAcknowledgementSize when payload.Length >= 4:
                _peerWindow = BinaryPrimitives.ReadUInt32BigEndian(payload);
                break;
            case RtmpWire.UserControl when payload.Length >= 6 && BinaryPrimitives.ReadUInt16BigEndian(payload) == RtmpWire.PingRequest:
                RtmpChunkWriter.WriteUserControl(_output, RtmpWire.PingResponse, BinaryPrimitives.ReadUInt32BigEndian(payload[2..]), _outChunkSize);
                break;
            case RtmpWire.CommandAmf0:
                Command(payload);
                break;
            case RtmpWire.CommandAmf3 when payload.Length > 0:
                Command(payload[1..]); // an AMF0 command behind the AMF3 switch byte
                break;
            case RtmpWire.Audio or RtmpWire.Video or RtmpWire.DataAmf0 when _media is not null:
                _media.Read(message, _publisher!);
                break;
            case RtmpWire.Aggregate when _media is not null:
                Aggregate(message);
                break;
        }
    }

    private static RtmpCommand? TryParse(ReadOnlySpan<byte> payload)
    {
        try
        {
            return RtmpCommand.Parse(payload);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 450, Level = LogLevel.Warning, Message = "RTMP {Remote}: refused {What}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string remote, string what, string reason);

    [LoggerMessage(EventId = 451, Level = LogLevel.Information, Message = "Feed {Feed}: publisher {Remote} connected (RTMP, app {App}, {Encoder})")]
    private static partial void LogPublishing(ILogger logger, string feed, string remote, string app, string encoder);

    [LoggerMessage(EventId = 452, Level = LogLevel.Information, Message = "Feed {Feed}: RTMP publisher {Remote} finished after {Bytes} bytes")]
    private static partial void LogPublisherEnded(ILogger logger, string feed, string remote, long bytes);

    [LoggerMessage(EventId = 453, Level = LogLevel.Warning, Message = "RTMP {Remote}: {What} disconnected: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string remote, string what, string reason);

    [LoggerMessage(EventId = 454, Level = LogLevel.Information, Message = "Stream {Stream}: RTMP player {Remote} connected ({Player})")]
    private static partial void LogPlaying(ILogger logger, string stream, string remote, string player);

    /// <summary>The summary of the untrusted clients' warnings an interval counted (the callback of the handler's LogThrottle).</summary>
    internal static void LogUntrustedMore(ILogger logger, int count, string last) =>
        LogMore(logger, count, Logging.LogThrottle.DefaultInterval.TotalSeconds, last);

    [LoggerMessage(EventId = 456, Level = LogLevel.Warning, Message = "RTMP: {Count} more clients disconnected before publishing or playing in the last {Seconds} s, as the last: {Last}")]
    private static partial void LogMore(ILogger logger, int count, double seconds, string last);

    [LoggerMessage(EventId = 455, Level = LogLevel.Information, Message = "RTMP {Remote}: player of {Stream} left: {Reason}")]
    private static partial void LogEnded(ILogger logger, string remote, string stream, string reason);
}
