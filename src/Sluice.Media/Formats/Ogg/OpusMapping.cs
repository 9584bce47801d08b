using System.Buffers.Binary;
using Sluice.Media.Codecs.Opus;

namespace Sluice.Media.Formats.Ogg;

/// <summary>
/// Ogg Opus (RFC 7845): the OpusHead identification header (the track's CodecPrivate, or one made from its channel
/// count and codec delay when it has none), an OpusTags comment header naming Sluice, and granule positions counting
/// 48 kHz samples from the start of decoding, pre-skip included: a packet presented at time t (as packet times are,
/// without the codec delay) starts at granule 48000 t + pre-skip. A packet's sample count comes from its TOC byte
/// (RFC 6716, section 3.1).
/// </summary>
internal sealed class OpusMapping : AudioMapping
{
    public const int Rate = 48_000;

    private const int MinHeadLength = 19;

    public OpusMapping(TrackInfo track)
        : this(Head(track))
    {
    }

    private OpusMapping(ReadOnlyMemory<byte> head)
        : base([head, Tags()], Rate)
    {
        PreSkip = BinaryPrimitives.ReadUInt16LittleEndian(head.Span[10..]);
    }

    /// <summary>Samples (at 48 kHz) a decoder discards at the start, from OpusHead.</summary>
    public int PreSkip { get; }

    protected override long StartOffset => PreSkip;

    protected override int UnitsIn(ReadOnlySpan<byte> packet) => SampleCount(packet);

    /// <summary>Samples at 48 kHz an Opus packet decodes to, from its TOC (RFC 6716, 3.1); 0 for a malformed packet.</summary>
    public static int SampleCount(ReadOnlySpan<byte> packet) => OpusToc.ValidSamples(packet);

    private static ReadOnlyMemory<byte> Head(TrackInfo track)
    {
        var head = track.CodecPrivate;
        if (head.IsEmpty)
        {
            if (track.Channels is < 1 or > 2)
            {
                throw new ArgumentException($"track {track.Index}: Opus with {track.Channels} channels needs its OpusHead as CodecPrivate");
            }

            var made = new byte[MinHeadLength];
            "OpusHead"u8.CopyTo(made);
            made[8] = 1;
            made[9] = (byte)track.Channels;
            BinaryPrimitives.WriteUInt16LittleEndian(made.AsSpan(10), (ushort)Math.Clamp(track.CodecDelayNs * Rate / 1_000_000_000, 0, ushort.MaxValue));
            BinaryPrimitives.WriteUInt32LittleEndian(made.AsSpan(12), (uint)(track.SampleRate > 0 ? track.SampleRate : Rate));
            return made;
        }

        var span = head.Span;
        if (span.Length < MinHeadLength || !span.StartsWith("OpusHead"u8))
        {
            throw new ArgumentException($"track {track.Index}: Opus CodecPrivate is not an OpusHead (it must begin with \"OpusHead\" and hold at least {MinHeadLength} bytes)");
        }

        if ((span[8] & 0xF0) != 0)
        {
            throw new ArgumentException($"track {track.Index}: OpusHead version {span[8]} is not one Ogg Opus (RFC 7845) defines");
        }

        if (span[18] != 0 && span.Length < MinHeadLength + 2 + span[9])
        {
            throw new ArgumentException($"track {track.Index}: OpusHead with channel mapping family {span[18]} is missing its channel mapping table");
        }

        return head;
    }

    private static byte[] Tags()
    {
        ReadOnlySpan<byte> vendor = "Sluice"u8;
        var tags = new byte[8 + 4 + vendor.Length + 4];
        "OpusTags"u8.CopyTo(tags);
        BinaryPrimitives.WriteUInt32LittleEndian(tags.AsSpan(8), (uint)vendor.Length);
        vendor.CopyTo(tags.AsSpan(12));
        BinaryPrimitives.WriteUInt32LittleEndian(tags.AsSpan(12 + vendor.Length), 0); // no user comments
        return tags;
    }

    public override string ToString() => $"Opus pre-skip {PreSkip}";
}
