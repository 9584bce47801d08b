using System.Buffers.Binary;
using Sluice.Media.Buffers;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// Live fragmented MP4 (ISO 14496-12 with movie fragments, the form Media Source Extensions take) writer. One
/// instance serves every viewer of a stream: <see cref="Header"/> (ftyp + moov with empty sample tables and an
/// mvex) once per viewer, then the chunks from a join point on.
/// </summary>
/// <remarks>
/// Every packet is its own fragment: a moof with one traf holding one sample (tfdt = the packet's decode time,
/// a version 1 trun with the sample's duration, size, sync flags and signed composition offset) and an mdat
/// holding the payload. The moof and the mdat header are the chunk's prefix (carved out of shared slabs, so a
/// packet costs no allocation of its own) and the payload is the packet's own memory. A fragment can only be
/// written once its samples are known, so this is the only layout that never waits for a later packet; it costs
/// <see cref="FragmentOverhead"/> bytes a packet. A sample's duration is not known until the next packet, so it is
/// estimated: the packet's own duration when it has one, else the codec's frame length (AAC, MP3, Opus), the
/// track's default duration, or the track's last decode time step. Players place each sample by its tfdt, so a
/// wrong estimate only changes where a sample's range ends.
/// <para>Join points: each video keyframe; in a stream without video every packet.</para>
/// <para>Times: video tracks count in 90 kHz (the packets' own ticks), audio tracks in their sample rate. When the
/// first packet's DTS is negative, every time is moved later by that much so decode times stay unsigned.
/// Packets must come in decode order with non-decreasing DTS per track (a source that only knows PTS, such as
/// Matroska with B-frames, must derive DTS first). Not thread-safe: one writer calls <see cref="Write"/>.</para>
/// </remarks>
public sealed class FragmentedMp4Muxer : IMuxer
{
    /// <summary>Bytes of framing (moof and mdat header) written before each packet's payload.</summary>
    public const int FragmentOverhead = MoofLength + 8;

    private const int MfhdLength = 16;
    private const int TfhdLength = 16;
    private const int TfdtLength = 20;
    private const int TrunLength = 12 + 4 + 4 + 16;
    private const int TrafLength = 8 + TfhdLength + TfdtLength + TrunLength;
    private const int MoofLength = 8 + MfhdLength + TrafLength;

    private const uint SyncSampleFlags = Mp4.SampleDependsOnNone;
    private const uint NonSyncSampleFlags = Mp4.SampleDependsOnOthers | Mp4.SampleIsNonSync;

    private const uint TrunFlags = Mp4.TrunDataOffset | Mp4.TrunDuration | Mp4.TrunSize | Mp4.TrunFlags | Mp4.TrunCompositionOffset;

    private readonly TrackInfo[] _tracks;
    private readonly TrackState[] _states;
    private readonly bool _hasVideo;
    private readonly byte[] _header;
    private readonly ChunkSlab _slab;

    private uint _sequence;
    private bool _started;
    private long _timeOffset;

    public FragmentedMp4Muxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        if (tracks.Count == 0)
        {
            throw new ArgumentException("an MP4 stream needs at least one track", nameof(tracks));
        }

        _tracks = [.. tracks];
        _states = new TrackState[_tracks.Length];
        for (int i = 0; i < _tracks.Length; i++)
        {
            var track = _tracks[i];
            if (track.Index != i)
            {
                throw new ArgumentException($"track {i} has Index {track.Index}; the list must be in Index order", nameof(tracks));
            }

            if (Mp4SampleEntry.Refusal(track) is { } refusal)
            {
                throw new ArgumentException($"track {i}: {refusal}", nameof(tracks));
            }

            int timescale = TimescaleOf(track);
            _states[i] = new TrackState(timescale, AudioFrames.AacFrameDuration(track, timescale));
            _hasVideo |= track.Kind == MediaKind.Video;
        }

