using System.Buffers;
using System.Buffers.Binary;
using Sluice.Media.Buffers;
using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H263;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Codecs.MpegAudio;

namespace Sluice.Media.Formats.Flv;

public sealed partial class FlvDemuxer
{
    private void ReadScript(ReadOnlySequence<byte> body)
    {
        byte[] data = body.ToArray();
        try
        {
            if (Amf0.ReadMetadata(data) is { } metadata)
            {
                Metadata = metadata;
                if (Tracks is null)
                {
                    // onMetaData that names no codec (and no size or rate) of a kind: that kind is not coming.
                    _expectVideo &= !double.IsNaN(metadata.VideoCodecId) || metadata.Width > 0;
                    _expectAudio &= !double.IsNaN(metadata.AudioCodecId) || metadata.AudioSampleRate > 0;
                }
            }
        }
        catch (FormatException)
        {
            DamagedTags++;
        }
    }

    private void ReadVideo(ReadOnlySequence<byte> body, long ms, IPacketSink sink)
    {
        Span<byte> head = stackalloc byte[8];
        int have = (int)Math.Min(head.Length, body.Length);
        body.Slice(0, have).CopyTo(head);
        if (have < 1)
        {
            DamagedTags++;
            return;
        }

        CodecId codec;
        string name;
        int frameType;
        int packetType;
        int composition = 0;
        int dataStart;
        if ((head[0] & Flv.ExHeader) == 0)
        {
            // Legacy VideoTagHeader: FrameType, CodecID, then for AVC (and HEVC as CodecID 12) AVCPacketType and CompositionTime.
            frameType = head[0] >> 4;
            int codecId = head[0] & 0x0F;
            if (frameType == Flv.FrameCommand)
            {
                return;
            }

            if (codecId == Flv.VideoCodecSorensonH263)
            {
                ReadSorensonH263(body.Slice(1), ms, frameType, sink);
                return;
            }

            if (codecId != Flv.VideoCodecAvc && codecId != Flv.VideoCodecHevcLegacy)
            {
                Unsupported(video: true);
                return;
            }

            if (have < 5)
            {
                DamagedTags++;
                return;
            }

            codec = codecId == Flv.VideoCodecAvc ? CodecId.H264 : CodecId.H265;
            name = codecId == Flv.VideoCodecAvc ? "AVC" : "HEVC";
            packetType = head[1] switch
            {
                Flv.AvcSequenceHeader => Flv.PacketSequenceStart,
                Flv.AvcNalu => Flv.PacketCodedFrames,
                Flv.AvcEndOfSequence => Flv.PacketSequenceEnd,
                _ => -1,
            };
            composition = ReadInt24(head[2..]);
            dataStart = 5;
        }
        else
        {
            // Enhanced RTMP ExVideoTagHeader: IsExHeader, FrameType (3 bits), VideoPacketType, FourCC.
            frameType = (head[0] >> 4) & 7;
            packetType = head[0] & 0x0F;
            if (have < 5)
            {
                DamagedTags++;
                return;
            }

            if (frameType == Flv.FrameCommand && packetType != Flv.PacketSequenceStart)
            {
                return;
            }

            uint fourCc = BinaryPrimitives.ReadUInt32BigEndian(head[1..]);
            (codec, name) = fourCc switch
            {
                Flv.FourCcAvc1 => (CodecId.H264, "avc1"),
                Flv.FourCcHvc1 => (CodecId.H265, "hvc1"),
                Flv.FourCcAv01 => (CodecId.AV1, "av01"),
                Flv.FourCcVp09 => (CodecId.VP9, "vp09"),
                _ => (CodecId.Unknown, ""),
            };
            if (codec == CodecId.Unknown || packetType > Flv.PacketMpeg2TsSequenceStart)
            {
                // Another codec, or Multitrack / ModEx packets.
                Unsupported(video: true);
                return;
            }

            dataStart = 5;
            if (packetType == Flv.PacketCodedFrames && codec is CodecId.H264 or CodecId.H265)
            {
                if (have < 8)
                {
                    DamagedTags++;
                    return;
                }

                composition = ReadInt24(head[5..]);
                dataStart = 8;
            }
            else if (packetType == Flv.PacketCodedFramesX)
            {
                packetType = Flv.PacketCodedFrames;
            }
        }

        var data = body.Slice(dataStart);
        switch (packetType)
        {
            case Flv.PacketSequenceStart:
                VideoSequenceStart(codec, name, data);
                return;
            case Flv.PacketCodedFrames:
                break;
            case Flv.PacketSequenceEnd:
            case Flv.PacketMetadata:
            case Flv.PacketMpeg2TsSequenceStart:
                return;
            default:
                DamagedTags++;
                return;
        }

        if (data.IsEmpty)
        {
            DamagedTags++;
            return;
        }

        if (!_video.Described || _video.Codec != codec || (Tracks is not null && _videoIndex < 0))
        {
            UntrackedPackets++;
            return;
        }

        long dts = ms * MediaTime.TicksPerMillisecond;
        long pts = (ms + composition) * MediaTime.TicksPerMillisecond;
        var payload = CopyPayload(data, out var owner);
        Deliver(new MediaPacket(_videoIndex, dts, pts, frameType == Flv.FrameKey, payload, 0, owner), video: true, sink);
    }

