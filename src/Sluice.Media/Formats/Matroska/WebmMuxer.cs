using System.Buffers.Binary;
using Sluice.Media.Buffers;

namespace Sluice.Media.Formats.Matroska;

/// <summary>
/// Live WebM (or Matroska, when a track's codec is not allowed in WebM) writer. One instance serves every viewer
/// of a stream: <see cref="Header"/> once per viewer, then the chunks from a join point on.
/// </summary>
/// <remarks>
/// The Segment and every Cluster have unknown size; there is no SeekHead and there are no Cues. A Cluster starts at
/// every video keyframe (a join point: Chromium needs a viewer's first Cluster to begin with a video keyframe),
/// when a block's timestamp would not fit the 16-bit offset from its Cluster, and, in a stream without video, at the
/// first audio packet a second or more after the Cluster began (every Cluster start is then a join point).
/// Block times are the packets' PTS in milliseconds. Prefixes are carved out of shared slabs, so a packet costs no
/// allocation of its own; the payload is never copied. Not thread-safe: one writer calls <see cref="Write"/>.
/// </remarks>
public sealed class WebmMuxer : IMuxer
{
    /// <summary>Audio-only streams start a Cluster at the first packet this long after the current one began.</summary>
    public const long AudioClusterMilliseconds = 1000;

    private const int MaxPrefixLength = 48;
    private const long OpusSeekPreRollNs = 80_000_000;

    private readonly TrackInfo[] _tracks;
    private readonly long[] _codecDelayMs;
    private readonly bool _hasVideo;
    private readonly byte[] _header;

    private readonly ChunkSlab _slab;

    private bool _inCluster;
    private long _clusterMs;

