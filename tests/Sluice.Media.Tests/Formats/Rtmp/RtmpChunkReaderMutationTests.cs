namespace Sluice.Media.Tests.Formats.Rtmp;

/// <summary>Damaged chunk streams from the case table: every one ends in messages or a MediaFormatException, quickly and in bounded memory.</summary>
public sealed class RtmpChunkReaderMutationTests
{
    private const int Inputs = 5000;

    [Fact]
    public async Task Mutated_chunk_streams_end_in_messages_or_a_format_error()
    {
        var sources = RtmpCases.All.Where(c => c.Error is null).Select(c => c.Input).ToArray();
        var harness = new MutationHarness(20261124) { PerInput = TimeSpan.FromSeconds(2) };
        var run = Task.Run(() => harness.Run(
            Inputs,
            (_, random, out how) =>
            {
                // Mutate one to three cases joined together: flipped bits, random bytes, cut, duplicated pieces.
                byte[] input = [.. Enumerable.Range(0, random.Next(1, 4)).SelectMany(_ => sources[random.Next(sources.Length)])];
                int mutations = 0;
                for (int m = random.Next(1, 6); m > 0 && input.Length > 0; m--)
                {
                    int at = random.Next(input.Length);
                    mutations++;
                    switch (random.Next(4))
                    {
                        case 0:
                            input[at] ^= (byte)(1 << random.Next(8));
                            break;
                        case 1:
                            input[at] = (byte)random.Next(256);
                            break;
                        case 2:
                            input = input[..at];
                            break;
                        default:
                            input = [.. input[..at], .. input[at..Math.Min(input.Length, at + random.Next(1, 40))], .. input[at..]];
                            break;
                    }
                }

                how = $"{mutations} mutations";
                return input;
            },
            random => random.Next(3) switch { 0 => int.MaxValue, 1 => 1, _ => random.Next(2, 64) },
            m => Feeder.Feed(new RtmpCases.Parser(), [.. RtmpCases.PlainHandshake(), .. m.Input], m.Chunk, complete: false)));

        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "the mutation run did not end within 60 s");
        await run;
        Assert.True(harness.Failures.Count == 0, string.Join("\n", harness.Failures.Take(5)));
        Assert.True(harness.FormatErrors > 0, "no mutated input was refused: the mutations do not reach the parser");

        // A mutated length may announce up to 16 MiB, but no message may take more than the reader's bounds.
        Assert.True(harness.MaxAllocated < 40L << 20, $"one input allocated {harness.MaxAllocated} bytes");
    }
}
