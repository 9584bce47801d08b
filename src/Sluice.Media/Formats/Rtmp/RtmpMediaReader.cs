using System.Buffers;
using System.Buffers.Binary;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Flv;
using FlvWire = Sluice.Media.Formats.Flv.Flv;

namespace Sluice.Media.Formats.Rtmp;

/// <summary>
/// Turns a publisher's audio, video and data messages into tracks and packets. An RTMP audio or video message body
/// is an FLV tag body, so each message is handed to an <see cref="FlvDemuxer"/> as one tag: the same codecs
/// (H.264, Enhanced RTMP's H.265, AV1 and VP9 by FourCC; AAC, MP3), the same wait for sequence headers and the same
/// damage rules. <c>@setDataFrame</c> / <c>onMetaData</c> data messages become script tags.
/// </summary>
public sealed class RtmpMediaReader : IDisposable
{
    private readonly FlvDemuxer _demuxer;
    private byte[] _tag = new byte[64 * 1024];
    private bool _started;

    /// <param name="pool">Where the payloads' blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public RtmpMediaReader(BlockPool? pool = null) => _demuxer = new FlvDemuxer(pool);

    public FlvDemuxer Demuxer => _demuxer;

    /// <summary>Reads one message (audio 8, video 9 or AMF0 data 18); other types are not media and are ignored.</summary>
    public void Read(in RtmpMessage message, IPacketSink sink)
    {
        if (message.Type is not (Rtmp.Audio or Rtmp.Video or Rtmp.DataAmf0))
        {
            return;
        }

        if (!_started)
        {
            // An FLV header that announces audio and video: onMetaData (or the wait's bounds) settles which come.
            _demuxer.Read(new ReadOnlySequence<byte>([.. "FLV"u8, 1, FlvWire.HeaderFlagAudio | FlvWire.HeaderFlagVideo, 0, 0, 0, 9, 0, 0, 0, 0]), sink);
            _started = true;
        }

        var body = message.Payload.Span;
        if (body.IsEmpty)
        {
            return;
        }

        int length = FlvWire.TagHeaderLength + body.Length + FlvWire.PreviousTagSizeLength;
        if (_tag.Length < length)
        {
            _tag = new byte[Math.Max(length, 2 * _tag.Length)];
        }

        var tag = _tag.AsSpan(0, length);
        tag[0] = message.Type;
        WriteUInt24(tag[1..], body.Length);
        WriteUInt24(tag[4..], (int)(message.Timestamp & 0xFFFFFF));
        tag[7] = (byte)(message.Timestamp >> 24);
        WriteUInt24(tag[8..], 0);
        body.CopyTo(tag[FlvWire.TagHeaderLength..]);
        BinaryPrimitives.WriteUInt32BigEndian(tag[(FlvWire.TagHeaderLength + body.Length)..], (uint)(FlvWire.TagHeaderLength + body.Length));
        _demuxer.Read(new ReadOnlySequence<byte>(_tag, 0, length), sink);
    }

    private static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }

    public void Dispose() => _demuxer.Dispose();
}
