using Microsoft.Extensions.Logging;
using Sluice.Media.Formats.Rtmp;
using RtmpWire = Sluice.Media.Formats.Rtmp.Rtmp;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;

namespace Sluice.Server.Ingest.Rtmp;

public sealed partial class RtmpSession
{
    private void Command(ReadOnlySpan<byte> payload)
    {
        RtmpCommand command;
        try
        {
            command = RtmpCommand.Parse(payload);
        }
        catch (FormatException ex)
        {
            throw new Media.MediaFormatException(RtmpWire.FormatName, _chunks.Position, $"a damaged command message: {ex.Message}");
        }

        switch (command.Name)
        {
            case "connect":
                Connect(command);
                break;
            case "createStream":
                Send(RtmpWire.CommandChunkStream, 0, RtmpCommand.Build("_result", command.TransactionId, null, (double)RtmpWire.MediaStreamId));
                break;
            case "publish":
                Publish(command);
                break;
            case "play":
                Play(command);
                break;
            case "FCUnpublish" or "deleteStream" or "closeStream":
                if (_publisher is not null)
                {
                    _ending = ""; // the publisher's normal end
                }

                break;
            case "getStreamLength":
                Send(RtmpWire.CommandChunkStream, 0, RtmpCommand.Build("_result", command.TransactionId, null, 0.0));
                break;
            default:
                // releaseStream, FCPublish and others expect an answer only when they carry a transaction id.
                if (command.TransactionId > 0)
                {
                    Send(RtmpWire.CommandChunkStream, 0, RtmpCommand.Build("_result", command.TransactionId, null, null));
                }

                break;
        }
    }

    private void Connect(RtmpCommand command)
    {
        _app = command.Property("app") ?? "";
        _flashVer = command.Property("flashVer") ?? "";
        RtmpChunkWriter.WriteControl(_output, RtmpWire.WindowAcknowledgementSize, Window, _outChunkSize);
        RtmpChunkWriter.WritePeerBandwidth(_output, Window, _outChunkSize);
        RtmpChunkWriter.WriteControl(_output, RtmpWire.SetChunkSize, RtmpWire.OutgoingChunkSize, _outChunkSize);
        _outChunkSize = RtmpWire.OutgoingChunkSize;
        Send(RtmpWire.CommandChunkStream, 0, RtmpCommand.Build(
            "_result",
            command.TransactionId,
            new Dictionary<string, object?> { ["fmsVer"] = "FMS/3,5,7,7009", ["capabilities"] = 31.0, ["mode"] = 1.0 },
            new Dictionary<string, object?>
            {
                ["level"] = "status",
                ["code"] = "NetConnection.Connect.Success",
                ["description"] = "Connection succeeded.",
                ["objectEncoding"] = 0.0,
            }));
    }

    /// <summary>
    /// publish: the name selects the feed (as written, or with ".ffm" added), the feed's ACL and PublishKey apply
    /// (the key as <c>?key=</c> after the name), one publisher at a time.
    /// </summary>
    private void Publish(RtmpCommand command)
    {
        if (_connection is not null)
        {
            return; // one publish or play a connection
        }

        var (name, key) = SplitName(command.StringArgument(0));
        string target = $"/{_app.TrimEnd('/')}/{name}";
        Feed? feed = name.Length == 0 ? null : _server.Feeds.GetValueOrDefault(name) ?? _server.Feeds.GetValueOrDefault(name + ".ffm");
        if (feed is null)
        {
            Refuse(Admission.NoSuchFeed(name, _server.Feeds.Keys), publish: true, target, name);
            return;
        }

        var connection = Register("PUBLISH", target);
        connection.Name = feed.Name;
        if ((Open(connection) ?? _server.Admission.Publish(feed, connection, key, $"rtmp://host/{_app}/{name}?key=...")) is { } refusal)
        {
            Refuse(refusal, publish: true, target, feed.Name);
            return;
        }

        _publisher = feed.TryAcquire(_remote, "RTMP");
        if (_publisher is null)
        {
            Refuse(Admission.Busy(feed), publish: true, target, feed.Name);
            return;
        }

        _publisher.Format = RtmpWire.FormatName;
        _media = new RtmpMediaReader(_server.Buffers);
        Trust();
        connection.State = "RECEIVE_DATA";
        LogPublishing(_logger, feed.Name, _remote.ToString(), _app, _flashVer);
        RtmpChunkWriter.WriteUserControl(_output, RtmpWire.StreamBegin, RtmpWire.MediaStreamId, _outChunkSize);
        Send(RtmpWire.CommandChunkStream, RtmpWire.MediaStreamId, RtmpCommand.OnStatus("status", "NetStream.Publish.Start", $"{feed.Name} is now published."));
    }

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
            Refuse(_server.Streams.TryGetValue(name, out var http) ? Admission.NotOverRtmp(name, http.Format.Name) : Admission.NoSuchStream(name), publish: false, target, name);
            return;
        }

        var connection = Register("PLAY", target);
        if ((Open(connection) ?? _server.Admission.Watch(stream, connection)) is { } refusal)
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

        if (_server.RtmpStreams.TryGetValue(name, out var stream) || _server.RtmpStreams.TryGetValue(name + ".flv", out stream))
        {
            return stream;
        }

        var matches = _server.RtmpStreams.Values.Where(s => Path.GetFileNameWithoutExtension(s.Name) == name).Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    private ClientConnection Register(string method, string target)
    {
        _connection = new ClientConnection(_server.Limits.NextId(), _remote, method, target, "RTMP", _server.Time.GetUtcNow())
        {
            Abort = _context.Abort,
        };
        return _connection;
    }

    /// <summary>Counts the connection in the limits (and on the status page), or says why not (MaxHTTPConnections).</summary>
    private Refusal? Open(ClientConnection connection)
    {
        _opened = true;
        return _server.Limits.Open(connection);
    }

    /// <summary>Answers with an error status (ffmpeg prints its description and exits), logs it, and ends the session.</summary>
    private void Refuse(Refusal refusal, bool publish, string target, string name)
    {
        string what = publish ? "publisher" : "player";
        string code = Admission.RtmpCode(refusal.Kind, publish);
        _status = refusal.StatusCode;
        _connection ??= Register(publish ? "PUBLISH" : "PLAY", target);
        _connection.Name ??= name;
        // The kind is the refusal's, never its text: the text holds names the client chose.
        if (_untrustedLog.ShouldLog($"{what} {refusal.Kind}", $"{_remote}: {what} of {name}: {code}: {refusal.Reason}"))
        {
            LogRefused(_logger, _remote.ToString(), $"{what} of {name}", $"{code}: {refusal.Reason}");
        }

        Send(RtmpWire.CommandChunkStream, RtmpWire.MediaStreamId, RtmpCommand.OnStatus("error", code, $"{code}: {refusal.Reason}"));
        _ending = "";
    }

    private void Send(int chunkStream, uint streamId, byte[] payload) =>
        RtmpChunkWriter.Write(_output, chunkStream, RtmpWire.CommandAmf0, streamId, 0, payload, _outChunkSize);

    /// <summary>The name before '?', and the <c>key</c> query parameter after it, if any.</summary>
    internal static (string Name, string? Key) SplitName(string? published)
    {
        if (string.IsNullOrEmpty(published))
        {
            return ("", null);
        }

        int query = published.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return (published, null);
        }

        string? key = null;
        foreach (var part in published[(query + 1)..].Split('&'))
        {
            if (part.StartsWith("key=", StringComparison.Ordinal))
            {
                key = Uri.UnescapeDataString(part[4..]);
            }
        }

        return (published[..query], key);
    }
}
