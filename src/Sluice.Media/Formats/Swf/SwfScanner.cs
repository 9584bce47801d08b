using System.Buffers.Binary;

namespace Sluice.Media.Formats.Swf;

/// <summary>
/// Cuts an uncompressed SWF stream that another muxer writes (ffmpeg's <c>swf</c>) into its header, the file header
/// and every tag before the first frame's media (SoundStreamHead, DefineVideoStream, the PlaceObject2 that shows the
/// video), and one unit a frame: the tags up to and including its ShowFrame. A frame is a join point when its
/// VideoFrame carries a Sorenson H.263 (FLV1) intra picture, when it defines a JPEG picture (each is whole), or, in a
/// stream without video, always (ffmpeg's SoundStreamBlocks hold whole MP3 frames).
/// </summary>
/// <remarks>Layouts: SWF File Format Specification 19, chapter 2 (header, RECORDHEADER), chapter 13 (video), and the
/// Sorenson H.263 picture header (FLV specification 10.1, annex: 17-bit start code, version, temporal reference,
/// picture size, picture type 0 = intra).</remarks>
public sealed class SwfScanner : JoinPointScanner
{
    private const int ShowFrame = 1;
    private const int End = 0;
    private const int DefineBits = 6;
    private const int SoundStreamBlock = 19;
    private const int DefineBitsJpeg2 = 21;
    private const int DefineBitsJpeg3 = 35;
    private const int DefineVideoStream = 60;
    private const int VideoFrame = 61;
    private const int SorensonH263 = 2;

    private bool _video;
    private int _videoCodec;
    private int _frameRate;
    private long _frames;

    protected override string Name => "SWF";

    protected override int ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < 9)
        {
            return 0;
        }

        if (data[..3].SequenceEqual("CWS"u8) || data[..3].SequenceEqual("ZWS"u8))
        {
            throw Damaged(0, "a compressed SWF cannot be cut into frames; it needs an uncompressed one (FWS)");
        }

        if (!data[..3].SequenceEqual("FWS"u8))
        {
            throw Damaged(0, "no SWF signature (FWS) at the start");
        }

        int rectBits = 5 + (4 * (data[8] >> 3));
        int rate = 8 + ((rectBits + 7) / 8);
        if (data.Length < rate + 4)
        {
            return 0;
        }

        // The frame rate, an 8.8 fixed-point number (frames per 256 s); ffmpeg writes one frame a ShowFrame.
        _frameRate = BinaryPrimitives.ReadUInt16LittleEndian(data[rate..]);
        if (_frameRate == 0)
        {
            throw Damaged(rate, "a frame rate of 0 in the SWF header");
        }

        int at = rate + 4; // frame size RECT, frame rate, frame count
        while (Tag(data, at) is var (code, length) && length > 0)
        {
            if (code is VideoFrame or SoundStreamBlock or DefineBits or DefineBitsJpeg2 or DefineBitsJpeg3 or ShowFrame)
            {
                SetHeader(data[..at]);
                return at;
            }

            if (code == DefineVideoStream)
            {
                int body = at + length - BodyLength(data, at);
                _video = true;
                _videoCodec = body + 10 <= data.Length ? data[body + 9] : 0;
                if (_videoCodec != SorensonH263)
                {
                    // Screen video (3) and VP6 (4, 5) have key frames of their own, which this scanner does not find:
                    // a stream of them would offer no join point after its first. ffmpeg 5.1 encodes none of them.
                    throw Damaged(body + 9, $"DefineVideoStream of codec {_videoCodec}: Sluice finds join points only in Sorenson H.263 (2) video and JPEG frames");
                }
            }

            at += length;
        }

        return 0;
    }

    protected override int ReadUnit(ReadOnlySpan<byte> data, List<ScannedUnit> units)
    {
        bool join = !_video;
        for (int at = 0; Tag(data, at) is var (code, length) && length > 0;)
        {
            int body = at + length - BodyLength(data, at);
            join |= code is DefineBits or DefineBitsJpeg2 or DefineBitsJpeg3
                || (code == VideoFrame && _videoCodec == SorensonH263 && IsIntra(data[(body + 4)..(at + length)]));
            at += length;
            if (code is ShowFrame or End)
            {
                units.Add(new ScannedUnit(data[..at].ToArray(), join, _frames * MediaTime.TicksPerSecond * 256 / _frameRate));
                _frames++;
                return at;
            }
        }

        return 0;
    }

    /// <summary>The code and whole length (record header included) of the tag at <paramref name="at"/>; length 0 while it is not all there.</summary>
    private (int Code, int Length)? Tag(ReadOnlySpan<byte> data, int at)
    {
        if (data.Length - at < 2)
        {
            return null;
        }

        int codeAndLength = BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);
        long length = codeAndLength & 0x3F;
        int header = 2;
        if (length == 0x3F)
        {
            if (data.Length - at < 6)
            {
                return null;
            }

            length = BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 2)..]);
            header = 6;
        }

        if (length > MaxUnitBytes)
        {
            throw Damaged(at, $"tag of {length} bytes");
        }

        int whole = header + (int)length;
        return (codeAndLength >> 6, data.Length - at >= whole ? whole : 0);
    }

    private static int BodyLength(ReadOnlySpan<byte> data, int at)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(data[at..]) & 0x3F;
        return length == 0x3F ? (int)BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 2)..]) : length;
    }

    /// <summary>A Sorenson H.263 picture of type 0 (intra): its type follows the start code, version, temporal reference and size fields.</summary>
    internal static bool IsIntra(ReadOnlySpan<byte> picture)
    {
        if (picture.Length < 9 || picture[0] != 0 || picture[1] != 0 || (picture[2] & 0x80) == 0)
        {
            return false;
        }

        int size = Bits(picture, 30, 3); // after 17 + 5 + 8 bits
        int type = 33 + size switch { 0 => 16, 1 => 32, _ => 0 };
        return Bits(picture, type, 2) == 0;
    }

    private static int Bits(ReadOnlySpan<byte> data, int position, int count)
    {
        int value = 0;
        for (int i = position; i < position + count; i++)
        {
            value = (value << 1) | ((data[i >> 3] >> (7 - (i & 7))) & 1);
        }

        return value;
    }
}
