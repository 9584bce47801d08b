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
            RefusePublish(404, "NetStream.Publish.BadName", $"No feed is named {name} (nor {name}.ffm); publish to one of: {string.Join(", ", _server.Feeds.Keys)}.", target, name);
            return;
        }

        if (!feed.Config.Acl.Allows(_remote))
        {
            RefusePublish(403, "NetStream.Publish.Denied", $"Publishing to {feed.Name} from {_remote} is not allowed by the feed's ACL ({feed.Config.Location}).", target, feed.Name);
            return;
        }

        if (feed.Config.PublishKey is { } expected && !PublishKeys.Match(expected, key))
        {
            RefusePublish(403, "NetStream.Publish.Denied", key is null
                ? $"Publishing to {feed.Name} needs its publish key (rtmp://host/{_app}/{name}?key=...)."
                : $"Wrong publish key for {feed.Name}.", target, feed.Name);
            return;
        }

        var connection = Register("PUBLISH", target);
        connection.Name = feed.Name;
        if (Admit(connection, ClientKind.Publisher) is { } refusal)
        {
            RefusePublish(refusal.StatusCode, "NetStream.Publish.Denied", refusal.Reason, target, feed.Name);
            return;
        }

        _publisher = feed.TryAcquire(_remote, "RTMP");
        if (_publisher is null)
        {
            var current = feed.CurrentPublisher;
            RefusePublish(409, "NetStream.Publish.BadName", $"{feed.Name} is already being published (from {current?.Remote} via {current?.Via} since {current?.Since:u}).", target, feed.Name);
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
            if (_server.Streams.TryGetValue(name, out var http))
            {
                RefusePlay(404, "NetStream.Play.Failed", $"Stream {name} cannot be played over RTMP: its Format {http.Format.Name} carries none of H.264, H.265, AAC, MP3; watch it over HTTP.", target, name);
                return;
            }

            RefusePlay(404, "NetStream.Play.StreamNotFound", $"No stream is named {name}.", target, name);
            return;
        }

        if (!stream.Config.Acl.Allows(_remote))
        {
            RefusePlay(403, "NetStream.Play.Failed", $"Stream {name} is not available to {_remote} (the stream's ACL, {stream.Config.Location}).", target, name);
            return;
        }

        var connection = Register("PLAY", target);
        if (Admit(connection, ClientKind.Viewer, stream) is { } refusal)
        {
            RefusePlay(refusal.StatusCode, "NetStream.Play.Failed", refusal.Reason, target, name);
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

    /// <summary>Counts the connection in the limits (and on the status page) and admits it as a client, or says why not.</summary>
    private Refusal? Admit(ClientConnection connection, ClientKind kind, Streams.LiveStream? stream = null)
    {
        _opened = true;
        return _server.Limits.Open(connection) ?? _server.Limits.Admit(connection, kind, stream?.Config, stream?.BitRateKbps ?? 0);
    }

    private void RefusePublish(int status, string code, string reason, string target, string name) => Refuse(status, code, reason, target, name, "publisher");

    private void RefusePlay(int status, string code, string reason, string target, string name) => Refuse(status, code, reason, target, name, "player");

    /// <summary>Answers with an error status (ffmpeg prints its description and exits), logs it, and ends the session.</summary>
    private void Refuse(int status, string code, string reason, string target, string name, string what)
    {
        _status = status;
        _connection ??= Register(what == "publisher" ? "PUBLISH" : "PLAY", target);
        _connection.Name ??= name;
        // The kind is the refusal's code, never its text: the text holds names the client chose.
        if (_untrustedLog.ShouldLog($"{what} {status} {code}", $"{_remote}: {what} of {name}: {code}: {reason}"))
        {
            LogRefused(_logger, _remote.ToString(), $"{what} of {name}", $"{code}: {reason}");
        }

        Send(RtmpWire.CommandChunkStream, RtmpWire.MediaStreamId, RtmpCommand.OnStatus("error", code, $"{code}: {reason}"));
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
