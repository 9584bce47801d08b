using System.Buffers.Binary;

namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// Ogg Vorbis (Vorbis I specification, section 4 and appendix A): the three header packets from the track's
/// CodecPrivate, and granule positions counting samples. A packet's sample count comes from its block size: the
/// identification header gives blocksize_0 and blocksize_1, the modes at the end of the setup header say which of
/// the two each mode uses, and the packet's mode number picks one. A packet returns (previous block size + its block
/// size) / 4 samples; the first packet counts as following a short block, the convention ffmpeg uses for packet
/// durations, so a stream read back by ffmpeg gets the packet times it was written with.
/// </summary>
internal sealed class VorbisMapping : AudioMapping
{
    private const int IdentificationLength = 30;

    private readonly bool[] _modeIsLong;
    private readonly int _modeBits;
    private int _previousBlockSize;

    public VorbisMapping(TrackInfo track)
        : this(XiphHeaders.Split(track.CodecPrivate, "Vorbis"), track.Index)
    {
    }

    private VorbisMapping(ReadOnlyMemory<byte>[] headers, int index)
        : base(headers, ReadIdentification(headers[0].Span, index, out int shortBlock, out int longBlock, out int channels))
    {
        BlockSize0 = shortBlock;
        BlockSize1 = longBlock;
        Channels = channels;
        CheckHeader(headers[1].Span, 3, index, "comment");
        CheckHeader(headers[2].Span, 5, index, "setup");
        _modeIsLong = ReadModes(headers[2].Span, index);
        _modeBits = ILog(_modeIsLong.Length - 1);
        _previousBlockSize = BlockSize0;
    }

    public int BlockSize0 { get; }
    public int BlockSize1 { get; }
    public int Channels { get; }

    /// <summary>Per mode of the setup header, whether it uses the long block (blockflag 1).</summary>
    public IReadOnlyList<bool> ModeIsLong => _modeIsLong;

    /// <summary>The block size of an audio packet (its mode's), or 0 when it is not one.</summary>
    public int BlockSizeOf(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty || (packet[0] & 1) != 0)
        {
            return 0; // empty, or a header packet
        }

        int mode = (int)ReadBits(packet, 1, _modeBits);
        if (mode >= _modeIsLong.Length || (1 + _modeBits + 7) / 8 > packet.Length)
        {
            return 0;
        }

        return _modeIsLong[mode] ? BlockSize1 : BlockSize0;
    }

    /// <summary>The samples the next packet in order returns (this follows the block sizes packet after packet).</summary>
    public int NextSamples(ReadOnlySpan<byte> packet) => UnitsIn(packet);

    protected override int UnitsIn(ReadOnlySpan<byte> packet)
    {
        int blockSize = BlockSizeOf(packet);
        if (blockSize == 0)
        {
            return 0;
        }

        int samples = (_previousBlockSize + blockSize) / 4;
        _previousBlockSize = blockSize;
        return samples;
    }

    /// <summary>Checks the identification header and returns its sample rate.</summary>
    private static int ReadIdentification(ReadOnlySpan<byte> id, int index, out int blockSize0, out int blockSize1, out int channels)
    {
        CheckHeader(id, 1, index, "identification");
        if (id.Length < IdentificationLength)
        {
            throw new ArgumentException($"track {index}: Vorbis identification header has {id.Length} bytes, fewer than {IdentificationLength}");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(id[7..]);
        channels = id[11];
        uint rate = BinaryPrimitives.ReadUInt32LittleEndian(id[12..]);
        int exponent0 = id[28] & 0x0F;
        int exponent1 = id[28] >> 4;
        if (version != 0 || channels == 0 || rate == 0 || rate > 1_000_000
            || exponent0 < 6 || exponent1 > 13 || exponent0 > exponent1 || (id[29] & 1) == 0)
        {
            throw new ArgumentException($"track {index}: Vorbis identification header is invalid (version {version}, {channels} channels, {rate} Hz, block sizes 2^{exponent0} and 2^{exponent1})");
        }

        blockSize0 = 1 << exponent0;
        blockSize1 = 1 << exponent1;
        return (int)rate;
    }

    private static void CheckHeader(ReadOnlySpan<byte> header, byte type, int index, string name)
    {
        if (header.Length < 7 || header[0] != type || !header[1..7].SequenceEqual("vorbis"u8))
        {
            throw new ArgumentException($"track {index}: the Vorbis {name} header is not there (expected packet type {type} and \"vorbis\")");
        }
    }

    /// <summary>
    /// The modes at the end of the setup header. Each mode is blockflag (1 bit), windowtype (16 bits, 0),
    /// transformtype (16 bits, 0) and mapping (8 bits, below 64); they are preceded by mode_count - 1 (6 bits) and
    /// followed by the framing bit. Read from the end back, without decoding the codebooks before them: the
    /// largest count n for which the n 41-bit groups before the framing bit look like modes and the 6 bits before
    /// them say n - 1.
    /// </summary>
    private static bool[] ReadModes(ReadOnlySpan<byte> setup, int index)
    {
        int last = setup.Length - 1;
        while (last >= 7 && setup[last] == 0)
        {
            last--;
        }

        if (last < 7)
        {
            throw new ArgumentException($"track {index}: Vorbis setup header has no framing bit");
        }

        long framing = (last * 8L) + (31 - int.LeadingZeroCount(setup[last]));
        const long firstBit = 7 * 8;
        int count = 0;
        for (int n = 1; n <= 64; n++)
        {
            long start = framing - (41L * n);
            if (start - 6 < firstBit)
            {
                break;
            }

            if (ReadBits(setup, start + 1, 16) != 0 || ReadBits(setup, start + 17, 16) != 0 || ReadBits(setup, start + 33, 8) >= 64)
            {
                break;
            }

            if ((int)ReadBits(setup, start - 6, 6) == n - 1)
            {
                count = n;
            }
        }

        if (count == 0)
        {
            throw new ArgumentException($"track {index}: the modes at the end of the Vorbis setup header cannot be read");
        }

        var modes = new bool[count];
        long first = framing - (41L * count);
        for (int i = 0; i < count; i++)
        {
            modes[i] = ReadBits(setup, first + (41L * i), 1) != 0;
        }

        return modes;
    }

    /// <summary>Vorbis bit packing: fields fill each byte from its least significant bit; values are least significant bit first.</summary>
    private static uint ReadBits(ReadOnlySpan<byte> data, long bitPosition, int count)
    {
        uint value = 0;
        for (int i = 0; i < count; i++)
        {
            long bit = bitPosition + i;
            long at = bit >> 3;
            if (at >= data.Length)
            {
                break;
            }

            value |= (uint)((data[(int)at] >> (int)(bit & 7)) & 1) << i;
        }

        return value;
    }

    /// <summary>The Vorbis ilog: the number of bits needed to write <paramref name="value"/> (0 for 0).</summary>
    private static int ILog(int value) => value <= 0 ? 0 : 32 - (int)uint.LeadingZeroCount((uint)value);

    public override string ToString() => $"Vorbis {GranuleRate} Hz, {Channels} ch, blocks {BlockSize0}/{BlockSize1}, {_modeIsLong.Length} modes";
}
