using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats.Rtmp;
using RtmpWire = Sluice.Media.Formats.Rtmp.Rtmp;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Streams;

namespace Sluice.Server.Ingest.Rtmp;

/// <summary>The player's side of a session: play admits it to a stream, which it then receives as a progressive viewer does.</summary>
internal sealed partial class RtmpSession
{
    /// <summary>play: the name is a configured stream's; its ACL and the limits apply as for an HTTP viewer.</summary>
    private void Play(RtmpCommand command)
    {
        if (_connection is not null)
        {
            return; // one publish or play a connection
        }

        var (name, _) = SplitName(command.StringArgument(0));
        string target = $"/{_app.TrimEnd('/')}/{name}";
        if (FindStream(name) is not { } stream)
        {
            Refuse(_services.Directory.Streams.TryGetValue(name, out var http) ? Admission.NotOverRtmp(name, http.Format.Name) : Admission.NoSuchStream(name), publish: false, target, name);
            return;
        }

        var connection = Register("PLAY", target);
        if ((Open(connection) ?? _services.Admission.Watch(stream, connection)) is { } refusal)
        {
            Refuse(refusal, publish: false, target, name);
            return;
        }

        connection.Name = stream.Name;
        stream.CountConnection();
        LogPlaying(_logger, stream.Name, _remote.ToString(), _flashVer);
        RtmpChunkWriter.WriteUserControl(_output, RtmpWire.StreamBegin, RtmpWire.MediaStreamId, _outChunkSize);
        Send(RtmpWire.CommandChunkStream, RtmpWire.MediaStreamId, RtmpCommand.OnStatus("status", "NetStream.Play.Reset", $"Playing and resetting {name}."));
        Send(RtmpWire.CommandChunkStream, RtmpWire.MediaStreamId, RtmpCommand.OnStatus("status", "NetStream.Play.Start", $"Started playing {name}."));
        _playing = stream;
        Trust();
    }

    /// <summary>
    /// The stream a play name selects: its exact name, else the name with ".flv" (ffmpeg and other players drop ".flv"
    /// from the URL: rtmp://host/live/live.flv plays "live"), else the one stream whose name without its extension is it.
    /// </summary>
    private Streams.LiveStream? FindStream(string name)
    {
        if (name.Length == 0)
        {
            return null;
        }

        if (_services.Directory.RtmpStreams.TryGetValue(name, out var stream) || _services.Directory.RtmpStreams.TryGetValue(name + ".flv", out stream))
        {
            return stream;
        }

        var matches = _services.Directory.RtmpStreams.Values.Where(s => Path.GetFileNameWithoutExtension(s.Name) == name).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>Sends the stream to a player until it leaves, is dropped, or the stream's output ends.</summary>
    private async Task<string?> PlayAsync(LiveStream stream)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_context.ConnectionClosed);
        using var watching = _services.Watch(stream.Name);
        ProgressiveViewer.LimitSendBuffer(_context.Features);
        var viewer = new ProgressiveViewer(stream, _connection!, _services.ViewerPolicy, _logger, _services.Time);
        var sending = viewer.RunAsync(_output, stop.Token);
        var reading = DrainAsync(stop.Token);
        var done = await Task.WhenAny(sending, reading).ConfigureAwait(false);
        string? reason = null;
        try
        {
            if (done == sending)
            {
                // The viewer ends when the player is gone, dropped (logged there), or the stream's output ends;
                // a player that is gone closes its side too.
                bool gone = await Task.WhenAny(reading, Task.Delay(TimeSpan.FromMilliseconds(200), _services.Time, CancellationToken.None)).ConfigureAwait(false) == reading;
                reason = gone || _context.ConnectionClosed.IsCancellationRequested ? null : "the stream's output ended (its tracks changed or the server is stopping)";
            }

            await stop.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await Task.WhenAll(sending, reading).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException or ConnectionAbortedException)
            {
                // One side ended the other.
            }
        }

        return reason;
    }

    /// <summary>A player's side of the connection while it plays: acknowledgements and commands, read and dropped; null when it leaves.</summary>
    private async Task<string?> DrainAsync(CancellationToken stop)
    {
        while (true)
        {
            var result = await _input.ReadAsync(stop).ConfigureAwait(false);
            bool closing = DrainMessages(result.Buffer, out var consumed);
            _input.AdvanceTo(consumed, result.Buffer.End);
            if (closing || result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads a player's messages; true when it closed the stream.</summary>
    private bool DrainMessages(ReadOnlySequence<byte> buffer, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        string? ending = null;
        try
        {
            while (ending is null && _chunks.TryRead(ref reader, out var message))
            {
                if (message.Type == RtmpWire.SetChunkSize && message.Payload.Length >= 4)
                {
                    _chunks.ChunkSize = (int)(BinaryPrimitives.ReadUInt32BigEndian(message.Payload.Span) & 0x7FFFFFFF);
                }
                else if (message.Type == RtmpWire.CommandAmf0 && TryParse(message.Payload.Span) is { Name: "deleteStream" or "closeStream" })
                {
                    ending = "it closed the stream";
                }
            }
        }
        finally
        {
            consumed = reader.Position;
        }

        return ending is not null;
    }
}
