using System.Buffers.Binary;
using Sluice.Media.Buffers;
using Sluice.Media.Codecs;
using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Codecs.Mpeg4Visual;
using Sluice.Media.Codecs.MpegVideo;

namespace Sluice.Media.Formats.MpegTs;

/// <summary>
/// Live MPEG-TS writer (ISO 13818-1): one program, PMT on PID 0x1000, track i on PID 0x100 + i. One instance
/// serves every viewer: <see cref="Header"/> (PAT + PMT) once per viewer, then the chunks from a join point on.
/// </summary>
/// <remarks>
/// <para>Each packet becomes one PES (one access unit or one audio frame) cut into 188-byte TS packets, written
/// into a shared slab; <see cref="MuxedChunk.Payload"/> is always empty. H.264 / H.265 go out as Annex B with an
/// access unit delimiter first and the parameter sets of the avcC / hvcC before every keyframe that does not
/// carry its own; AAC gets an ADTS header; Opus its control header, with the registration and extension
/// descriptors in the PMT; MPEG-1/2 video and MPEG-4 Part 2 go as they are, with the codec private data (the sequence
/// header, the video object layer) before every keyframe that does not start with its own; MP2 and MP3 go as they are.</para>
/// <para>A join point is a video keyframe (in a stream with video), or in a stream without video the first
/// packet and then the first packet <see cref="AudioJoinIntervalTicks"/> or more after the last join point.
/// The chunk of a join point starts with the PAT and PMT again (with the discontinuity indicator set, so their
/// continuity counters need not follow), and its first TS packet has the random_access_indicator. The PCR
/// rides on the first video track (else the first track), in the first TS packet of each of its PES, at the
/// DTS less <see cref="PcrLeadTicks"/>. Not thread-safe: one writer calls <see cref="Write"/>.</para>
/// </remarks>
public sealed class MpegTsMuxer : IMuxer
{
    public const int PmtPid = 0x1000;
    public const int FirstStreamPid = 0x100;
    public const int ProgramNumber = 1;

    /// <summary>How far the PCR runs ahead of the decode times it announces (0.7 s, ffmpeg's default max_delay).</summary>
    public const long PcrLeadTicks = 63_000;

    /// <summary>Streams without video get a join point at least this often (1 s).</summary>
    public const long AudioJoinIntervalTicks = MediaTime.TicksPerSecond;

    private const int PesHeaderMax = 19;

    private readonly Track[] _tracks;
    private readonly int _pcrTrack;
    private readonly bool _hasVideo;
    private readonly byte[] _psi;
    private readonly ChunkSlab _slab;
    private byte[] _pes = new byte[64 * 1024];
    private long _lastJoin = long.MinValue;

