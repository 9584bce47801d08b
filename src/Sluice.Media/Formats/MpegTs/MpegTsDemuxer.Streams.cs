using System.Buffers.Binary;
using Sluice.Media.Buffers;
using Sluice.Media.Codecs;
using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Codecs.Mpeg4Visual;
using Sluice.Media.Codecs.MpegAudio;
using Sluice.Media.Codecs.MpegVideo;
using Sluice.Media.Codecs.Opus;

namespace Sluice.Media.Formats.MpegTs;

public sealed partial class MpegTsDemuxer
{
    private const int MaxParameterSets = 4;

    /// <param name="pool">Where the payloads' blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public MpegTsDemuxer(BlockPool? pool = null)
    {
        _payloads = new ChunkSlab(pool: pool);
        _pids[MpegTs.PatPid] = new PidState(null);
    }

    private void ReadPesPayload(PidState state, ReadOnlySpan<byte> payload, bool unitStart, bool randomAccess, long offset, IPacketSink sink)
    {
        if (unitStart)
        {
            if (state.Active)
            {
                FinishPes(state, sink);
            }

            state.Active = true;
            state.Length = 0;
            state.RandomAccess = randomAccess;
            state.StartOffset = offset;
        }
        else if (!state.Active)
        {
            return; // waiting for the start of the next PES
        }

        if (state.Length + payload.Length > MaxPesSize)
        {
            state.Active = false;
            state.Length = 0;
            DroppedPes++;
            return;
        }

        state.Append(payload);
        if (state.Length >= 6)
        {
            int pesLength = BinaryPrimitives.ReadUInt16BigEndian(state.Buffer.AsSpan(4));
            if (pesLength != 0 && state.Length >= 6 + pesLength)
            {
                FinishPes(state, sink);
            }
        }
    }

    private void FinishPes(int pid, IPacketSink sink)
    {
        if (_pids.TryGetValue(pid, out var state) && state.Active)
        {
            FinishPes(state, sink);
        }
    }

    private void FinishPes(PidState state, IPacketSink sink)
    {
        state.Active = false;
        var stream = state.Stream!;
        var data = state.Buffer.AsSpan(0, state.Length);
        state.Length = 0;
        if (stream.Dropped)
        {
            return;
        }

        if (data.Length < 9 || data[0] != 0 || data[1] != 0 || data[2] != 1)
        {
            DroppedPes++;
            return;
        }

        int pesLength = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
        if (pesLength != 0)
        {
            if (data.Length < 6 + pesLength)
            {
                DroppedPes++; // cut short: its end was lost
                return;
            }

            data = data[..(6 + pesLength)];
        }

        int flags = data[7] >> 6;
        int headerLength = data[8];
        if ((data[6] & 0xC0) != 0x80 || flags == 1 || 9 + headerLength > data.Length
            || (flags >= 2 && headerLength < 5) || (flags == 3 && headerLength < 10))
        {
            DroppedPes++;
            return;
        }

        long pts = long.MinValue;
        long dts = long.MinValue;
        if (flags >= 2)
        {
            if (!MpegTs.TryReadTimestamp(data[9..], out long rawPts) || (flags == 3 && !MpegTs.TryReadTimestamp(data[14..], out _)))
            {
                DroppedPes++;
                return;
            }

            long rawDts = rawPts;
            if (flags == 3)
            {
                MpegTs.TryReadTimestamp(data[14..], out rawDts);
            }

            dts = Unwrap(rawDts);
            pts = Unwrap(rawPts);
        }

        var payload = data[(9 + headerLength)..];
        switch (stream.Codec)
        {
            case CodecId.H264:
            case CodecId.H265:
                ReadVideo(stream, payload, dts, pts, state.RandomAccess, sink);
                break;
            case CodecId.MPEG1Video:
            case CodecId.MPEG2Video:
            case CodecId.MPEG4:
                ReadMpegVideo(stream, payload, dts, pts, state.RandomAccess, sink);
                break;
            case CodecId.AAC:
                ReadAdts(stream, payload, pts, sink);
                break;
            case CodecId.MP3:
            case CodecId.MP2:
                ReadMpegAudio(stream, payload, pts, sink);
                break;
            case CodecId.Opus:
                ReadOpus(stream, payload, pts, sink);
                break;
        }
    }

