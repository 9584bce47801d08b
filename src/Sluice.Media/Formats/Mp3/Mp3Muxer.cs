namespace Sluice.Media.Formats.Mp3;

/// <summary>
/// Live MP3 writer: the bare MPEG audio frames back to back, as Icecast and ffserver's <c>mp3</c> format serve them
/// and every player reads them (<c>audio/mpeg</c>). There is no header (no ID3v2 tag, no Xing/Info frame: a live
/// stream has no length to announce), no framing (each chunk is the packet's own memory), and every frame is a join
/// point: a frame header is all a decoder needs to start. One instance serves every viewer of a stream. Layer II
/// frames (MP2, ffserver's <c>mp2</c> format) are written the same way.
/// </summary>
/// <remarks>
/// A decoder starting at a frame that uses the bit reservoir of the frames before it (MPEG layer III main_data_begin)
/// cannot decode that first frame and skips it; from the next frames on, decoding is clean.
/// </remarks>
public sealed class Mp3Muxer : IMuxer
{
    public Mp3Muxer(IReadOnlyList<TrackInfo> tracks)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count != 1)
        {
            throw new ArgumentException($"an MP3 stream carries exactly one MP3 track, not {tracks.Count} tracks", nameof(tracks));
        }

        if (tracks[0].Index != 0)
        {
            throw new ArgumentException($"track 0 has Index {tracks[0].Index}; the list must be in Index order", nameof(tracks));
        }

        if (tracks[0].Codec is not (CodecId.MP3 or CodecId.MP2))
        {
            throw new ArgumentException($"track 0: codec {CodecIds.FfmpegName(tracks[0].Codec)} cannot be written as an MPEG audio stream (MP3 and MP2 can)", nameof(tracks));
        }
    }

    public string ContentType => "audio/mpeg";

    /// <summary>Empty: an MP3 stream starts with its first frame.</summary>
    public ReadOnlyMemory<byte> Header => ReadOnlyMemory<byte>.Empty;

    public MuxedChunk Write(MediaPacket packet)
    {
        if (packet.Track != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has 1 track");
        }

        return new MuxedChunk(ReadOnlyMemory<byte>.Empty, packet.Payload, IsJoinPoint: true) { PayloadOwner = packet.Retain() };
    }

    public void Dispose()
    {
    }
}
