using System.Buffers;
using System.Buffers.Binary;
using Sluice.Media.Buffers;

namespace Sluice.Media.Formats.MpegTs;

/// <summary>
/// Incremental MPEG-TS reader (ISO 13818-1) for live ingest: the first program of the PAT, its PMT's H.264
/// (stream_type 0x1B), H.265 (0x24), ADTS AAC (0x0F), MP3 (0x03, 0x04) and Opus (0x06 with an "Opus"
/// registration descriptor) streams. Packets come out in the canonical forms: length-prefixed NAL units with
/// an avcC / hvcC built from the in-band parameter sets, raw AAC frames (one per packet, timed from the PES PTS
/// in 1024-sample steps), whole MP3 frames, raw Opus packets with an OpusHead.
/// </summary>
/// <remarks>
/// <para>Codec parameters arrive in band, so packets are held until every supported stream of the PMT is
/// described (SPS and PPS seen, the first audio frame read), then <see cref="IPacketSink.OnTracks"/> is called
/// once and the held packets follow. A stream still undescribed after <see cref="MaxHoldTicks"/> of stream time
/// or <see cref="MaxHoldBytes"/> of held payload is left out (counted in <see cref="DroppedTracks"/>).</para>
/// <para>Damage is skipped and counted: lost sync (resync on 0x47 repeated at 188-byte spacing), transport
/// errors, continuity-counter gaps and broken PES headers drop the PES concerned. PTS and DTS are unwrapped
/// from 33 bits into one continuous 64-bit timeline. Input that never syncs, has no PAT/PMT within
/// <see cref="MaxBytesWithoutProgram"/>, or has no supported stream throws <see cref="MediaFormatException"/>.
/// After a <see cref="MediaFormatException"/> the instance is unusable.</para>
/// </remarks>
public sealed partial class MpegTsDemuxer : IDemuxer
{
    private readonly ChunkSlab _payloads;

    /// <summary>Bytes scanned for the first sync (two 0x47 188 bytes apart) before the input is refused.</summary>
    public const int MaxBytesBeforeSync = 8 * MpegTs.PacketSize;

    /// <summary>Bytes skipped while looking for sync again after a loss before the input is refused.</summary>
    public const int MaxResyncBytes = 64 * 1024;

    /// <summary>Input read without finding a PAT and a PMT with a supported stream before it is refused.</summary>
    public const long MaxBytesWithoutProgram = 4L << 20;

    /// <summary>Stream time for which packets are held while a track still lacks its parameters (10 s).</summary>
    public const long MaxHoldTicks = 10 * MediaTime.TicksPerSecond;

    /// <summary>Held payload bytes after which undescribed tracks are given up.</summary>
    public const long MaxHoldBytes = 16L << 20;

    /// <summary>Largest PES accepted; a longer one is dropped and counted.</summary>
    public const int MaxPesSize = 8 << 20;

    private readonly Dictionary<int, PidState> _pids = [];
    private readonly List<StreamState> _streams = [];
    private readonly List<HeldPacket> _held = [];
    private readonly byte[] _packet = new byte[MpegTs.PacketSize];

    private long _position;
    private bool _everSynced;
    private bool _synced;
    private long _unsyncedBytes;
    private int _pmtPid = -1;
    private bool _pmtRead;
    private bool _announced;
    private long _heldBytes;
    private long _timeReference = long.MinValue;

    public string FormatName => "MPEG-TS";

    public long Position => _position;

    /// <summary>The tracks once announced; else null.</summary>
    public IReadOnlyList<TrackInfo>? Tracks { get; private set; }

    /// <summary>Times the 0x47 sync was lost after having been found.</summary>
    public long SyncLosses { get; private set; }

    /// <summary>Bytes skipped while looking for sync (at the start or after a loss).</summary>
    public long SkippedBytes { get; private set; }

    /// <summary>TS packets with the transport_error_indicator set (dropped).</summary>
    public long TransportErrors { get; private set; }

    /// <summary>Continuity-counter gaps on PIDs that are read (the PES in progress is dropped).</summary>
    public long ContinuityErrors { get; private set; }

    /// <summary>Repeated TS packets (same continuity counter) that were ignored.</summary>
    public long DuplicatePackets { get; private set; }

    /// <summary>PES packets dropped: lost pieces, a broken header, a payload that does not parse, oversize.</summary>
    public long DroppedPes { get; private set; }

    /// <summary>Audio frames dropped inside PES that otherwise parsed (a broken ADTS / MPEG audio / Opus framing).</summary>
    public long DroppedFrames { get; private set; }