    /// <summary>A 33-bit time on the continuous timeline: the nearest to the last time read, of all streams.</summary>
    private long Unwrap(long raw)
    {
        if (_timeReference == long.MinValue)
        {
            _timeReference = raw;
            return raw;
        }

        long basis = ((_timeReference % MpegTs.TimestampModulus) + MpegTs.TimestampModulus) % MpegTs.TimestampModulus;
        long diff = raw - basis;
        if (diff >= MpegTs.TimestampModulus / 2)
        {
            diff -= MpegTs.TimestampModulus;
        }
        else if (diff < -MpegTs.TimestampModulus / 2)
        {
            diff += MpegTs.TimestampModulus;
        }

        _timeReference += diff;
        return _timeReference;
    }

    private void ReadVideo(StreamState stream, ReadOnlySpan<byte> payload, long dts, long pts, bool randomAccess, IPacketSink sink)
    {
        bool h264 = stream.Codec == CodecId.H264;
        int size = 0;
        bool key = false;
        foreach (var nal in AnnexB.EnumerateNalUnits(payload))
        {
            if (h264)
            {
                var type = H264Nal.TypeOf(nal);
                if (type == H264NalType.AccessUnitDelimiter)
                {
                    continue;
                }

                key |= type == H264NalType.IdrSlice;
                if (!stream.Described && type is H264NalType.Sps or H264NalType.Pps)
                {
                    Remember(type == H264NalType.Sps ? stream.Sps : stream.Pps, nal);
                }
            }
            else
            {
                var type = H265Nal.TypeOf(nal);
                if (type == H265NalType.AccessUnitDelimiter)
                {
                    continue;
                }

                key |= H265Nal.IsIrap(type);
                if (!stream.Described && type is H265NalType.Vps or H265NalType.Sps or H265NalType.Pps)
                {
                    Remember(type == H265NalType.Vps ? stream.Vps : type == H265NalType.Sps ? stream.Sps : stream.Pps, nal);
                }
            }

            size += 4 + nal.Length;
        }

        if (size == 0 || pts == long.MinValue)
        {
            DroppedPes++;
            return;
        }

        var units = _payloads.Reserve(size);
        int at = 0;
        foreach (var nal in AnnexB.EnumerateNalUnits(payload))
        {
            bool delimiter = h264 ? H264Nal.TypeOf(nal) == H264NalType.AccessUnitDelimiter : H265Nal.TypeOf(nal) == H265NalType.AccessUnitDelimiter;
            if (!delimiter)
            {
                BinaryPrimitives.WriteUInt32BigEndian(units[at..], (uint)nal.Length);
                nal.CopyTo(units[(at + 4)..]);
                at += 4 + nal.Length;
            }
        }

        var access = _payloads.Commit(size, out var owner);
        if (!stream.Described)
        {
            TryDescribeVideo(stream);
        }

        Emit(stream, new MediaPacket(stream.Index, dts, Math.Max(pts, dts), key || randomAccess, access, 0, owner), sink);
    }

