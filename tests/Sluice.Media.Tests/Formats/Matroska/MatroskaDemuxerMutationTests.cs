using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Matroska;

/// <summary>Damaged versions of real files: every one ends in packets or a MediaFormatException, quickly.</summary>
public sealed class MatroskaDemuxerMutationTests
{
    private const int Inputs = 2000;
    private const int MaxLength = 48 * 1024;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Total = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Mutated_inputs_end_in_success_or_a_format_error()
    {
        var sources = Fixtures.All.Select(n => Fixtures.Bytes(n)[..Math.Min(MaxLength, (int)new FileInfo(Fixtures.Path(n)).Length)]).ToArray();
        var harness = new MutationHarness(20240611) { PerInput = PerInput, CheckFormatError = MutationHarness.OffsetInside };
        await harness.RunAsync(
            Inputs,
            Total,
            (i, random, out how) => Mutate(sources[i % sources.Length], random, out how),
            random => random.Next(4) switch { 0 => int.MaxValue, 1 => 188, 2 => 4096, _ => random.Next(1, 64) },
            m => Feeder.Feed(new MatroskaDemuxer(), m.Input, m.Chunk));

        Assert.Empty(harness.Failures);
        Assert.InRange(harness.FormatErrors, 1, Inputs);
    }

    private static byte[] Mutate(byte[] source, Random random, out string how)
    {
        byte[] data = (byte[])source.Clone();
        int headerZone = Math.Min(data.Length, 600);
        switch (random.Next(5))
        {
            case 0: // a few flipped bits, mostly in the headers
            {
                int count = random.Next(1, 5);
                for (int k = 0; k < count; k++)
                {
                    int at = random.Next(random.Next(2) == 0 ? headerZone : data.Length);
                    data[at] ^= (byte)(1 << random.Next(8));
                }

                how = $"{count} flipped bits";
                return data;
            }

            case 1: // random bytes overwritten
                return Damage.RandomBytes(data, random, 16, out how);

            case 2: // a size field made absurd: 0x01 followed by 0xFF.. (a huge 8-byte size) somewhere
            {
                int at = random.Next(4, data.Length - 8);
                data[at] = 0x01;
                data.AsSpan(at + 1, 7).Fill(0xFF);
                data[at + 7] = 0xFE;
                how = $"huge size at {at}";
                return data;
            }

            case 3: // bytes removed
                return Damage.Removed(data, random, out how);

            default: // truncated and a flipped byte
                return Damage.CutAndFlipped(data, random, out how);
        }
    }
}