    /// <summary>A Sorenson H.263 (FLV1) tag: no sequence header; the first frame's picture header describes the track.</summary>
    private void ReadSorensonH263(ReadOnlySequence<byte> data, long ms, int frameType, IPacketSink sink)
    {
        if (data.IsEmpty)
        {
            DamagedTags++;
            return;
        }

        if (!_video.Described && Tracks is null)
        {
            Span<byte> picture = stackalloc byte[9];
            int n = (int)Math.Min(picture.Length, data.Length);
            data.Slice(0, n).CopyTo(picture);
            if (!SorensonPictureHeader.TryParse(picture[..n], out var header))
            {
                DamagedTags++;
                return;
            }

            _video = new VideoState(true, CodecId.FLV1, "Sorenson H.263", [], header.Width, header.Height);
            TryAnnounceWhenComplete();
        }

        if (_video.Codec != CodecId.FLV1 || (Tracks is not null && _videoIndex < 0))
        {
            UntrackedPackets++;
            return;
        }

        long time = ms * MediaTime.TicksPerMillisecond;
        var payload = CopyPayload(data, out var owner);
        Deliver(new MediaPacket(_videoIndex, time, time, frameType == Flv.FrameKey, payload, 0, owner), video: true, sink);
    }

    private void VideoSequenceStart(CodecId codec, string name, ReadOnlySequence<byte> data)
    {
        byte[] config = data.ToArray();
        int width = 0, height = 0;
        switch (codec)
        {
            case CodecId.H264:
            {
                var avcc = AvcDecoderConfiguration.Parse(config);
                if (avcc is null)
                {
                    DamagedTags++;
                    return;
                }

                if (avcc.Sps.Count > 0 && H264Sps.Parse(avcc.Sps[0]) is { } sps)
                {
                    (width, height) = (sps.Width, sps.Height);
                }

                break;
            }

            case CodecId.H265:
            {
                var hvcc = HevcDecoderConfiguration.Parse(config);
                if (hvcc is null)
                {
                    DamagedTags++;
                    return;
                }

                if (hvcc.Sps.Count > 0 && H265Sps.Parse(hvcc.Sps[0]) is { } sps)
                {
                    (width, height) = (sps.Width, sps.Height);
                }

                break;
            }

            case CodecId.AV1:
                if (config.Length < 4 || config[0] != 0x81)
                {
                    DamagedTags++;
                    return;
                }

                break;

            default:
                // VP9: the vpcC is not the codec private data Matroska and WebM carry; the bitstream describes itself.
                config = [];
                break;
        }

        if (_video.Described)
        {
            if (_video.Codec != codec || !_video.Config.AsSpan().SequenceEqual(config))
            {
                if (Tracks is not null)
                {
                    ConfigurationChanges++;
                    return;
                }
            }
            else
            {
                return;
            }
        }

        _video = new VideoState(true, codec, name, config, width, height);
        TryAnnounceWhenComplete();
    }

    private void ReadAudio(ReadOnlySequence<byte> body, long ms, IPacketSink sink)
    {
        Span<byte> head = stackalloc byte[2];
        int have = (int)Math.Min(head.Length, body.Length);
        body.Slice(0, have).CopyTo(head);
        if (have < 1)
        {
            DamagedTags++;
            return;
        }

        int format = head[0] >> 4;
        int flagChannels = (head[0] & 1) + 1;
        ReadOnlySequence<byte> data;
        CodecId codec;
        switch (format)
        {
            case Flv.SoundAac:
            {
                if (have < 2)
                {
                    DamagedTags++;
                    return;
                }

                data = body.Slice(2);
                if (head[1] == Flv.AacSequenceHeader)
                {
                    AacSequenceHeader(data.ToArray(), flagChannels);
                    return;
                }

                if (head[1] != Flv.AacRaw)
                {
                    DamagedTags++;
                    return;
                }

                codec = CodecId.AAC;
                break;
            }

            case Flv.SoundMp3:
            case Flv.SoundMp3At8kHz:
                data = body.Slice(1);
                codec = CodecId.MP3;
                if (!_audio.Described && Tracks is null && !data.IsEmpty)
                {
                    Span<byte> frame = stackalloc byte[4];
                    int n = (int)Math.Min(4, data.Length);
                    data.Slice(0, n).CopyTo(frame);
                    int samples = MpegAudioHeader.SamplesIn(frame[..n], out int rate);
                    int channels = samples > 0 ? ((frame[3] >> 6) == 3 ? 1 : 2) : flagChannels;
                    if (samples == 0)
                    {
                        rate = format == Flv.SoundMp3At8kHz ? 8000 : ((head[0] >> 2) & 3) switch { 0 => 5512, 1 => 11025, 2 => 22050, _ => 44100 };
                    }

                    _audio = new AudioState(true, CodecId.MP3, "MP3", [], rate, channels);
                    TryAnnounceWhenComplete();
                }

                break;

            default:
                Unsupported(video: false);
                return;
        }

        if (data.IsEmpty)
        {
            DamagedTags++;
            return;
        }

        if (!_audio.Described || _audio.Codec != codec || (Tracks is not null && _audioIndex < 0))
        {
            UntrackedPackets++;
            return;
        }

        long time = ms * MediaTime.TicksPerMillisecond;
        var payload = CopyPayload(data, out var owner);
        Deliver(new MediaPacket(_audioIndex, time, time, true, payload, 0, owner), video: false, sink);
    }