    public WebmMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count == 0)
        {
            throw new ArgumentException("a WebM stream needs at least one track", nameof(tracks));
        }

        _tracks = [.. tracks];
        for (int i = 0; i < _tracks.Length; i++)
        {
            if (_tracks[i].Index != i)
            {
                throw new ArgumentException($"track {i} has Index {_tracks[i].Index}; the list must be in Index order", nameof(tracks));
            }

            if (MatroskaCodecs.ToMatroska(_tracks[i].Codec) is null)
            {
                throw new ArgumentException($"track {i}: codec {CodecIds.FfmpegName(_tracks[i].Codec)} ({_tracks[i].ContainerCodecName}) cannot be written to Matroska", nameof(tracks));
            }
        }

        // Matroska block times include the CodecDelay that packet times (presentation times) leave out.
        _codecDelayMs = [.. _tracks.Select(t => t.CodecDelayNs > 0 ? (t.CodecDelayNs + 500_000) / 1_000_000 : 0)];
        _hasVideo = _tracks.Any(t => t.Kind == MediaKind.Video);
        DocType = _tracks.All(t => MatroskaCodecs.IsWebmCodec(t.Codec)) ? "webm" : "matroska";
        ContentType = (DocType, _hasVideo) switch
        {
            ("webm", true) => "video/webm",
            ("webm", false) => "audio/webm",
            (_, true) => "video/x-matroska",
            _ => "audio/x-matroska",
        };
        _header = BuildHeader();
    }

    public string ContentType { get; }

    /// <summary>"webm" when every codec is allowed in WebM (VP8, VP9, AV1, Vorbis, Opus), else "matroska".</summary>
    public string DocType { get; }

    public ReadOnlyMemory<byte> Header => _header;

    public MuxedChunk Write(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_tracks.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has {_tracks.Length} tracks");
        }

        var track = _tracks[packet.Track];
        bool video = track.Kind == MediaKind.Video;
        long ms = MediaTime.ToMilliseconds(packet.Pts) + _codecDelayMs[packet.Track];

        bool startCluster = !_inCluster
            || (video && packet.IsKeyframe)
            || (!_hasVideo && ms - _clusterMs >= AudioClusterMilliseconds)
            || ms - _clusterMs > short.MaxValue
            || ms - _clusterMs < short.MinValue;
        bool joinPoint = startCluster && (_hasVideo ? video && packet.IsKeyframe : true);

        var prefix = _slab.Reserve(MaxPrefixLength);
        int n = 0;
        if (startCluster)
        {
            // A Cluster's Timestamp is unsigned: times before 0 are written as negative block offsets.
            _clusterMs = Math.Max(0, ms);
            _inCluster = true;
            n += Ebml.WriteId(prefix, (uint)ElementId.Cluster);
            n += Ebml.WriteVint(prefix[n..], Ebml.UnknownSizeVint8 & 0x00FFFFFFFFFFFFFF, 8);
            n += Ebml.WriteId(prefix[n..], (uint)ElementId.Timestamp);
            int tsLength = Ebml.UIntLength((ulong)_clusterMs);
            n += Ebml.WriteVint(prefix[n..], (ulong)tsLength);
            for (int i = tsLength - 1; i >= 0; i--)
            {
                prefix[n++] = (byte)((ulong)_clusterMs >> (8 * i));
            }
        }

        ulong number = (ulong)packet.Track + 1;
        int numberLength = Ebml.SizeLength(number);
        short relative = (short)Math.Clamp(ms - _clusterMs, short.MinValue, short.MaxValue);
        ulong blockSize = (ulong)(numberLength + 3 + packet.Payload.Length);

        n += Ebml.WriteId(prefix[n..], (uint)ElementId.SimpleBlock);
        n += Ebml.WriteVint(prefix[n..], blockSize);
        n += Ebml.WriteVint(prefix[n..], number, numberLength);
        BinaryPrimitives.WriteInt16BigEndian(prefix[n..], relative);
        n += 2;
        prefix[n++] = (byte)(packet.IsKeyframe || track.Kind == MediaKind.Audio ? 0x80 : 0x00);

        return _slab.CommitChunk(n, packet, joinPoint);
    }

    private byte[] BuildHeader()
    {
        var w = new EbmlWriter();
        w.Master(ElementId.Ebml, e => e
            .UInt(ElementId.EbmlVersion, 1)
            .UInt(ElementId.EbmlReadVersion, 1)
            .UInt(ElementId.EbmlMaxIdLength, 4)
            .UInt(ElementId.EbmlMaxSizeLength, 8)
            .String(ElementId.DocType, DocType)
            .UInt(ElementId.DocTypeVersion, 4)
            .UInt(ElementId.DocTypeReadVersion, 2));
        w.UnknownSizeHeader(ElementId.Segment);
        w.Master(ElementId.Info, i => i
            .UInt(ElementId.TimestampScale, 1_000_000)
            .String(ElementId.MuxingApp, "Sluice")
            .String(ElementId.WritingApp, "Sluice"));
        w.Master(ElementId.Tracks, t =>
        {
            foreach (var track in _tracks)
            {
                t.Master(ElementId.TrackEntry, e => WriteTrackEntry(e, track));
            }
        });
        return w.ToArray();
    }

    private static void WriteTrackEntry(EbmlWriter e, TrackInfo track)
    {
        e.UInt(ElementId.TrackNumber, (ulong)track.Index + 1);
        e.UInt(ElementId.TrackUid, (ulong)track.Index + 1);
        e.UInt(ElementId.TrackType, track.Kind switch
        {
            MediaKind.Video => (ulong)TrackType.Video,
            MediaKind.Audio => (ulong)TrackType.Audio,
            MediaKind.Subtitle => (ulong)TrackType.Subtitle,
            _ => (ulong)TrackType.Metadata,
        });
        e.UInt(ElementId.FlagLacing, 0);
        e.String(ElementId.Language, track.Language is { Length: 3 } language ? language : "und");
        e.String(ElementId.CodecId, MatroskaCodecs.ToMatroska(track.Codec)!);
        var codecPrivate = MatroskaCodecs.CodecPrivateOf(track);
        if (!codecPrivate.IsEmpty)
        {
            e.Binary(ElementId.CodecPrivate, codecPrivate.Span);
        }

        if (track.DefaultDuration > 0)
        {
            e.UInt(ElementId.DefaultDuration, (ulong)MediaTime.ToNanoseconds(track.DefaultDuration));
        }

        if (track.Codec == CodecId.Opus)
        {
            e.UInt(ElementId.CodecDelay, (ulong)Math.Max(0, track.CodecDelayNs));
            e.UInt(ElementId.SeekPreRoll, (ulong)(track.SeekPreRollNs > 0 ? track.SeekPreRollNs : OpusSeekPreRollNs));
        }
        else if (track.CodecDelayNs > 0)
        {
            e.UInt(ElementId.CodecDelay, (ulong)track.CodecDelayNs);
        }

        if (track.Kind == MediaKind.Video)
        {
            e.Master(ElementId.Video, v =>
            {
                v.UInt(ElementId.PixelWidth, (ulong)Math.Max(0, track.Width));
                v.UInt(ElementId.PixelHeight, (ulong)Math.Max(0, track.Height));
            });
        }
        else if (track.Kind == MediaKind.Audio)
        {
            e.Master(ElementId.Audio, a =>
            {
                a.Float(ElementId.SamplingFrequency, track.SampleRate > 0 ? track.SampleRate : 8000);
                a.UInt(ElementId.Channels, (ulong)Math.Max(1, track.Channels));
                if (track.BitDepth > 0)
                {
                    a.UInt(ElementId.BitDepth, (ulong)track.BitDepth);
                }
            });
        }
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