    public MpegTsMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count == 0 || tracks.Count > 32)
        {
            throw new ArgumentException($"an MPEG-TS stream takes 1 to 32 tracks, not {tracks.Count}", nameof(tracks));
        }

        _tracks = new Track[tracks.Count];
        int videos = 0;
        int audios = 0;
        for (int i = 0; i < tracks.Count; i++)
        {
            if (tracks[i].Index != i)
            {
                throw new ArgumentException($"track {i} has Index {tracks[i].Index}; the list must be in Index order", nameof(tracks));
            }

            _tracks[i] = Track.Create(tracks[i], FirstStreamPid + i, tracks[i].Kind == MediaKind.Video ? 0xE0 + videos++ : 0xC0 + audios++);
        }

        _pcrTrack = Array.FindIndex(_tracks, t => t.Info.Kind == MediaKind.Video);
        _hasVideo = _pcrTrack >= 0;
        if (!_hasVideo)
        {
            _pcrTrack = 0;
        }

        _psi = BuildPsi();
    }

    public string ContentType => "video/mp2t";

    /// <summary>The PAT and the PMT: two TS packets.</summary>
    public ReadOnlyMemory<byte> Header => _psi;

    public MuxedChunk Write(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_tracks.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has {_tracks.Length} tracks");
        }

        var track = _tracks[packet.Track];
        bool video = track.Info.Kind == MediaKind.Video;
        bool join = _hasVideo
            ? video && packet.IsKeyframe
            : _lastJoin == long.MinValue || packet.Dts - _lastJoin >= AudioJoinIntervalTicks || packet.Dts < _lastJoin;
        if (join && !_hasVideo)
        {
            _lastJoin = packet.Dts;
        }

        int pesLength = BuildPes(track, packet);
        var pes = _pes.AsSpan(0, pesLength);
        // The first TS packet carries at least 176 bytes of the PES (after a PCR adaptation field), every other one 184:
        // 1 + ceil((pesLength - 176) / 184) packets, which pesLength / 184 + 2 bounds. The PSI takes 2 more at a join.
        int maxPackets = (join ? 2 : 0) + pesLength / 184 + 2;
        var output = _slab.Reserve(maxPackets * MpegTs.PacketSize);
        int n = 0;
        if (join)
        {
            _psi.CopyTo(output);
            n = _psi.Length;
        }

        long? pcr = packet.Track == _pcrTrack ? packet.Dts - PcrLeadTicks : null;
        n += Packetize(output[n..], track, pes, pcr, randomAccess: join || (video && packet.IsKeyframe));
        return _slab.CommitChunk(n, join);
    }

    /// <summary>Writes the PES of <paramref name="packet"/> into the scratch buffer; returns its length.</summary>
    private int BuildPes(Track track, MediaPacket packet)
    {
        var payload = packet.Payload.Span;
        int bodyMax = track.Info.Codec switch
        {
            CodecId.H264 or CodecId.H265 => CheckedAnnexBSize(track, payload) + 8 + track.ParameterSets.Length,
            CodecId.AAC => AdtsHeader.Size + payload.Length,
            CodecId.Opus => OpusInTs.ControlHeaderLength(payload.Length) + payload.Length,
            CodecId.MPEG1Video or CodecId.MPEG2Video or CodecId.MPEG4 => track.ParameterSets.Length + payload.Length,
            _ => payload.Length,
        };
        if (_pes.Length < PesHeaderMax + bodyMax)
        {
            _pes = new byte[Math.Max(PesHeaderMax + bodyMax, _pes.Length * 2)];
        }

        var pes = _pes.AsSpan();
        bool withDts = track.Info.Kind == MediaKind.Video && packet.Dts != packet.Pts;
        int headerDataLength = withDts ? 10 : 5;
        pes[0] = 0;
        pes[1] = 0;
        pes[2] = 1;
        pes[3] = (byte)track.StreamId;
        pes[6] = 0x84; // '10', data_alignment_indicator
        pes[7] = (byte)(withDts ? 0xC0 : 0x80);
        pes[8] = (byte)headerDataLength;
        MpegTs.WriteTimestamp(pes[9..], withDts ? 3 : 2, packet.Pts);
        if (withDts)
        {
            MpegTs.WriteTimestamp(pes[14..], 1, packet.Dts);
        }

        int at = 9 + headerDataLength;
        switch (track.Info.Codec)
        {
            case CodecId.H264:
            case CodecId.H265:
                at += WriteAccessUnit(track, packet, pes[at..]);
                break;
            case CodecId.AAC:
                if (payload.Length + AdtsHeader.Size > AdtsHeader.MaxFrameLength)
                {
                    throw new ArgumentException($"an AAC frame of {payload.Length} bytes does not fit an ADTS frame", nameof(packet));
                }

                AdtsHeader.Write(pes[at..], track.AdtsObjectType, track.AdtsRateIndex, track.AdtsChannels, payload.Length);
                payload.CopyTo(pes[(at + AdtsHeader.Size)..]);
                at += AdtsHeader.Size + payload.Length;
                break;
            case CodecId.Opus:
                at += OpusInTs.WriteControlHeader(pes[at..], payload.Length);
                payload.CopyTo(pes[at..]);
                at += payload.Length;
                break;
            case CodecId.MPEG1Video:
            case CodecId.MPEG2Video:
            case CodecId.MPEG4:
                if (packet.IsKeyframe && !StartsWithHeaders(track.Info.Codec, payload))
                {
                    track.ParameterSets.CopyTo(pes[at..]);
                    at += track.ParameterSets.Length;
                }

                payload.CopyTo(pes[at..]);
                at += payload.Length;
                break;
            default:
                payload.CopyTo(pes[at..]);
                at += payload.Length;
                break;
        }

        int pesPacketLength = at - 6;
        BinaryPrimitives.WriteUInt16BigEndian(pes[4..], (ushort)(track.Info.Kind == MediaKind.Video || pesPacketLength > ushort.MaxValue ? 0 : pesPacketLength));
        return at;
    }

    private static int CheckedAnnexBSize(Track track, ReadOnlySpan<byte> payload)
    {
        int size = AnnexB.AnnexBSize(payload, track.LengthSize);
        if (size < 0)
        {
            throw new ArgumentException($"track {track.Info.Index}: the NAL unit lengths of a packet of {payload.Length} bytes do not add up (length size {track.LengthSize})");
        }

        return size;
    }

    /// <summary>True when an MPEG video frame starts with its sequence header (MPEG-1/2) or video object layer (MPEG-4).</summary>
    private static bool StartsWithHeaders(CodecId codec, ReadOnlySpan<byte> frame) => codec == CodecId.MPEG4
        ? Mpeg4VideoObjectLayer.HeaderLength(frame) > 0
        : MpegStartCodes.First(frame) == MpegVideoSequence.SequenceHeaderCode;

    /// <summary>AUD, the parameter sets before a keyframe that lacks them, then the NAL units with start codes.</summary>
    private static int WriteAccessUnit(Track track, MediaPacket packet, Span<byte> destination)
    {
        bool h264 = track.Info.Codec == CodecId.H264;
        var payload = packet.Payload.Span;
        int at = 0;
        ReadOnlySpan<byte> startCode = [0, 0, 0, 1];
        startCode.CopyTo(destination);
        var aud = h264 ? H264Nal.AccessUnitDelimiter : H265Nal.AccessUnitDelimiter;
        aud.CopyTo(destination[4..]);
        at += 4 + aud.Length;
        bool hasParameterSets = h264
            ? H264Nal.Contains(payload, H264NalType.Sps, track.LengthSize)
            : H265Nal.Contains(payload, H265NalType.Sps, track.LengthSize);
        if (packet.IsKeyframe && !hasParameterSets)
        {
            track.ParameterSets.CopyTo(destination[at..]);
            at += track.ParameterSets.Length;
        }

        foreach (var nal in LengthPrefixed.EnumerateNalUnits(payload, track.LengthSize))
        {
            bool delimiter = h264 ? H264Nal.TypeOf(nal) == H264NalType.AccessUnitDelimiter : H265Nal.TypeOf(nal) == H265NalType.AccessUnitDelimiter;
            if (delimiter || nal.IsEmpty)
            {
                continue;
            }

            startCode.CopyTo(destination[at..]);
            nal.CopyTo(destination[(at + 4)..]);
            at += 4 + nal.Length;
        }

        return at;
    }

    /// <summary>Cuts a PES into TS packets; returns the bytes written.</summary>
    private static int Packetize(Span<byte> output, Track track, ReadOnlySpan<byte> pes, long? pcr, bool randomAccess)
    {
        int n = 0;
        bool first = true;
        while (!pes.IsEmpty)
        {
            var p = output.Slice(n, MpegTs.PacketSize);
            n += MpegTs.PacketSize;
            bool withPcr = first && pcr.HasValue;
            bool withRai = first && randomAccess;

            // Adaptation field body: flags byte, PCR. Stuffing is added when the payload does not fill the packet.
            int adaptation = withPcr || withRai ? 1 + (withPcr ? 6 : 0) : -1; // -1: no adaptation field
            int space = MpegTs.PacketSize - 4 - (adaptation >= 0 ? 1 + adaptation : 0);
            int take = Math.Min(space, pes.Length);
            int stuffing = space - take;
            if (stuffing > 0 && adaptation < 0)
            {
                // A new adaptation field: its length byte alone covers one byte, a flags byte the second.
                adaptation = stuffing == 1 ? 0 : 1;
                stuffing -= stuffing == 1 ? 1 : 2;
            }

            p[0] = MpegTs.SyncByte;
            p[1] = (byte)((first ? 0x40 : 0) | (track.Pid >> 8));
            p[2] = (byte)track.Pid;
            p[3] = (byte)((adaptation >= 0 ? 0x30 : 0x10) | track.Cc);
            track.Cc = (track.Cc + 1) & 0x0F;
            int at = 4;
            if (adaptation >= 0)
            {
                p[4] = (byte)(adaptation + stuffing);
                at = 5;
                if (adaptation > 0)
                {
                    p[5] = (byte)((withRai ? 0x40 : 0) | (withPcr ? 0x10 : 0));
                    at = 6;
                    if (withPcr)
                    {
                        WritePcr(p[6..], pcr!.Value);
                        at = 12;
                    }
                }

                p.Slice(at, stuffing).Fill(0xFF);
                at += stuffing;
            }

            pes[..take].CopyTo(p[at..]);
            pes = pes[take..];
            first = false;
        }

        return n;
    }

    private static void WritePcr(Span<byte> destination, long value)
    {
        ulong b = (ulong)(((value % MpegTs.TimestampModulus) + MpegTs.TimestampModulus) % MpegTs.TimestampModulus);
        destination[0] = (byte)(b >> 25);
        destination[1] = (byte)(b >> 17);
        destination[2] = (byte)(b >> 9);
        destination[3] = (byte)(b >> 1);
        destination[4] = (byte)(((b & 1) << 7) | 0x7E); // 6 reserved bits, extension 0
        destination[5] = 0;
    }

    private byte[] BuildPsi()
    {
        byte[] psi = new byte[2 * MpegTs.PacketSize];

        Span<byte> pat = stackalloc byte[12 + 4];
        BinaryPrimitives.WriteUInt16BigEndian(pat[8..], ProgramNumber);
        BinaryPrimitives.WriteUInt16BigEndian(pat[10..], 0xE000 | PmtPid);
        int patLength = FinishSection(pat, MpegTs.PatTableId, 1, 4);
        WritePsiPacket(psi.AsSpan(0, MpegTs.PacketSize), MpegTs.PatPid, pat[..patLength]);

        var pmt = new List<byte>();
        foreach (var track in _tracks)
        {
            byte[] descriptors = track.Descriptors;
            pmt.Add((byte)track.StreamType);
            pmt.Add((byte)(0xE0 | (track.Pid >> 8)));
            pmt.Add((byte)track.Pid);
            pmt.Add((byte)(0xF0 | (descriptors.Length >> 8)));
            pmt.Add((byte)descriptors.Length);
            pmt.AddRange(descriptors);
        }

        Span<byte> section = stackalloc byte[12 + 4 + pmt.Count + 4];
        BinaryPrimitives.WriteUInt16BigEndian(section[8..], (ushort)(0xE000 | _tracks[_pcrTrack].Pid));
        BinaryPrimitives.WriteUInt16BigEndian(section[10..], 0xF000); // program_info_length 0
        pmt.ToArray().CopyTo(section[12..]);
        int pmtLength = FinishSection(section, MpegTs.PmtTableId, ProgramNumber, 4 + pmt.Count);
        if (pmtLength > MpegTs.PacketSize - 6)
        {
            throw new ArgumentException("the PMT for these tracks does not fit one TS packet");
        }

        WritePsiPacket(psi.AsSpan(MpegTs.PacketSize), PmtPid, section[..pmtLength]);
        return psi;
    }

    /// <summary>Fills the 8-byte long-form header and the CRC around a body of <paramref name="bodyLength"/> bytes at offset 8.</summary>
    private static int FinishSection(Span<byte> section, byte tableId, int idExtension, int bodyLength)
    {
        int sectionLength = 5 + bodyLength + 4;
        section[0] = tableId;
        section[1] = (byte)(0xB0 | (sectionLength >> 8));
        section[2] = (byte)sectionLength;
        BinaryPrimitives.WriteUInt16BigEndian(section[3..], (ushort)idExtension);
        section[5] = 0xC1; // version 0, current_next_indicator
        section[6] = 0;
        section[7] = 0;
        int total = 8 + bodyLength;
        BinaryPrimitives.WriteUInt32BigEndian(section[total..], MpegTs.Crc32(section[..total]));
        return total + 4;
    }

    /// <summary>One TS packet with a whole section; the adaptation field carries the discontinuity indicator.</summary>
    private static void WritePsiPacket(Span<byte> packet, int pid, ReadOnlySpan<byte> section)
    {
        packet.Fill(0xFF);
        packet[0] = MpegTs.SyncByte;
        packet[1] = (byte)(0x40 | (pid >> 8));
        packet[2] = (byte)pid;
        packet[3] = 0x30; // adaptation field and payload, continuity counter 0
        packet[4] = 1;
        packet[5] = 0x80; // discontinuity_indicator
        packet[6] = 0; // pointer_field
        section.CopyTo(packet[7..]);
    }

    private sealed class Track
    {
        private Track(TrackInfo info, int pid, int streamId)
        {
            Info = info;
            Pid = pid;
            StreamId = streamId;
        }

        public TrackInfo Info { get; }
        public int Pid { get; }
        public int StreamId { get; private init; }
        public MpegTsStreamType StreamType { get; private init; }
        public byte[] Descriptors { get; private init; } = [];
        public int Cc { get; set; }
        public int LengthSize { get; private init; } = 4;

        /// <summary>
        /// The parameter sets of the codec private data as Annex B (H.264, H.265), or the codec private data itself
        /// (MPEG-1/2 video, MPEG-4 Part 2), for keyframes.
        /// </summary>
        public byte[] ParameterSets { get; private init; } = [];

        public int AdtsObjectType { get; private init; }
        public int AdtsRateIndex { get; private init; }
        public int AdtsChannels { get; private init; }

        public static Track Create(TrackInfo info, int pid, int streamId)
        {
            string name = $"track {info.Index} ({CodecIds.FfmpegName(info.Codec)})";
            switch (info.Codec)
            {
                case CodecId.H264:
                {
                    var config = AvcDecoderConfiguration.Parse(info.CodecPrivate.Span)
                        ?? throw new ArgumentException($"{name}: CodecPrivate is not an AVCDecoderConfigurationRecord");
                    return new Track(info, pid, streamId)
                    {
                        StreamType = MpegTsStreamType.H264,
                        LengthSize = config.LengthSize,
                        ParameterSets = ToAnnexB([.. config.Sps, .. config.Pps]),
                    };
                }

                case CodecId.H265:
                {
                    var config = HevcDecoderConfiguration.Parse(info.CodecPrivate.Span)
                        ?? throw new ArgumentException($"{name}: CodecPrivate is not an HEVCDecoderConfigurationRecord");
                    return new Track(info, pid, streamId)
                    {
                        StreamType = MpegTsStreamType.H265,
                        LengthSize = config.LengthSize,
                        ParameterSets = ToAnnexB([.. config.Vps, .. config.Sps, .. config.Pps]),
                    };
                }

                case CodecId.AAC:
                {
                    var asc = AudioSpecificConfig.Parse(info.CodecPrivate.Span)
                        ?? throw new ArgumentException($"{name}: CodecPrivate is not an AudioSpecificConfig");
                    bool sbr = asc.ObjectType is AudioSpecificConfig.Sbr or AudioSpecificConfig.Ps;
                    int objectType = sbr ? asc.CoreObjectType : asc.ObjectType;
                    int rateIndex = AacSampleRates.IndexOf(asc.SampleRate);
                    if (objectType is < 1 or > 4 || rateIndex < 0 || asc.ChannelConfiguration is < 1 or > 7)
                    {
                        throw new ArgumentException($"{name}: ADTS cannot carry object type {asc.ObjectType} at {asc.SampleRate} Hz, channel configuration {asc.ChannelConfiguration}");
                    }

                    return new Track(info, pid, streamId)
                    {
                        StreamType = MpegTsStreamType.AdtsAac,
                        AdtsObjectType = objectType,
                        AdtsRateIndex = rateIndex,
                        AdtsChannels = asc.ChannelConfiguration,
                    };
                }

                case CodecId.MPEG1Video:
                case CodecId.MPEG2Video:
                case CodecId.MPEG4:
                    return new Track(info, pid, streamId)
                    {
                        StreamType = info.Codec switch
                        {
                            CodecId.MPEG1Video => MpegTsStreamType.Mpeg1Video,
                            CodecId.MPEG2Video => MpegTsStreamType.Mpeg2Video,
                            _ => MpegTsStreamType.Mpeg4Visual,
                        },
                        ParameterSets = info.CodecPrivate.ToArray(),
                    };

                case CodecId.MP3:
                case CodecId.MP2:
                    return new Track(info, pid, streamId)
                    {
                        StreamType = info.SampleRate is > 0 and < 32000 ? MpegTsStreamType.Mpeg2Audio : MpegTsStreamType.Mpeg1Audio,
                    };

                case CodecId.Opus:
                {
                    int code = OpusInTs.ChannelConfigCode(info.CodecPrivate.Span);
                    if (code < 0)
                    {
                        throw new ArgumentException($"{name}: CodecPrivate is not an OpusHead of mapping family 0 (1-2 channels) or 1 (3-8 channels)");
                    }

                    return new Track(info, pid, streamId)
                    {
                        StreamId = 0xBD, // private_stream_1
                        StreamType = MpegTsStreamType.PrivatePes,
                        Descriptors = [MpegTs.RegistrationDescriptor, 4, (byte)'O', (byte)'p', (byte)'u', (byte)'s', MpegTs.ExtensionDescriptor, 2, OpusInTs.OpusExtensionTag, (byte)code],
                    };
                }

                default:
                    throw new ArgumentException($"{name} cannot be written to MPEG-TS (H.264, H.265, MPEG-4 Part 2, MPEG-1/2 video, AAC, MP2, MP3 and Opus can)");
            }
        }

        private static byte[] ToAnnexB(byte[][] nals)
        {
            var output = new List<byte>();
            foreach (byte[] nal in nals)
            {
                output.AddRange([0, 0, 0, 1]);
                output.AddRange(nal);
            }

            return [.. output];
        }
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