    /// <summary>
    /// An MPEG-1/2 or MPEG-4 Part 2 frame, kept as it is (start codes and all, as Matroska and MP4 carry it too). The
    /// stream is described by its first sequence header or video object layer, which become its codec private data.
    /// </summary>
    private void ReadMpegVideo(StreamState stream, ReadOnlySpan<byte> payload, long dts, long pts, bool randomAccess, IPacketSink sink)
    {
        if (payload.IsEmpty || pts == long.MinValue)
        {
            DroppedPes++;
            return;
        }

        bool mpeg4 = stream.Codec == CodecId.MPEG4;
        if (!stream.Described)
        {
            int headers = mpeg4 ? Mpeg4VideoObjectLayer.HeaderLength(payload) : MpegVideoSequence.HeaderLength(payload);
            if (headers > 0 && mpeg4 && Mpeg4VideoObjectLayer.TryParse(payload[..headers], out var layer))
            {
                (stream.Width, stream.Height) = (layer.Width, layer.Height);
                stream.Private = payload[..headers].ToArray();
                stream.Described = true;
            }
            else if (headers > 0 && !mpeg4 && MpegVideoSequence.TryParse(payload[..headers], out var sequence))
            {
                (stream.Width, stream.Height) = (sequence.Width, sequence.Height);
                stream.Codec = sequence.Codec;
                stream.Private = payload[..headers].ToArray();
                stream.Described = true;
            }
        }

        bool key = mpeg4 ? Mpeg4VideoObjectLayer.IsIntra(payload) : MpegVideoSequence.IsIntra(payload);
        var frame = _payloads.Copy(payload, out var owner);
        Emit(stream, new MediaPacket(stream.Index, dts, Math.Max(pts, dts), key || randomAccess, frame, 0, owner), sink);
    }

    private static void Remember(List<byte[]> sets, ReadOnlySpan<byte> nal)
    {
        foreach (byte[] known in sets)
        {
            if (known.AsSpan().SequenceEqual(nal))
            {
                return;
            }
        }

        // Shorter than 3 bytes is no parameter set of either codec (and an hvcC refuses it).
        if (sets.Count < MaxParameterSets && nal.Length >= 3 && nal.Length <= ushort.MaxValue)
        {
            sets.Add(nal.ToArray());
        }
    }

    private static void TryDescribeVideo(StreamState stream)
    {
        if (stream.Sps.Count == 0 || stream.Pps.Count == 0 || (stream.Codec == CodecId.H265 && stream.Vps.Count == 0))
        {
            return;
        }

        if (stream.Codec == CodecId.H264)
        {
            if (H264Sps.Parse(stream.Sps[0]) is not { } sps)
            {
                stream.Sps.RemoveAt(0); // damaged: wait for the next one
                return;
            }

            stream.Private = AvcDecoderConfiguration.Build(stream.Sps, stream.Pps);
            stream.Width = sps.Width;
            stream.Height = sps.Height;
        }
        else
        {
            if (H265Sps.Parse(stream.Sps[0]) is not { } sps)
            {
                stream.Sps.RemoveAt(0);
                return;
            }

            stream.Private = HevcDecoderConfiguration.Build(stream.Vps, stream.Sps, stream.Pps);
            stream.Width = sps.Width;
            stream.Height = sps.Height;
        }

        stream.Described = true;
    }

    private void ReadAdts(StreamState stream, ReadOnlySpan<byte> payload, long pts, IPacketSink sink)
    {
        if (!TryStartTime(stream, pts, out long time))
        {
            return;
        }

        int at = 0;
        while (payload.Length - at >= AdtsHeader.Size)
        {
            if (!AdtsHeader.TryParse(payload[at..], out var header) || header.FrameLength > payload.Length - at)
            {
                DroppedFrames++;
                break;
            }

            var raw = payload.Slice(at + header.HeaderLength, header.PayloadLength);
            at += header.FrameLength;
            if (header.RawDataBlocks != 1 || header.ObjectType == 4 || header.SampleRate == 0)
            {
                DroppedFrames++;
                continue;
            }

            if (!stream.Described)
            {
                stream.Private = header.ToAudioSpecificConfig();
                stream.SampleRate = header.SampleRate;
                stream.Channels = header.Channels;
                stream.Described = true;
            }

            long start = time;
            long end = time = NextFrameTime(time, 1024, stream.SampleRate);
            var frame = _payloads.Copy(raw, out var owner);
            Emit(stream, new MediaPacket(stream.Index, start, start, true, frame, end - start, owner), sink);
            stream.NextTime = end;
        }
    }

