using Microsoft.Extensions.Logging;
using Sluice.Media.Formats.Rtmp;
using RtmpWire = Sluice.Media.Formats.Rtmp.Rtmp;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;

namespace Sluice.Server.Ingest.Rtmp;

internal sealed partial class RtmpSession
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

    private ClientConnection Register(string method, string target)
    {
        _connection = new ClientConnection(_services.Limits.NextId(), _remote, method, target, "RTMP", _services.Time.GetUtcNow())
        {
            Abort = _context.Abort,
        };
        return _connection;
    }

    /// <summary>Counts the connection in the limits (and on the status page), or says why not (MaxHTTPConnections).</summary>
    private Refusal? Open(ClientConnection connection)
    {
        _opened = true;
        return _services.Limits.Open(connection);
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
