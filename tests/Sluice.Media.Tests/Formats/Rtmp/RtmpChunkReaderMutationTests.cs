using System.Diagnostics;

namespace Sluice.Media.Tests.Formats.Rtmp;

/// <summary>Damaged chunk streams from the case table: every one ends in messages or a MediaFormatException, quickly and in bounded memory.</summary>
public sealed class RtmpChunkReaderMutationTests
{
    private const int Inputs = 5000;

    [Fact]
    public async Task Mutated_chunk_streams_end_in_messages_or_a_format_error()
    {
        var sources = RtmpCases.All.Where(c => c.Error is null).Select(c => c.Input).ToArray();
        var failures = new List<string>();
        int errors = 0;
        long maxAllocated = 0;

        var run = Task.Run(() =>
        {
            var random = new Random(20261124);
            for (int i = 0; i < Inputs; i++)
            {
                // Mutate one to three cases joined together: flipped bits, random bytes, cut, duplicated pieces.
                byte[] input = [.. Enumerable.Range(0, random.Next(1, 4)).SelectMany(_ => sources[random.Next(sources.Length)])];
                for (int m = random.Next(1, 6); m > 0 && input.Length > 0; m--)
                {
                    int at = random.Next(input.Length);
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

                int step = random.Next(3) switch { 0 => int.MaxValue, 1 => 1, _ => random.Next(2, 64) };
                long before = GC.GetAllocatedBytesForCurrentThread();
                var watch = Stopwatch.StartNew();
                var parser = new RtmpCases.Parser();
                try
                {
                    Feeder.Feed(parser, [.. RtmpCases.PlainHandshake(), .. input], step, complete: false);
                }
                catch (MediaFormatException)
                {
                    errors++;
                }
                catch (Exception ex)
                {
                    failures.Add($"#{i}: {ex.GetType().Name}: {ex.Message}");
                }

                maxAllocated = Math.Max(maxAllocated, GC.GetAllocatedBytesForCurrentThread() - before);
                if (watch.Elapsed > TimeSpan.FromSeconds(2))
                {
                    failures.Add($"#{i}: took {watch.Elapsed.TotalMilliseconds:0} ms");
                }
            }
        });

        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run, "the mutation run did not end within 60 s");
        await run;
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
        Assert.True(errors > 0, "no mutated input was refused: the mutations do not reach the parser");

        // A mutated length may announce up to 16 MiB, but no message may take more than the reader's bounds.
        Assert.True(maxAllocated < 40L << 20, $"one input allocated {maxAllocated} bytes");
    }
}
