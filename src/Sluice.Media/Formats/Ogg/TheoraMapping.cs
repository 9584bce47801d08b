using System.Buffers.Binary;

namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// Ogg Theora (Theora I specification, section 6 and appendix A): the three header packets from the track's
/// CodecPrivate, and granule positions that split into the frame number of the last keyframe, shifted left by the
/// identification header's KFGSHIFT, and the frames since it. Frame numbers come from packet times at the
/// header's frame rate and count from 1 (bitstream 3.2.1 and later; 3.2.0 counts from 0). A frame is a keyframe when
/// its packet's frame-type bit says intra.
/// </summary>
internal sealed class TheoraMapping : OggCodecMapping
{
    private const int IdentificationLength = 42;

    private readonly int _firstFrameNumber;
    private long _lastFrame = -1;
    private long _keyframe = -1;

    public TheoraMapping(TrackInfo track)
        : base(XiphHeaders.Split(track.CodecPrivate, "Theora"))
    {
        var id = HeaderPackets[0].Span;
        if (id.Length < IdentificationLength || id[0] != 0x80 || !id[1..7].SequenceEqual("theora"u8))
        {
            throw new ArgumentException($"track {track.Index}: the Theora identification header is not there (expected 0x80 \"theora\" and {IdentificationLength} bytes)");
        }

        for (int i = 1; i < XiphHeaders.Count; i++)
        {
            var header = HeaderPackets[i].Span;
            if (header.Length < 7 || header[0] != 0x80 + i || !header[1..7].SequenceEqual("theora"u8))
            {
                throw new ArgumentException($"track {track.Index}: Theora header packet {i + 1} is not there (expected 0x{0x80 + i:X2} \"theora\")");
            }
        }

        if (id[7] != 3 || id[8] != 2)
        {
            throw new ArgumentException($"track {track.Index}: Theora bitstream version {id[7]}.{id[8]}.{id[9]} is not 3.2");
        }

        FrameRateNumerator = BinaryPrimitives.ReadUInt32BigEndian(id[22..]);
        FrameRateDenominator = BinaryPrimitives.ReadUInt32BigEndian(id[26..]);
        KeyframeShift = ((id[40] & 0x03) << 3) | (id[41] >> 5);
        if (FrameRateNumerator == 0 || FrameRateDenominator == 0)
        {
            throw new ArgumentException($"track {track.Index}: Theora frame rate {FrameRateNumerator}/{FrameRateDenominator} is invalid");
        }

        _firstFrameNumber = id[9] >= 1 ? 1 : 0;
    }

    public uint FrameRateNumerator { get; }
    public uint FrameRateDenominator { get; }

    /// <summary>KFGSHIFT: the bits of a granule position that count frames since the last keyframe.</summary>
    public int KeyframeShift { get; }

    public override bool IsVideo => true;

    public override long GranuleAfter(MediaPacket packet, out bool isKeyframe)
    {
        var payload = packet.Payload.Span;

        // A data packet starts with bit 0; the next bit is the frame type, 0 for intra. An empty packet repeats the
        // previous frame.
        isKeyframe = !payload.IsEmpty && (payload[0] & 0xC0) == 0;

        long frame = ToUnits(Math.Max(0, packet.Pts), FrameRateNumerator, FrameRateDenominator);
        if (frame <= _lastFrame)
        {
            frame = _lastFrame + 1;
        }

        _lastFrame = frame;
        if (isKeyframe || _keyframe < 0)
        {
            _keyframe = frame;
        }

        // the encoder keeps keyframes closer than 2^KFGSHIFT frames; a gap in packet times may not
        long sinceKeyframe = Math.Min(frame - _keyframe, (1L << KeyframeShift) - 1);
        return ((_keyframe + _firstFrameNumber) << KeyframeShift) | sinceKeyframe;
    }

    public override string ToString() => $"Theora {FrameRateNumerator}/{FrameRateDenominator} fps, KFGSHIFT {KeyframeShift}";
}
