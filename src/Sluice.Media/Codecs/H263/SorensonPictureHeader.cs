namespace Sluice.Media.Codecs.H263;

/// <summary>
/// The picture header of Sorenson H.263 (FLV1, the FLV video codec 2): a 17-bit start code, a 5-bit version, the
/// 8-bit temporal reference, a 3-bit size code (0: 8-bit width and height follow, 1: 16-bit, 2-6: CIF, QCIF, SQCIF,
/// 320x240, 160x120), then the 2-bit picture type (0 intra, 1 inter, 2 disposable inter).
/// </summary>
public readonly record struct SorensonPictureHeader(int Width, int Height, int PictureType)
{
    public const int IntraPicture = 0;
    public const int InterPicture = 1;
    public const int DisposableInterPicture = 2;

    public bool IsIntra => PictureType == IntraPicture;

    public static bool TryParse(ReadOnlySpan<byte> frame, out SorensonPictureHeader header)
    {
        header = default;
        var r = new BitReader(frame);
        if (r.ReadBits(17) != 1 || r.ReadBits(5) > 1)
        {
            return false;
        }

        r.Skip(8); // temporal reference
        (int width, int height) = r.ReadBits(3) switch
        {
            0 => ((int)r.ReadBits(8), (int)r.ReadBits(8)),
            1 => ((int)r.ReadBits(16), (int)r.ReadBits(16)),
            2 => (352, 288),
            3 => (176, 144),
            4 => (128, 96),
            5 => (320, 240),
            6 => (160, 120),
            _ => (0, 0),
        };
        int type = (int)r.ReadBits(2);
        if (r.Overrun || width == 0 || height == 0 || type > DisposableInterPicture)
        {
            return false;
        }

        header = new SorensonPictureHeader(width, height, type);
        return true;
    }
}