    /// <summary>
    /// Where an audio PES's first frame starts: its PTS, or where the stream's last frame ended when it has none. A PES
    /// with neither (no PTS before any timed frame) is dropped and counted.
    /// </summary>
    private bool TryStartTime(StreamState stream, long pts, out long time)
    {
        time = pts != long.MinValue ? pts : stream.NextTime;
        if (time == long.MinValue)
        {
            DroppedPes++;
            return false;
        }

        return true;
    }

    private void ReadMpegAudio(StreamState stream, ReadOnlySpan<byte> payload, long pts, IPacketSink sink)
    {
        if (!TryStartTime(stream, pts, out long time))
        {
            return;
        }

        int at = 0;
        while (payload.Length - at >= 4)
        {
            if (!MpegAudioHeader.TryParse(payload[at..], out var header) || header.FrameLength > payload.Length - at)
            {
                DroppedFrames++;
                break;
            }

            if (!stream.Described)
            {
                if (header.Layer == 1)
                {
                    // MPEG audio layer I: not a codec Sluice carries (ffmpeg has no encoder for it).
                    stream.Dropped = true;
                    _ignored.Add((stream.Pid, stream.StreamType));
                    return;
                }

                stream.Codec = header.Layer == 2 ? CodecId.MP2 : CodecId.MP3;
                stream.SampleRate = header.SampleRate;
                stream.Channels = header.Channels;
                stream.Described = true;
            }

            long start = time;
            // ffmpeg steps MPEG audio frames by the duration rounded down (its parser states one), AAC on the grid.
            long end = time += header.SamplesPerFrame * MediaTime.TicksPerSecond / header.SampleRate;
            var frame = _payloads.Copy(payload.Slice(at, header.FrameLength), out var owner);
            Emit(stream, new MediaPacket(stream.Index, start, start, true, frame, end - start, owner), sink);
            at += header.FrameLength;
            stream.NextTime = end;
        }
    }

    private void ReadOpus(StreamState stream, ReadOnlySpan<byte> payload, long pts, IPacketSink sink)
    {
        if (!TryStartTime(stream, pts, out long time))
        {
            return;
        }

        int at = 0;
        while (at < payload.Length)
        {
            if (!OpusInTs.TryReadControlHeader(payload[at..], out int headerLength, out int length, out int startTrim))
            {
                DroppedFrames++;
                break;
            }

            var packet = payload.Slice(at + headerLength, length);
            at += headerLength + length;
            int packetSamples = OpusToc.ValidSamples(packet);
            if (packetSamples == 0)
            {
                DroppedFrames++;
                continue;
            }

            if (!stream.Described)
            {
                int channels = OpusInTs.ChannelsOf(stream.OpusChannelCode);
                if (channels == 0)
                {
                    stream.Dropped = true;
                    _ignored.Add((stream.Pid, stream.StreamType));
                    return;
                }

                stream.Private = OpusInTs.BuildOpusHead(stream.OpusChannelCode, startTrim);
                stream.PreSkip = startTrim;
                stream.SampleRate = 48000;
                stream.Channels = channels;
                stream.Described = true;
            }

            long start = time;
            long end = time = NextFrameTime(time, packetSamples, 48000);
            var copy = _payloads.Copy(packet, out var owner);
            Emit(stream, new MediaPacket(stream.Index, start, start, true, copy, end - start, owner), sink);
            stream.NextTime = end;
        }
    }

    /// <summary>
    /// The time of the frame after one of <paramref name="samples"/> samples at <paramref name="time"/>: the next
    /// multiple of the frame duration on the absolute grid, keeping the offset of <paramref name="time"/> from the
    /// grid, rounded to the nearest tick. This is how ffmpeg times the frames after the first of a PES, so the
    /// packets match what ffprobe reports.
    /// </summary>
    internal static long NextFrameTime(long time, int samples, int rate)
    {
        long num = samples * MediaTime.TicksPerSecond; // the frame duration is num / den ticks
        long den = rate;
        if (num % den == 0)
        {
            return time + num / den;
        }

        long frames = RoundDiv(time * den, num);
        long gridTime = RoundDiv(frames * num, den);
        return RoundDiv((frames + 1) * num, den) + (time - gridTime);
    }

