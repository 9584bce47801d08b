namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// The three header packets of a Xiph codec (Vorbis, Theora) as Matroska's CodecPrivate stores them: a byte with
/// the packet count minus one, the size of every packet but the last in Xiph lacing (a run of 255s and a final
/// byte below 255, summed), then the packets back to back.
/// </summary>
internal static class XiphHeaders
{
    public const int Count = 3;

    /// <summary>The three packets, sharing <paramref name="codecPrivate"/>'s memory; ArgumentException when they are not there.</summary>
    public static ReadOnlyMemory<byte>[] Split(ReadOnlyMemory<byte> codecPrivate, string codec)
    {
        var span = codecPrivate.Span;
        if (span.Length < 1 || span[0] != Count - 1)
        {
            throw new ArgumentException($"{codec} CodecPrivate must hold {Count} Xiph-laced header packets (first byte {Count - 1}), got {(span.Length < 1 ? "nothing" : $"first byte {span[0]}")}");
        }

        var sizes = new int[Count];
        int at = 1;
        for (int i = 0; i < Count - 1; i++)
        {
            int size = 0;
            while (true)
            {
                if (at >= span.Length)
                {
                    throw new ArgumentException($"{codec} CodecPrivate ends inside the Xiph lacing size of header packet {i + 1}");
                }

                byte b = span[at++];
                size += b;
                if (b < 255)
                {
                    break;
                }
            }

            sizes[i] = size;
        }

        long rest = span.Length - at - (long)sizes[0] - sizes[1];
        if (rest < 0)
        {
            throw new ArgumentException($"{codec} CodecPrivate header packets of {sizes[0]} and {sizes[1]} bytes do not fit its {span.Length} bytes");
        }

        sizes[2] = (int)rest;
        var packets = new ReadOnlyMemory<byte>[Count];
        for (int i = 0; i < Count; i++)
        {
            packets[i] = codecPrivate.Slice(at, sizes[i]);
            at += sizes[i];
        }

        return packets;
    }
}