        ContentType = _hasVideo ? "video/mp4" : "audio/mp4";
        Codecs = string.Join(',', _tracks.Select(Mp4SampleEntry.CodecsParameter));
        _header = BuildHeader();
    }

    /// <summary>"video/mp4", or "audio/mp4" when no track is video.</summary>
    public string ContentType { get; }

    /// <summary>The RFC 6381 codecs parameter of the tracks, e.g. "avc1.64001e,mp4a.40.2", for MSE's addSourceBuffer.</summary>
    public string Codecs { get; }

    public ReadOnlyMemory<byte> Header => _header;

    /// <summary>The RFC 6381 codecs parameter of one track (HLS CODECS, DASH codecs), whatever its container.</summary>
    public static string CodecsParameter(TrackInfo track) => Mp4SampleEntry.CodecsParameter(track);

    /// <summary>Why a track cannot be written to MP4 (its codec, or codec private data missing), or null when it can.</summary>
    public static string? Refusal(TrackInfo track) => Mp4SampleEntry.Refusal(track);

    /// <summary>The timescale (units per second) of a track's media times: 90000 for video, the sample rate for audio.</summary>
    public int TimescaleOf(int track) => _states[track].Timescale;

    /// <summary>
    /// The media time (a <c>tfdt</c>) a packet of <paramref name="track"/> at <paramref name="ticks"/> gets, in the
    /// track's timescale: what a DASH SegmentTimeline lists for the fragment that starts with it.
    /// </summary>
    public long TrackTime(int track, long ticks) => _states[track].ToScale(Math.Max(0, ticks + _timeOffset));

    /// <summary>What is added to every time before it is written (set by the first packet when it is negative).</summary>
    public long TimeOffset => _timeOffset;

    /// <summary>
    /// Puts the time line where another muxer's is (<see cref="TimeOffset"/>), before the first write: the one-track
    /// writers of a DASH stream then give the same media times as the stream's own CMAF writer. No effect once started.
    /// </summary>
    public void StartTimeAt(long offset)
    {
        if (!_started)
        {
            _started = true;
            _timeOffset = offset;
        }
    }

    public MuxedChunk Write(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_tracks.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has {_tracks.Length} tracks");
        }

        if (!_started)
        {
            _started = true;
            _timeOffset = packet.Dts < 0 ? -packet.Dts : 0;
        }

        var track = _tracks[packet.Track];
        ref var state = ref _states[packet.Track];
        bool video = track.Kind == MediaKind.Video;
        bool sync = packet.IsKeyframe || !video;

        long dtsTicks = Math.Max(0, packet.Dts + _timeOffset);
        long ptsTicks = packet.Pts + _timeOffset;
        long decodeTime = state.ToScale(dtsTicks);
        long compositionOffset = Math.Clamp(state.ToScale(ptsTicks) - decodeTime, int.MinValue, int.MaxValue);
        if (state.LastDts >= 0 && dtsTicks > state.LastDts)
        {
            state.LastStep = dtsTicks - state.LastDts;
        }

        state.LastDts = dtsTicks;
        long duration = EstimateDuration(track, ref state, packet, dtsTicks, decodeTime);
        int size = packet.Payload.Length;

        var prefix = _slab.Reserve(FragmentOverhead);
        int n = 0;
        n += BoxHeader(prefix, MoofLength, "moof"u8);

        n += FullBoxHeader(prefix[n..], MfhdLength, "mfhd"u8, 0, 0);
        BinaryPrimitives.WriteUInt32BigEndian(prefix[n..], ++_sequence);
        n += 4;

        n += BoxHeader(prefix[n..], TrafLength, "traf"u8);
        n += FullBoxHeader(prefix[n..], TfhdLength, "tfhd"u8, 0, Mp4.TfhdDefaultBaseIsMoof);
        BinaryPrimitives.WriteUInt32BigEndian(prefix[n..], (uint)packet.Track + 1);
        n += 4;

        n += FullBoxHeader(prefix[n..], TfdtLength, "tfdt"u8, 1, 0);
        BinaryPrimitives.WriteUInt64BigEndian(prefix[n..], (ulong)decodeTime);
        n += 8;

        n += FullBoxHeader(prefix[n..], TrunLength, "trun"u8, 1, TrunFlags);
        BinaryPrimitives.WriteUInt32BigEndian(prefix[n..], 1); // sample_count
        BinaryPrimitives.WriteInt32BigEndian(prefix[(n + 4)..], MoofLength + 8); // data_offset: the mdat payload
        BinaryPrimitives.WriteUInt32BigEndian(prefix[(n + 8)..], (uint)Math.Clamp(duration, 0, uint.MaxValue));
        BinaryPrimitives.WriteUInt32BigEndian(prefix[(n + 12)..], (uint)size);
        BinaryPrimitives.WriteUInt32BigEndian(prefix[(n + 16)..], sync ? SyncSampleFlags : NonSyncSampleFlags);
        BinaryPrimitives.WriteInt32BigEndian(prefix[(n + 20)..], (int)compositionOffset);
        n += 24;

        n += BoxHeader(prefix[n..], 8 + size, "mdat"u8);

        bool joinPoint = _hasVideo ? video && packet.IsKeyframe : true;
        return _slab.CommitChunk(n, packet, joinPoint);
    }

    /// <summary>
    /// Writes several packets as one fragment (a CMAF chunk: one moof with a traf per track that has samples, then
    /// one mdat with their payloads, copied once): the form of HLS parts and segments and DASH segments. A sample's
    /// duration is the step to the next sample of its track in the fragment; the last one's is estimated as for
    /// <see cref="Write"/>, or, for video, the step to <paramref name="end"/> when it is given (the next fragment's
    /// first time: the fragments of a track are then contiguous). Shares the sequence numbers and time line of
    /// <see cref="Write"/>.
    /// </summary>
    public byte[] WriteFragment(IReadOnlyList<MediaPacket> packets, long end = long.MinValue)
    {
        ArgumentNullException.ThrowIfNull(packets);
        if (packets.Count == 0)
        {
            throw new ArgumentException("a fragment needs at least one packet", nameof(packets));
        }

        if (!_started)
        {
            _started = true;
            _timeOffset = packets[0].Dts < 0 ? -packets[0].Dts : 0;
        }

        var counts = new int[_tracks.Length];
        long payloadBytes = 0;
        foreach (var packet in packets)
        {
            if ((uint)packet.Track >= (uint)_tracks.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(packets), $"packet for track {packet.Track}, but the stream has {_tracks.Length} tracks");
            }

            counts[packet.Track]++;
            payloadBytes += packet.Payload.Length;
        }

        int moofLength = 8 + MfhdLength;
        foreach (int count in counts)
        {
            moofLength += count == 0 ? 0 : 8 + TfhdLength + TfdtLength + 12 + 4 + 4 + (16 * count);
        }

        var fragment = new byte[checked(moofLength + 8 + (int)payloadBytes)];
        var span = fragment.AsSpan();
        int n = BoxHeader(span, moofLength, "moof"u8);
        n += FullBoxHeader(span[n..], MfhdLength, "mfhd"u8, 0, 0);
        BinaryPrimitives.WriteUInt32BigEndian(span[n..], ++_sequence);
        n += 4;

        int dataOffset = moofLength + 8; // from the moof's start to the first payload byte
        int payloadAt = dataOffset;
        for (int t = 0; t < _tracks.Length; t++)
        {
            if (counts[t] == 0)
            {
                continue;
            }

            var track = _tracks[t];
            ref var state = ref _states[t];
            bool video = track.Kind == MediaKind.Video;
            int trunLength = 12 + 4 + 4 + (16 * counts[t]);
            n += BoxHeader(span[n..], 8 + TfhdLength + TfdtLength + trunLength, "traf"u8);
            n += FullBoxHeader(span[n..], TfhdLength, "tfhd"u8, 0, Mp4.TfhdDefaultBaseIsMoof);
            BinaryPrimitives.WriteUInt32BigEndian(span[n..], (uint)t + 1);
            n += 4;
            n += FullBoxHeader(span[n..], TfdtLength, "tfdt"u8, 1, 0);
            int tfdtAt = n;
            n += 8;
            n += FullBoxHeader(span[n..], trunLength, "trun"u8, 1, TrunFlags);
            BinaryPrimitives.WriteUInt32BigEndian(span[n..], (uint)counts[t]);
            BinaryPrimitives.WriteInt32BigEndian(span[(n + 4)..], payloadAt);
            n += 8;

            bool first = true;
            for (int i = 0; i < packets.Count; i++)
            {
                var packet = packets[i];
                if (packet.Track != t)
                {
                    continue;
                }

                long dtsTicks = Math.Max(0, packet.Dts + _timeOffset);
                long decodeTime = state.ToScale(dtsTicks);
                if (first)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(span[tfdtAt..], (ulong)decodeTime);
                    first = false;
                }

                if (state.LastDts >= 0 && dtsTicks > state.LastDts)
                {
                    state.LastStep = dtsTicks - state.LastDts;
                }

                state.LastDts = dtsTicks;
                long duration = NextOfTrack(packets, i) is { } next
                    ? state.ToScale(Math.Max(0, next.Dts + _timeOffset)) - decodeTime
                    : video && end != long.MinValue && end > packet.Dts
                        ? state.ToScale(Math.Max(0, end + _timeOffset)) - decodeTime
                        : EstimateDuration(track, ref state, packet, dtsTicks, decodeTime);
                long compositionOffset = Math.Clamp(state.ToScale(packet.Pts + _timeOffset) - decodeTime, int.MinValue, int.MaxValue);
                bool sync = packet.IsKeyframe || !video;
                BinaryPrimitives.WriteUInt32BigEndian(span[n..], (uint)Math.Clamp(duration, 0, uint.MaxValue));
                BinaryPrimitives.WriteUInt32BigEndian(span[(n + 4)..], (uint)packet.Payload.Length);
                BinaryPrimitives.WriteUInt32BigEndian(span[(n + 8)..], sync ? SyncSampleFlags : NonSyncSampleFlags);
                BinaryPrimitives.WriteInt32BigEndian(span[(n + 12)..], (int)compositionOffset);
                n += 16;
                payloadAt += packet.Payload.Length;
            }
        }

        n += BoxHeader(span[n..], 8 + (int)payloadBytes, "mdat"u8);
        for (int t = 0; t < _tracks.Length; t++)
        {
            foreach (var packet in packets)
            {
                if (packet.Track == t)
                {
                    packet.Payload.Span.CopyTo(span[n..]);
                    n += packet.Payload.Length;
                }
            }
        }

        return fragment;
    }

    private static MediaPacket? NextOfTrack(IReadOnlyList<MediaPacket> packets, int index)
    {
        for (int i = index + 1; i < packets.Count; i++)
        {
            if (packets[i].Track == packets[index].Track)
            {
                return packets[i];
            }
        }

        return null;
    }

    private static long EstimateDuration(TrackInfo track, ref TrackState state, MediaPacket packet, long dtsTicks, long decodeTime)
    {
        if (packet.Duration > 0)
        {
            return state.ToScale(dtsTicks + packet.Duration) - decodeTime;
        }

        if (track.Kind == MediaKind.Audio)
        {
            long frame = AudioFrames.Duration(track.Codec, packet.Payload.Span, state.Timescale, state.AacFrameDuration);
            if (frame > 0)
            {
                return frame;
            }
        }

        long step = track.DefaultDuration > 0 ? track.DefaultDuration
            : state.LastStep > 0 ? state.LastStep
            : MediaTime.TicksPerSecond / (track.Kind == MediaKind.Video ? 30 : 50);
        return state.ToScale(dtsTicks + step) - decodeTime;
    }

    private static int TimescaleOf(TrackInfo track) => track.Codec switch
    {
        CodecId.Opus => 48000,
        _ when track.Kind == MediaKind.Audio && track.SampleRate > 0 => track.SampleRate,
        _ => (int)MediaTime.TicksPerSecond,
    };

    private static int BoxHeader(Span<byte> destination, int size, ReadOnlySpan<byte> type)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)size);
        type.CopyTo(destination[4..]);
        return 8;
    }

    private static int FullBoxHeader(Span<byte> destination, int size, ReadOnlySpan<byte> type, byte version, uint flags)
    {
        BoxHeader(destination, size, type);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], ((uint)version << 24) | flags);
        return 12;
    }

    private byte[] BuildHeader()
    {
        var w = new BoxWriter();
        int ftyp = w.Begin("ftyp");
        w.FourCc("iso5").U32(512).FourCc("iso5").FourCc("iso6").FourCc("mp41");
        w.End(ftyp);

        int moov = w.Begin("moov");
        int mvhd = w.BeginFull("mvhd", 0, 0);
        w.U32(0).U32(0).U32(1000).U32(0); // creation, modification, timescale, duration
        w.U32(0x00010000).U16(0x0100).Zeros(2 + 8); // rate 1.0, volume 1.0, reserved
        w.UnityMatrix().Zeros(24); // matrix, pre_defined
        w.U32((uint)_tracks.Length + 1); // next_track_ID
        w.End(mvhd);

        foreach (var track in _tracks)
        {
            WriteTrak(w, track, _states[track.Index].Timescale);
        }

        int mvex = w.Begin("mvex");
        foreach (var track in _tracks)
        {
            int trex = w.BeginFull("trex", 0, 0);
            w.U32((uint)track.Index + 1).U32(1).U32(0).U32(0).U32(0); // track_ID, sample description 1, no defaults
            w.End(trex);
        }

        w.End(mvex);
        w.End(moov);
        return w.ToArray();
    }

    private static void WriteTrak(BoxWriter w, TrackInfo track, int timescale)
    {
        bool video = track.Kind == MediaKind.Video;
        int trak = w.Begin("trak");

        int tkhd = w.BeginFull("tkhd", 0, 0x000003); // enabled, in movie
        w.U32(0).U32(0).U32((uint)track.Index + 1).U32(0).U32(0); // creation, modification, track_ID, reserved, duration
        w.Zeros(8).U16(0).U16(0).U16(video ? 0 : 0x0100).U16(0); // reserved, layer, alternate_group, volume, reserved
        w.UnityMatrix();
        w.U32(video ? (uint)Math.Clamp(track.Width, 0, ushort.MaxValue) << 16 : 0);
        w.U32(video ? (uint)Math.Clamp(track.Height, 0, ushort.MaxValue) << 16 : 0);
        w.End(tkhd);

        int mdia = w.Begin("mdia");
        int mdhd = w.BeginFull("mdhd", 0, 0);
        w.U32(0).U32(0).U32((uint)timescale).U32(0); // creation, modification, timescale, duration
        w.U16(Language(track.Language)).U16(0);
        w.End(mdhd);

        int hdlr = w.BeginFull("hdlr", 0, 0);
        w.U32(0).FourCc(video ? "vide" : "soun").Zeros(12);
        w.Bytes(video ? "VideoHandler\0"u8 : "SoundHandler\0"u8);
        w.End(hdlr);

        int minf = w.Begin("minf");
        if (video)
        {
            int vmhd = w.BeginFull("vmhd", 0, 1);
            w.U16(0).Zeros(6); // graphicsmode copy, opcolor
            w.End(vmhd);
        }
        else
        {
            int smhd = w.BeginFull("smhd", 0, 0);
            w.U16(0).U16(0); // balance, reserved
            w.End(smhd);
        }

        int dinf = w.Begin("dinf");
        int dref = w.BeginFull("dref", 0, 0);
        w.U32(1);
        w.End(w.BeginFull("url ", 0, 1)); // media data in this file
        w.End(dref);
        w.End(dinf);

        int stbl = w.Begin("stbl");
        int stsd = w.BeginFull("stsd", 0, 0);
        w.U32(1);
        Mp4SampleEntry.Write(w, track);
        w.End(stsd);
        int stts = w.BeginFull("stts", 0, 0);
        w.U32(0);
        w.End(stts);
        int stsc = w.BeginFull("stsc", 0, 0);
        w.U32(0);
        w.End(stsc);
        int stsz = w.BeginFull("stsz", 0, 0);
        w.U32(0).U32(0);
        w.End(stsz);
        int stco = w.BeginFull("stco", 0, 0);
        w.U32(0);
        w.End(stco);
        w.End(stbl);

        w.End(minf);
        w.End(mdia);
        w.End(trak);
    }

    /// <summary>ISO 639-2/T code packed as three 5-bit letters; "und" when the track has none.</summary>
    private static int Language(string? language)
    {
        string code = language is { Length: 3 } && language.All(c => c is >= 'a' and <= 'z') ? language : "und";
        return ((code[0] - 0x60) << 10) | ((code[1] - 0x60) << 5) | (code[2] - 0x60);
    }

    private struct TrackState(int timescale, long aacFrameDuration)
    {
        public readonly int Timescale = timescale;
        public readonly long AacFrameDuration = aacFrameDuration;
        public long LastDts = -1;
        public long LastStep;

        /// <summary>90 kHz ticks to this track's timescale, rounded to nearest.</summary>
        public readonly long ToScale(long ticks) =>
            Timescale == MediaTime.TicksPerSecond ? ticks : (long)Math.Round(ticks * (double)Timescale / MediaTime.TicksPerSecond, MidpointRounding.AwayFromZero);
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}
