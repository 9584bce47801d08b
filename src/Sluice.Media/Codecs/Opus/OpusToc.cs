namespace Sluice.Media.Codecs.Opus;

/// <summary>The TOC byte that starts every Opus packet (RFC 6716 3.1): how many frames of how many samples it holds.</summary>
internal static class OpusToc
{
    /// <summary>The most a packet holds: 120 ms at 48 kHz (RFC 6716 3.2.5).</summary>
    public const int MaxPacketSamples = 5760;

    /// <summary>Samples at 48 kHz in the packet (frames times frame size, as the TOC states them), 0 for an empty packet or a code 3 packet without its frame count.</summary>
    public static int Samples(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty)
        {
            return 0;
        }

        int config = packet[0] >> 3;
        int frameSamples = config switch
        {
            < 12 => (config & 3) switch { 0 => 480, 1 => 960, 2 => 1920, _ => 2880 }, // SILK: 10, 20, 40, 60 ms
            < 16 => (config & 1) == 0 ? 480 : 960, // Hybrid: 10, 20 ms
            _ => (config & 3) switch { 0 => 120, 1 => 240, 2 => 480, _ => 960 }, // CELT: 2.5, 5, 10, 20 ms
        };
        int frames = (packet[0] & 3) switch
        {
            0 => 1,
            1 or 2 => 2,
            _ => packet.Length >= 2 ? packet[1] & 0x3F : 0,
        };
        return frames * frameSamples;
    }

    /// <summary>As <see cref="Samples"/>, but 0 as well when the TOC states more than a packet may hold (a damaged packet).</summary>
    public static int ValidSamples(ReadOnlySpan<byte> packet)
    {
        int samples = Samples(packet);
        return samples > MaxPacketSamples ? 0 : samples;
    }
}
