using System.Buffers.Binary;
using Sluice.Media.Buffers;
using Sluice.Media.Codecs.Aac;

namespace Sluice.Media.Formats.Flv;

/// <summary>
/// Live FLV writer (H.264 or Sorenson H.263 and AAC or MP3 as in the FLV specification 10.1; H.265 as Enhanced RTMP's
/// 'hvc1'). One
/// instance serves every viewer of a stream: <see cref="Header"/> once per viewer, then the chunks from a join point on.
/// </summary>
/// <remarks>
/// <para>The header is the FLV header, PreviousTagSize0, an onMetaData script tag, then the AVC/HEVC sequence header
/// (the avcC / hvcC; Sorenson H.263 has none) and the AAC sequence header (the AudioSpecificConfig) at time 0, each tag followed by its
/// PreviousTagSize. Each packet is one tag: tag header, the audio or video tag header (AVC NALU with composition
/// time, AAC raw, ...), the payload, and the PreviousTagSize that FLV puts after every tag.</para>
/// <para>Why the payload is copied: the size after a tag belongs after its payload, and a chunk can only put framing
/// before one. Carried into the next chunk's prefix instead, it would be wrong at every join point for the viewer
/// who starts there (its previous tag is the header's last one, not the previous packet's), and ffmpeg checks it
/// ("Packet mismatch" and a resync that loses the keyframe). So each chunk is the whole tag written into a shared
/// slab (one copy per packet for the stream, not per viewer) and <see cref="MuxedChunk.Payload"/> is empty.</para>
/// <para>Tag timestamps are the packets' DTS in milliseconds (32 bits, the upper 8 in the extension byte; negative
/// times in two's complement as ffmpeg reads them), composition times PTS − DTS. Join points: each video keyframe;
/// in a stream without video every packet. Not thread-safe: one writer calls <see cref="Write"/>.</para>
/// </remarks>
public sealed class FlvMuxer : IMuxer
{
    /// <summary>Largest audio/video tag header plus tag header and PreviousTagSize this writer adds to a payload.</summary>
    public const int MaxFramingLength = Flv.TagHeaderLength + 8 + Flv.PreviousTagSizeLength;

    private const int MaxDataSize = 0xFFFFFF;

    private readonly TrackInfo[] _tracks;
    private readonly byte[] _audioHeaderByte;
    private readonly bool _hasVideo;
    private readonly byte[] _header;
    private readonly ChunkSlab _slab;

