namespace Sluice.Media.Codecs.Ac3;

/// <summary>
/// The start of an AC-3 sync frame (ATSC A/52 5.3.1 syncinfo, 5.3.2 bsi): the sync word 0x0B77, crc1, then fscod
/// (2 bits, the sample rate) and frmsizecod (6 bits, the bitrate and, at 44.1 kHz, one word of padding), enough to
/// find where the frame ends. E-AC-3 (bsid above 10) lays out its header differently and is not read.
/// </summary>
internal readonly record struct Ac3SyncInfo(int SampleRate, int FrameLength)
{
    /// <summary>Every frame holds six blocks of 256 samples.</summary>
    public const int SamplesPerFrame = 1536;

    /// <summary>The nominal bitrates of frmsizecod 0-1, 2-3, ... 36-37 (A/52 Table 5.18), kbit/s.</summary>
    private static readonly int[] Kbps = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640];

    /// <summary>False without the sync word, at a reserved sample rate or frame size code, or for a bsid AC-3 does not use.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out Ac3SyncInfo info)
    {
        info = default;
        if (data.Length < 6 || data[0] != 0x0B || data[1] != 0x77)
        {
            return false;
        }

        int fscod = data[4] >> 6;
        int frmsizecod = data[4] & 0x3F;
        int bsid = data[5] >> 3;
        if (fscod == 3 || frmsizecod >= 2 * Kbps.Length || bsid > 10)
        {
            return false;
        }

        int kbps = Kbps[frmsizecod >> 1];
        // Table 5.18 in 16-bit words: 2 a kbit/s at 48 kHz, 3 at 32 kHz; at 44.1 kHz what 1536 samples take, rounded
        // down, and one more word for the odd code of each pair.
        int words = fscod switch
        {
            0 => kbps * 2,
            2 => kbps * 3,
            _ => (kbps * 1000 * SamplesPerFrame / 44100 / 16) + (frmsizecod & 1),
        };
        info = new Ac3SyncInfo(fscod switch { 0 => 48000, 1 => 44100, _ => 32000 }, words * 2);
        return true;
    }
}
