using Sluice.Media.Buffers;
using Sluice.Media.Codecs.Aac;

namespace Sluice.Media.Formats.Adts;

/// <summary>
/// Audio-only AAC as an ADTS stream ("audio/aac"): every packet is a frame with a 7-byte header, and every
/// frame is a join point. The header is written into a shared slab; the payload is the packet's own memory.
/// </summary>
public sealed class AdtsMuxer : IMuxer
{
    private readonly int _objectType;
    private readonly int _rateIndex;
    private readonly int _channels;
    private readonly ChunkSlab _slab;

    /// <summary>Takes exactly one track, AAC with an AudioSpecificConfig ADTS can describe.</summary>
    public AdtsMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count != 1 || tracks[0].Codec != CodecId.AAC || tracks[0].Index != 0)
        {
            throw new ArgumentException($"an ADTS stream carries exactly one AAC track (got {string.Join(", ", tracks)})", nameof(tracks));
        }

        var asc = AudioSpecificConfig.Parse(tracks[0].CodecPrivate.Span)
            ?? throw new ArgumentException("track 0 (aac): CodecPrivate is not an AudioSpecificConfig", nameof(tracks));
        _objectType = asc.ObjectType is AudioSpecificConfig.Sbr or AudioSpecificConfig.Ps ? asc.CoreObjectType : asc.ObjectType;
        _rateIndex = AacSampleRates.IndexOf(asc.SampleRate);
        _channels = asc.ChannelConfiguration;
        if (_objectType is < 1 or > 4 || _rateIndex < 0 || _channels is < 1 or > 7)
        {
            throw new ArgumentException($"track 0 (aac): ADTS cannot carry object type {asc.ObjectType} at {asc.SampleRate} Hz, channel configuration {asc.ChannelConfiguration}", nameof(tracks));
        }
    }

    public string ContentType => "audio/aac";

    /// <summary>Empty: every frame carries its own header.</summary>
    public ReadOnlyMemory<byte> Header => ReadOnlyMemory<byte>.Empty;

    public MuxedChunk Write(MediaPacket packet)
    {
        if (packet.Track != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has 1 track");
        }

        if (packet.Payload.Length + AdtsHeader.Size > AdtsHeader.MaxFrameLength)
        {
            throw new ArgumentException($"an AAC frame of {packet.Payload.Length} bytes does not fit an ADTS frame", nameof(packet));
        }

        var header = _slab.Reserve(AdtsHeader.Size);
        AdtsHeader.Write(header, _objectType, _rateIndex, _channels, packet.Payload.Length);
        return _slab.CommitChunk(AdtsHeader.Size, packet, isJoinPoint: true);
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
