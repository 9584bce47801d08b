using Sluice.Media.Buffers;
using Sluice.Media.Formats.Flv;

namespace Sluice.Media.Formats.Rtmp;

/// <summary>
/// A stream's output for RTMP players, written once and shared by all of them: each packet becomes one RTMP audio
/// or video message (its body the FLV tag body <see cref="FlvMuxer"/> writes), already cut into chunks of
/// <see cref="Rtmp.OutgoingChunkSize"/> on message stream <see cref="Rtmp.MediaStreamId"/>. Every message starts with
/// a format 0 chunk header carrying its absolute timestamp, so the bytes are right for a player that joins at any
/// keyframe. <see cref="Header"/> holds onMetaData and the sequence headers (avcC / hvcC, AudioSpecificConfig).
/// </summary>
/// <remarks>Carries what FLV carries: H.264, H.265 (Enhanced RTMP 'hvc1'), AAC and MP3. The payload is copied once
/// per packet for the stream (chunk headers sit inside it every 4096 bytes), never per player.</remarks>
public sealed class RtmpMuxer : IMuxer
{
    private readonly FlvMuxer _flv;
    private readonly ChunkSlab _slab;
    private readonly byte[] _header;

    public RtmpMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(256 * 1024, pool: pool);
        _flv = new FlvMuxer(tracks);
        var header = new MemoryStream();
        foreach (var (type, body) in _flv.HeaderTags())
        {
            byte[] message = new byte[RtmpChunkWriter.MaxLength(body.Length, Rtmp.OutgoingChunkSize)];
            int length = RtmpChunkWriter.Write(message, ChunkStreamOf(type), type, Rtmp.MediaStreamId, 0, body, Rtmp.OutgoingChunkSize);
            header.Write(message, 0, length);
        }

        _header = header.ToArray();
    }

    public string ContentType => "video/x-flv";

    public ReadOnlyMemory<byte> Header => _header;

    public MuxedChunk Write(MediaPacket packet)
    {
        Span<byte> dataHeader = stackalloc byte[8];
        int headerLength = _flv.WriteDataHeader(packet, dataHeader, out byte type);
        var payload = packet.Payload.Span;
        int bodyLength = headerLength + payload.Length;
        var destination = _slab.Reserve(RtmpChunkWriter.MaxLength(bodyLength, Rtmp.OutgoingChunkSize));
        uint timestamp = unchecked((uint)MediaTime.ToMilliseconds(packet.Dts));
        int length = RtmpChunkWriter.Write(destination, ChunkStreamOf(type), type, Rtmp.MediaStreamId, timestamp, dataHeader[..headerLength], payload, Rtmp.OutgoingChunkSize);
        return _slab.CommitChunk(length, _flv.IsJoinPoint(packet));
    }

    private static int ChunkStreamOf(byte type) => type switch
    {
        Rtmp.Audio => Rtmp.AudioChunkStream,
        Rtmp.Video => Rtmp.VideoChunkStream,
        _ => Rtmp.DataChunkStream,
    };

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
