using Sluice.Media.Buffers;
namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// Live Ogg writer (RFC 3533) for Vorbis, Opus and Theora. One instance serves every viewer of a stream:
/// <see cref="Header"/> once per viewer, then the chunks from a join point on.
/// </summary>
/// <remarks>
/// Every track is one logical bitstream. <see cref="Header"/> holds every stream's beginning-of-stream page (its
/// identification header alone; video first) and then every stream's other header packets on pages of their own,
/// all with granule position 0. After that each packet becomes one page: <see cref="MuxedChunk.Prefix"/> is the page
/// header with its lacing values and CRC, carved out of a shared slab, and <see cref="MuxedChunk.Payload"/> is the
/// packet's own memory. A packet too large for one page (more than <see cref="OggPage.MaxSinglePagePacket"/> bytes)
/// is written whole, as continued pages, into the slab instead (Payload empty). Granule positions are those of the
/// codec mappings: samples for Vorbis and Opus (48 kHz, pre-skip included), keyframe and frame numbers for Theora.
/// Join points: every packet when there is no video (a viewer gets the header pages first, so any page can follow
/// them), else Theora keyframes. Nothing ends the streams: there is no end-of-stream page. Not thread-safe: one
/// writer calls <see cref="Write"/>.
/// </remarks>
public sealed class OggMuxer : IMuxer
{
    /// <summary>The serial number of track 0's logical bitstream; track i gets this plus i.</summary>
    public const uint FirstSerialNumber = 0x536C7569; // "Slui"

    private readonly LogicalStream[] _streams;
    private readonly bool _hasVideo;
    private readonly byte[] _header;
    private readonly ChunkSlab _slab;

    public OggMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count == 0)
        {
            throw new ArgumentException("an Ogg stream needs at least one track", nameof(tracks));
        }

        _streams = new LogicalStream[tracks.Count];
        for (int i = 0; i < tracks.Count; i++)
        {
            var track = tracks[i];
            if (track.Index != i)
            {
                throw new ArgumentException($"track {i} has Index {track.Index}; the list must be in Index order", nameof(tracks));
            }

            OggCodecMapping mapping;
            try
            {
                mapping = OggCodecMapping.Create(track);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(e.Message, nameof(tracks), e);
            }

            _streams[i] = new LogicalStream(mapping, FirstSerialNumber + (uint)i);
            _hasVideo |= mapping.IsVideo;
        }

        ContentType = _hasVideo ? "video/ogg" : "audio/ogg";
        _header = BuildHeader();
    }

    public string ContentType { get; }

    public ReadOnlyMemory<byte> Header => _header;

    /// <summary>True for the codecs Ogg carries here: Vorbis, Opus, Theora.</summary>
    public static bool CanCarry(CodecId codec) => OggCodecMapping.CanCarry(codec);

    /// <summary>The serial number of a track's logical bitstream.</summary>
    public uint SerialNumberOf(int track) => _streams[track].Serial;

    public MuxedChunk Write(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_streams.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has {_streams.Length} tracks");
        }

        var stream = _streams[packet.Track];
        long granule = stream.Mapping.GranuleAfter(packet, out bool keyframe);
        bool joinPoint = !_hasVideo || (stream.Mapping.IsVideo && keyframe);
        var payload = packet.Payload;
        if (payload.Length <= OggPage.MaxSinglePagePacket)
        {
            var prefix = _slab.Reserve(OggPage.FixedHeaderLength + OggPage.SegmentCount(payload.Length));
            int n = OggPage.WriteSinglePacketHeader(prefix, OggPageFlags.None, granule, stream.Serial, stream.Sequence++, payload.Span);
            return _slab.CommitChunk(n, packet, joinPoint);
        }

        var pages = _slab.Reserve(OggPage.PagedLength(payload.Length));
        int written = OggPage.WritePacketPages(pages, OggPageFlags.None, granule, stream.Serial, ref stream.Sequence, payload.Span);
        return _slab.CommitChunk(written, joinPoint);
    }

    private byte[] BuildHeader()
    {
        // beginning-of-stream pages first, video before audio (Theora I, appendix A.1), then the other headers
        var order = new List<LogicalStream>(_streams.Length);
        order.AddRange(_streams.Where(s => s.Mapping.IsVideo));
        order.AddRange(_streams.Where(s => !s.Mapping.IsVideo));

        int length = 0;
        foreach (var stream in order)
        {
            foreach (var packet in stream.Mapping.HeaderPackets)
            {
                length += OggPage.PagedLength(packet.Length);
            }
        }

        var header = new byte[length];
        int at = 0;
        foreach (var stream in order)
        {
            at += OggPage.WritePacketPages(header.AsSpan(at), OggPageFlags.BeginningOfStream, 0, stream.Serial, ref stream.Sequence, stream.Mapping.HeaderPackets[0].Span);
        }

        foreach (var stream in order)
        {
            for (int i = 1; i < stream.Mapping.HeaderPackets.Count; i++)
            {
                at += OggPage.WritePacketPages(header.AsSpan(at), OggPageFlags.None, 0, stream.Serial, ref stream.Sequence, stream.Mapping.HeaderPackets[i].Span);
            }
        }

        return header;
    }

    private sealed class LogicalStream(OggCodecMapping mapping, uint serial)
    {
        public OggCodecMapping Mapping { get; } = mapping;
        public uint Serial { get; } = serial;

        /// <summary>The next page's sequence number.</summary>
        public uint Sequence;
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