    public FlvMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count == 0)
        {
            throw new ArgumentException("an FLV stream needs at least one track", nameof(tracks));
        }

        _tracks = [.. tracks];
        int video = 0, audio = 0;
        for (int i = 0; i < _tracks.Length; i++)
        {
            var track = _tracks[i];
            if (track.Index != i)
            {
                throw new ArgumentException($"track {i} has Index {track.Index}; the list must be in Index order", nameof(tracks));
            }

            switch (track.Codec)
            {
                case CodecId.H264 when track.CodecPrivate.Length >= 7 && track.CodecPrivate.Span[0] == 1:
                case CodecId.H265 when track.CodecPrivate.Length >= 23 && track.CodecPrivate.Span[0] == 1:
                case CodecId.FLV1:
                    video++;
                    break;
                case CodecId.AAC when track.CodecPrivate.Length >= 2:
                case CodecId.MP3:
                    audio++;
                    break;
                case CodecId.H264 or CodecId.H265 or CodecId.AAC:
                    throw new ArgumentException($"track {i}: {CodecIds.FfmpegName(track.Codec)} needs its {(track.Codec == CodecId.AAC ? "AudioSpecificConfig" : "decoder configuration record")} as CodecPrivate", nameof(tracks));
                default:
                    throw new ArgumentException($"track {i}: codec {CodecIds.FfmpegName(track.Codec)} ({track.ContainerCodecName}) cannot be written to FLV (it carries H.264, H.265, Sorenson H.263, AAC and MP3)", nameof(tracks));
            }
        }

        if (video > 1 || audio > 1)
        {
            throw new ArgumentException($"FLV carries one video and one audio track, not {video} and {audio}", nameof(tracks));
        }

        _hasVideo = video > 0;
        _audioHeaderByte = [.. _tracks.Select(AudioHeaderByte)];
        ContentType = "video/x-flv";
        _header = BuildHeader();
    }

    public string ContentType { get; }

    public ReadOnlyMemory<byte> Header => _header;

    public MuxedChunk Write(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_tracks.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has {_tracks.Length} tracks");
        }

        var payload = packet.Payload.Span;
        if (payload.Length > MaxDataSize - 8)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"a packet of {payload.Length} bytes does not fit an FLV tag");
        }

        long dtsMs = MediaTime.ToMilliseconds(packet.Dts);
        Span<byte> dataHeader = stackalloc byte[8];
        int headerLength = WriteDataHeader(packet, dataHeader, out byte tagType);
        int dataSize = headerLength + payload.Length;
        var tag = _slab.Reserve(Flv.TagHeaderLength + dataSize + Flv.PreviousTagSizeLength);
        WriteTagHeader(tag, tagType, dataSize, dtsMs);
        dataHeader[..headerLength].CopyTo(tag[Flv.TagHeaderLength..]);
        payload.CopyTo(tag[(Flv.TagHeaderLength + headerLength)..]);
        BinaryPrimitives.WriteUInt32BigEndian(tag[(Flv.TagHeaderLength + dataSize)..], (uint)(Flv.TagHeaderLength + dataSize));

        return _slab.CommitChunk(tag.Length, IsJoinPoint(packet));
    }

    /// <summary>
    /// The audio or video tag header of a packet (what precedes its payload in a tag body, and in an RTMP message);
    /// returns its length.
    /// </summary>
    internal int WriteDataHeader(MediaPacket packet, Span<byte> dataHeader, out byte tagType)
    {
        var track = _tracks[packet.Track];
        if (track.Kind == MediaKind.Video)
        {
            tagType = Flv.TagVideo;
            long dtsMs = MediaTime.ToMilliseconds(packet.Dts);
            int composition = (int)Math.Clamp(MediaTime.ToMilliseconds(packet.Pts) - dtsMs, -0x800000, 0x7FFFFF);
            int frameType = packet.IsKeyframe ? Flv.FrameKey : Flv.FrameInter;
            return WriteVideoHeader(dataHeader, track.Codec, frameType, composition == 0 && track.Codec == CodecId.H265 ? Flv.PacketCodedFramesX : Flv.PacketCodedFrames, composition);
        }

        tagType = Flv.TagAudio;
        dataHeader[0] = _audioHeaderByte[packet.Track];
        if (track.Codec == CodecId.AAC)
        {
            dataHeader[1] = Flv.AacRaw;
            return 2;
        }

        return 1;
    }

    /// <summary>Whether a packet starts a unit a viewer may join at: a video keyframe, or any packet of a stream without video.</summary>
    internal bool IsJoinPoint(MediaPacket packet) => !_hasVideo || (_tracks[packet.Track].Kind == MediaKind.Video && packet.IsKeyframe);

    /// <summary>
    /// The VideoTagHeader: Sorenson H.263 (1 byte), legacy AVC (5 bytes) or an Enhanced RTMP ExVideoTagHeader for
    /// 'hvc1' (5 or 8 bytes).
    /// </summary>
    private static int WriteVideoHeader(Span<byte> destination, CodecId codec, int frameType, int packetType, int composition)
    {
        if (codec == CodecId.FLV1)
        {
            destination[0] = (byte)((frameType << 4) | Flv.VideoCodecSorensonH263);
            return 1;
        }

        if (codec == CodecId.H264)
        {
            destination[0] = (byte)((frameType << 4) | Flv.VideoCodecAvc);
            destination[1] = (byte)(packetType == Flv.PacketSequenceStart ? Flv.AvcSequenceHeader : Flv.AvcNalu);
            WriteInt24(destination[2..], composition);
            return 5;
        }

        destination[0] = (byte)(Flv.ExHeader | (frameType << 4) | packetType);
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], Flv.FourCcHvc1);
        if (packetType != Flv.PacketCodedFrames)
        {
            return 5;
        }

        WriteInt24(destination[5..], composition);
        return 8;
    }

    private static void WriteInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }

    private static void WriteTagHeader(Span<byte> destination, byte type, int dataSize, long ms)
    {
        uint time = unchecked((uint)ms);
        destination[0] = type;
        WriteInt24(destination[1..], dataSize);
        WriteInt24(destination[4..], (int)(time & 0xFFFFFF));
        destination[7] = (byte)(time >> 24);
        WriteInt24(destination[8..], 0); // StreamID
    }

    /// <summary>SoundFormat, SoundRate, SoundSize (16 bits) and SoundType of the AudioTagHeader (0 for video tracks).</summary>
    private static byte AudioHeaderByte(TrackInfo track)
    {
        if (track.Codec == CodecId.AAC)
        {
            return (Flv.SoundAac << 4) | (3 << 2) | (1 << 1) | 1; // AAC: always "44 kHz" and "stereo"
        }

        if (track.Codec != CodecId.MP3)
        {
            return 0;
        }

        int format = track.SampleRate == 8000 ? Flv.SoundMp3At8kHz : Flv.SoundMp3;
        int rate = track.SampleRate switch
        {
            >= 44100 => 3,
            >= 22050 => 2,
            >= 11025 => 1,
            _ => 0,
        };
        return (byte)((format << 4) | (rate << 2) | (1 << 1) | (track.Channels == 1 ? 0 : 1));
    }

    private byte[] BuildHeader()
    {
        var output = new MemoryStream();
        bool hasAudio = _tracks.Any(t => t.Kind == MediaKind.Audio);
        output.Write("FLV"u8);
        output.WriteByte(1);
        output.WriteByte((byte)((hasAudio ? Flv.HeaderFlagAudio : 0) | (_hasVideo ? Flv.HeaderFlagVideo : 0)));
        output.Write([0, 0, 0, Flv.HeaderLength, 0, 0, 0, 0]); // DataOffset, PreviousTagSize0

        foreach (var (type, body) in HeaderTags())
        {
            WriteTag(output, type, body);
        }

        return output.ToArray();
    }

    /// <summary>The tags every viewer gets first: onMetaData, then the video and AAC sequence headers.</summary>
    internal List<(byte Type, byte[] Body)> HeaderTags()
    {
        var tags = new List<(byte Type, byte[] Body)> { (Flv.TagScript, Metadata()) };
        Span<byte> header = stackalloc byte[8];
        foreach (var track in _tracks)
        {
            if (track.Kind == MediaKind.Video && track.Codec != CodecId.FLV1)
            {
                int length = WriteVideoHeader(header, track.Codec, Flv.FrameKey, Flv.PacketSequenceStart, 0);
                tags.Add((Flv.TagVideo, [.. header[..length], .. track.CodecPrivate.Span]));
            }
            else if (track.Codec == CodecId.AAC)
            {
                tags.Add((Flv.TagAudio, [AudioHeaderByte(track), Flv.AacSequenceHeader, .. track.CodecPrivate.Span]));
            }
        }

        return tags;
    }

    private static void WriteTag(MemoryStream output, byte type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[Flv.TagHeaderLength];
        WriteTagHeader(header, type, data.Length, 0);
        output.Write(header);
        output.Write(data);
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(size, (uint)(Flv.TagHeaderLength + data.Length));
        output.Write(size);
    }

    private byte[] Metadata()
    {
        var video = _tracks.FirstOrDefault(t => t.Kind == MediaKind.Video);
        var audio = _tracks.FirstOrDefault(t => t.Kind == MediaKind.Audio);
        int count = 2 + (video is null ? 0 : video.DefaultDuration > 0 ? 4 : 3) + (audio is null ? 0 : 4);
        var w = new Amf0Writer().String("onMetaData").EcmaArray(count);
        w.Property("duration", 0.0);
        if (video is not null)
        {
            w.Property("width", (double)video.Width).Property("height", (double)video.Height);
            if (video.DefaultDuration > 0)
            {
                w.Property("framerate", Math.Round((double)MediaTime.TicksPerSecond / video.DefaultDuration, 3));
            }

            w.Property("videocodecid", video.Codec switch
            {
                CodecId.H264 => Flv.VideoCodecAvc,
                CodecId.FLV1 => Flv.VideoCodecSorensonH263,
                _ => (double)Flv.FourCcHvc1,
            });
        }

        if (audio is not null)
        {
            int rate = audio.SampleRate;
            if (rate <= 0 && audio.Codec == CodecId.AAC)
            {
                rate = AudioSpecificConfig.Parse(audio.CodecPrivate.Span)?.OutputSampleRate ?? 0;
            }

            w.Property("audiocodecid", (double)(audio.Codec == CodecId.AAC ? Flv.SoundAac : audio.SampleRate == 8000 ? Flv.SoundMp3At8kHz : Flv.SoundMp3))
                .Property("audiosamplerate", (double)rate)
                .Property("audiosamplesize", 16.0)
                .Property("stereo", audio.Channels != 1);
        }

        w.Property("encoder", "Sluice");
        return w.End().ToArray();
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