    /// <summary>PAT / PMT sections with a bad CRC or layout (ignored).</summary>
    public long BadSections { get; private set; }

    /// <summary>TS packets with an impossible header (adaptation field too long, reserved control value).</summary>
    public long BadPackets { get; private set; }

    /// <summary>PMT streams of a codec Sluice does not read, by PID and stream_type (ignored).</summary>
    public IReadOnlyList<(int Pid, int StreamType)> IgnoredStreams => _ignored;

    /// <summary>Supported streams left out because their parameters did not arrive in time.</summary>
    public long DroppedTracks { get; private set; }

    private readonly List<(int Pid, int StreamType)> _ignored = [];

    public SequencePosition Read(ReadOnlySequence<byte> input, IPacketSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var reader = new SequenceReader<byte>(input);
        while (Step(ref reader, sink, final: false))
        {
        }

        return reader.Position;
    }

    /// <summary>
    /// Ends the input. The PES still open on each stream (video PES usually have no length, so the last one ends
    /// only here) and, when the tracks were not announced yet, the tracks that are described and the held
    /// packets go to the sink of the last <see cref="Read"/>. Throws <see cref="MediaFormatException"/> when the
    /// input ends inside a TS packet, before a PAT or PMT, or before any stream was described.
    /// </summary>
    public void Complete(ReadOnlySequence<byte> remaining)
    {
        var reader = new SequenceReader<byte>(remaining);
        var sink = _completeSink;
        if (sink is not null)
        {
            while (Step(ref reader, sink, final: true))
            {
            }
        }

        if (reader.Remaining > 0)
        {
            ThrowFormat(_position, $"input ended inside a TS packet ({reader.Remaining} of {MpegTs.PacketSize} bytes present)");
        }

        if (!_pmtRead)
        {
            ThrowFormat(_position, _pmtPid < 0 ? "input ended before a PAT" : "input ended before the PMT");
        }

        if (sink is null)
        {
            return;
        }

        // Streams that end the input: a PES of unknown length is complete now.
        foreach (var stream in _streams)
        {
            FinishPes(stream.Pid, sink);
        }

        if (!_announced)
        {
            Announce(sink, giveUp: true);
        }
    }

    /// <summary>The sink of the last <see cref="Read"/>, to deliver what <see cref="Complete"/> finishes.</summary>
    private IPacketSink? _completeSink;

    /// <summary>One TS packet, or one skipped byte while out of sync. False when more bytes are needed.</summary>
    private bool Step(ref SequenceReader<byte> reader, IPacketSink sink, bool final)
    {
        _completeSink = sink;
        if (!reader.TryPeek(out byte first))
        {
            return false;
        }

        if (_synced)
        {
            if (first != MpegTs.SyncByte)
            {
                _synced = false;
                SyncLosses++;
                return true;
            }
        }
        else if (!FindSync(ref reader, final))
        {
            return false;
        }

        if (reader.Remaining < MpegTs.PacketSize)
        {
            return false;
        }

        reader.TryCopyTo(_packet);
        reader.Advance(MpegTs.PacketSize);
        long offset = _position;
        _position += MpegTs.PacketSize;
        ReadPacket(_packet, offset, sink);
        if (!_pmtRead && _position > MaxBytesWithoutProgram)
        {
            ThrowFormat(offset, _pmtPid < 0
                ? $"no PAT in the first {MaxBytesWithoutProgram} bytes"
                : $"no PMT (PID {_pmtPid}) in the first {MaxBytesWithoutProgram} bytes");
        }

        return true;
    }

    /// <summary>
    /// Skips to a 0x47 followed by another 188 bytes later. False when more bytes are needed to tell (at the end
    /// of the input a lone packet that starts with 0x47 is taken).
    /// </summary>
    private bool FindSync(ref SequenceReader<byte> reader, bool final)
    {
        while (true)
        {
            if (!reader.TryPeek(out byte b))
            {
                return false;
            }

            if (b == MpegTs.SyncByte)
            {
                if (reader.Remaining > MpegTs.PacketSize)
                {
                    if (reader.TryPeek(MpegTs.PacketSize, out byte next) && next == MpegTs.SyncByte)
                    {
                        _synced = true;
                        _everSynced = true;
                        _unsyncedBytes = 0;
                        return true;
                    }
                }
                else
                {
                    if (final && reader.Remaining == MpegTs.PacketSize)
                    {
                        _synced = true;
                        return true;
                    }

                    return false;
                }
            }

            reader.Advance(1);
            _position++;
            SkippedBytes++;
            _unsyncedBytes++;
            if (!_everSynced && _unsyncedBytes > MaxBytesBeforeSync)
            {
                ThrowFormat(_position - _unsyncedBytes, $"not an MPEG-TS stream: no sync byte 0x47 repeating every {MpegTs.PacketSize} bytes in the first {MaxBytesBeforeSync} bytes");
            }

            if (_unsyncedBytes > MaxResyncBytes)
            {
                ThrowFormat(_position - _unsyncedBytes, $"lost the TS packet sync for {_unsyncedBytes} bytes");
            }
        }
    }