    /// <summary>a / b rounded to the nearest, halves away from zero (b &gt; 0).</summary>
    private static long RoundDiv(long a, long b) => a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);

    /// <summary>Delivers a packet of <paramref name="stream"/> (its track index is set when the tracks are announced), or holds it until then.</summary>
    private void Emit(StreamState stream, MediaPacket packet, IPacketSink sink)
    {
        if (stream.Dropped)
        {
            packet.Release();
            return;
        }

        if (_announced)
        {
            sink.Accept(packet);
            return;
        }

        _held.Add(new HeldPacket(stream, packet));
        _heldBytes += packet.Payload.Length;
        if (_streams.TrueForAll(s => s.Described || s.Dropped))
        {
            Announce(sink, giveUp: false);
        }
        else if (_heldBytes > MaxHoldBytes || packet.Dts - _held[0].Packet.Dts > MaxHoldTicks)
        {
            Announce(sink, giveUp: true);
        }
    }

    private void Announce(IPacketSink sink, bool giveUp)
    {
        var tracks = new List<TrackInfo>();
        foreach (var stream in _streams)
        {
            if (stream.Dropped)
            {
                continue;
            }

            if (!stream.Described)
            {
                if (!giveUp)
                {
                    return;
                }

                stream.Dropped = true;
                DroppedTracks++;
                continue;
            }

            stream.Index = tracks.Count;
            tracks.Add(stream.Describe());
        }

        if (tracks.Count == 0)
        {
            ThrowFormat(_position, "no stream of the PMT got its codec parameters (SPS/PPS, a first audio frame) "
                + $"within {MaxHoldTicks / MediaTime.TicksPerSecond} s or {MaxHoldBytes} bytes, or before the input ended");
        }

        _announced = true;
        Tracks = tracks;
        sink.OnTracks(tracks);
        foreach (var held in _held)
        {
            if (held.Stream.Dropped)
            {
                held.Packet.Release();
            }
            else
            {
                sink.Accept(held.Packet.AsTrack(held.Stream.Index));
            }
        }

        _held.Clear();
        _heldBytes = 0;
    }

    /// <summary>A PMT stream Sluice reads, and what is learnt of its codec parameters.</summary>
    private sealed class StreamState(int pid, int streamType, CodecId codec)
    {
        public int Pid { get; } = pid;
        public int StreamType { get; } = streamType;
        /// <summary>The stream type's codec, made precise by the first frame where the type names two (MPEG video, MPEG audio).</summary>
        public CodecId Codec { get; set; } = codec;
        public int Index { get; set; } = -1;
        public bool Described { get; set; }
        public bool Dropped { get; set; }
        public byte[] Private { get; set; } = [];
        public List<byte[]> Vps { get; } = [];
        public List<byte[]> Sps { get; } = [];
        public List<byte[]> Pps { get; } = [];
        public int Width { get; set; }
        public int Height { get; set; }
        public int SampleRate { get; set; }
        public int Channels { get; set; }
        public int OpusChannelCode { get; init; } = -1;
        public int PreSkip { get; set; }
        public long NextTime { get; set; } = long.MinValue;

        public TrackInfo Describe() => new()
        {
            Index = Index,
            Kind = CodecIds.KindOf(Codec),
            Codec = Codec,
            ContainerCodecName = $"stream_type 0x{StreamType:X2}",
            CodecPrivate = Private,
            Width = Width,
            Height = Height,
            SampleRate = SampleRate,
            Channels = Channels,
            CodecDelayNs = Codec == CodecId.Opus ? PreSkip * 1_000_000_000L / 48000 : 0,
            SeekPreRollNs = Codec == CodecId.Opus ? 80_000_000 : 0,
        };
    }
}