    private void AacSequenceHeader(byte[] config, int flagChannels)
    {
        var asc = AudioSpecificConfig.Parse(config);
        if (asc is null)
        {
            DamagedTags++;
            return;
        }

        if (_audio.Described)
        {
            if (_audio.Codec == CodecId.AAC && _audio.Config.AsSpan().SequenceEqual(config))
            {
                return;
            }

            if (Tracks is not null)
            {
                ConfigurationChanges++;
                return;
            }
        }

        int channels = asc.Channels > 0 ? asc.Channels : flagChannels;
        _audio = new AudioState(true, CodecId.AAC, "AAC", config, asc.OutputSampleRate, channels);
        TryAnnounceWhenComplete();
    }

    private void Unsupported(bool video)
    {
        UnsupportedTags++;
        if (Tracks is null)
        {
            // A kind whose codec cannot be read is not waited for.
            if (video && !_video.Described)
            {
                _expectVideo = false;
            }
            else if (!video && !_audio.Described)
            {
                _expectAudio = false;
            }

            TryAnnounceWhenComplete();
        }
    }

    /// <summary>Notes that the tracks can be announced once every expected kind is described (done at the next delivery or here).</summary>
    private void TryAnnounceWhenComplete()
    {
        _readyToAnnounce = Tracks is null
            && (_video.Described || _audio.Described)
            && (!_expectVideo || _video.Described)
            && (!_expectAudio || _audio.Described);
    }

    /// <summary>A copy of a tag's media data in the demuxer's pooled blocks.</summary>
    private ReadOnlyMemory<byte> CopyPayload(ReadOnlySequence<byte> data, out PooledBlock owner)
    {
        int length = (int)data.Length;
        data.CopyTo(_payloads.Reserve(length));
        return _payloads.Commit(length, out owner);
    }

    private void Deliver(MediaPacket packet, bool video, IPacketSink sink)
    {
        if (Tracks is not null)
        {
            sink.Accept(packet);
            return;
        }

        _pending.Add(packet.AsTrack(video ? 0 : 1));
        _pendingBytes += packet.Payload.Length;
        if (_readyToAnnounce
            || _pending.Count > MaxPendingPackets
            || _pendingBytes > MaxPendingBytes
            || _pending[^1].Dts - _pending[0].Dts > MaxPendingTicks)
        {
            Announce(sink);
        }
    }

    /// <summary>Announces the described tracks and delivers the held packets.</summary>
    private void Announce(IPacketSink sink)
    {
        var tracks = new List<TrackInfo>(2);
        var metadata = Metadata;
        if (_video.Described)
        {
            _videoIndex = tracks.Count;
            double fps = metadata?.FrameRate ?? 0;
            tracks.Add(new TrackInfo
            {
                Index = _videoIndex,
                Kind = MediaKind.Video,
                Codec = _video.Codec,
                ContainerCodecName = _video.Name,
                CodecPrivate = _video.Config,
                Width = _video.Width > 0 ? _video.Width : metadata?.Width ?? 0,
                Height = _video.Height > 0 ? _video.Height : metadata?.Height ?? 0,
                DefaultDuration = fps > 0 ? (long)Math.Round(MediaTime.TicksPerSecond / fps) : 0,
                TimePrecision = MediaTime.TicksPerMillisecond,
            });
        }

        if (_audio.Described)
        {
            _audioIndex = tracks.Count;
            tracks.Add(new TrackInfo
            {
                Index = _audioIndex,
                Kind = MediaKind.Audio,
                Codec = _audio.Codec,
                ContainerCodecName = _audio.Name,
                CodecPrivate = _audio.Config,
                SampleRate = _audio.SampleRate,
                Channels = _audio.Channels,
                TimePrecision = MediaTime.TicksPerMillisecond,
            });
        }

        Tracks = tracks;
        sink.OnTracks(tracks);
        foreach (var held in _pending)
        {
            sink.Accept(held.AsTrack(held.Track == 0 ? _videoIndex : _audioIndex));
        }

        _pending.Clear();
        _pendingBytes = 0;
    }

    private readonly record struct VideoState(bool Described, CodecId Codec, string Name, byte[] Config, int Width, int Height);

    private readonly record struct AudioState(bool Described, CodecId Codec, string Name, byte[] Config, int SampleRate, int Channels);
}