    private void ReadPacket(ReadOnlySpan<byte> packet, long offset, IPacketSink sink)
    {
        bool transportError = (packet[1] & 0x80) != 0;
        bool unitStart = (packet[1] & 0x40) != 0;
        int pid = ((packet[1] & 0x1F) << 8) | packet[2];
        int control = (packet[3] >> 4) & 3;
        int cc = packet[3] & 0x0F;

        if (!_pids.TryGetValue(pid, out var state))
        {
            if (pid == MpegTs.NullPid)
            {
                return;
            }

            if (transportError)
            {
                TransportErrors++;
            }

            return; // a PID nobody reads
        }

        if (transportError)
        {
            TransportErrors++;
            Lose(state);
            return;
        }

        if (control == 0)
        {
            BadPackets++;
            Lose(state);
            return;
        }

        int at = 4;
        bool discontinuity = false;
        bool randomAccess = false;
        if ((control & 2) != 0)
        {
            int length = packet[4];
            if (length > (control == 3 ? 182 : 183))
            {
                BadPackets++;
                Lose(state);
                return;
            }

            if (length > 0)
            {
                discontinuity = (packet[5] & 0x80) != 0;
                randomAccess = (packet[5] & 0x40) != 0;
            }

            at = 5 + length;
        }

        if ((control & 1) == 0)
        {
            return; // adaptation field only: no payload, the counter does not advance
        }

        if (state.LastCc >= 0 && !discontinuity)
        {
            if (cc == state.LastCc)
            {
                DuplicatePackets++;
                return;
            }

            if (cc != ((state.LastCc + 1) & 0x0F))
            {
                ContinuityErrors++;
                state.LastCc = cc;
                Lose(state);
                if (!unitStart)
                {
                    return;
                }
            }
        }

        state.LastCc = cc;
        var payload = packet[at..];
        if (state.Stream is null)
        {
            ReadSectionPayload(state, payload, unitStart, offset, sink);
        }
        else
        {
            ReadPesPayload(state, payload, unitStart, randomAccess, offset, sink);
        }
    }

    /// <summary>A piece of the PID's data was lost: what it was assembling is dropped.</summary>
    private void Lose(PidState state)
    {
        if (state.Stream is null)
        {
            state.Length = 0;
            state.Active = false;
        }
        else if (state.Active)
        {
            state.Active = false;
            state.Length = 0;
            DroppedPes++;
        }
    }

    private static void ThrowFormat(long offset, string message) => throw new MediaFormatException("MPEG-TS", offset, message);

    /// <summary>Per PID: the continuity counter and the section or PES being assembled.</summary>
    private sealed class PidState
    {
        public PidState(StreamState? stream) => Stream = stream;

        public StreamState? Stream { get; }

        public int LastCc { get; set; } = -1;

        public bool Active { get; set; }

        public bool RandomAccess { get; set; }

        public long StartOffset { get; set; }

        public byte[] Buffer { get; set; } = new byte[MpegTs.PacketSize * 4];

        public int Length { get; set; }

        public void Append(ReadOnlySpan<byte> data)
        {
            if (Buffer.Length - Length < data.Length)
            {
                var bigger = new byte[Math.Max(Buffer.Length * 2, Length + data.Length)];
                Buffer.AsSpan(0, Length).CopyTo(bigger);
                Buffer = bigger;
            }

            data.CopyTo(Buffer.AsSpan(Length));
            Length += data.Length;
        }
    }

    private readonly record struct HeldPacket(StreamState Stream, MediaPacket Packet);

    /// <summary>Lets go of the payload slab and of the packets still held for a stream that was never described.</summary>
    public void Dispose()
    {
        foreach (var held in _held)
        {
            held.Packet.Release();
        }

        _held.Clear();
        _heldBytes = 0;
        _payloads.Dispose();
    }
}
