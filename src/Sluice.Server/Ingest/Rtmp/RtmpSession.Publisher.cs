using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats.Rtmp;
using RtmpWire = Sluice.Media.Formats.Rtmp.Rtmp;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Streams;

namespace Sluice.Server.Ingest.Rtmp;

/// <summary>The publisher's side of a session: publish admits it to a feed, and its messages become the feed's packets.</summary>
internal sealed partial class RtmpSession
{
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
        Feed? feed = name.Length == 0 ? null : _services.Directory.Feeds.GetValueOrDefault(name) ?? _services.Directory.Feeds.GetValueOrDefault(name + ".ffm");
        if (feed is null)
        {
            Refuse(Admission.NoSuchFeed(name, _services.Directory.Feeds.Keys), publish: true, target, name);
            return;
        }

        var connection = Register("PUBLISH", target);
        connection.Name = feed.Name;
        if ((Open(connection) ?? _services.Admission.Publish(feed, connection, key, $"rtmp://host/{_app}/{name}?key=...")) is { } refusal)
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
        _media = new RtmpMediaReader(_services.Buffers);
        Trust();
        connection.State = "RECEIVE_DATA";
        LogPublishing(_logger, feed.Name, _remote.ToString(), _app, _flashVer);
        RtmpChunkWriter.WriteUserControl(_output, RtmpWire.StreamBegin, RtmpWire.MediaStreamId, _outChunkSize);
        Send(RtmpWire.CommandChunkStream, RtmpWire.MediaStreamId, RtmpCommand.OnStatus("status", "NetStream.Publish.Start", $"{feed.Name} is now published."));
    }

    /// <summary>An aggregate message: FLV tags whose times are relative to the first one's, placed at the message's time.</summary>
    private void Aggregate(in RtmpMessage message)
    {
        var body = message.Payload;
        long first = -1;
        int at = 0;
        while (body.Length - at >= 11)
        {
            var head = body.Span[at..];
            int size = (head[1] << 16) | (head[2] << 8) | head[3];
            uint time = (uint)((head[4] << 16) | (head[5] << 8) | head[6] | (head[7] << 24));
            if (body.Length - at < 11 + size)
            {
                throw new MediaFormatException(RtmpWire.FormatName, _chunks.Position, $"a tag of {size} bytes runs past the end of an aggregate message of {body.Length} bytes");
            }

            first = first < 0 ? time : first;
            _media!.Read(new RtmpMessage(message.ChunkStream, head[0], message.StreamId, message.Timestamp + (uint)(time - first), body.Slice(at + 11, size)), _publisher!);
            at += 11 + size + 4;
        }
    }
}
