using System.Diagnostics;
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
        var failures = new List<string>();
        int formatErrors = 0;

        var run = Task.Run(() =>
        {
            var random = new Random(20240611);
            for (int i = 0; i < Inputs; i++)
            {
                byte[] input = Mutate(sources[i % sources.Length], random, out string how);
                int chunk = random.Next(4) switch { 0 => int.MaxValue, 1 => 188, 2 => 4096, _ => random.Next(1, 64) };
                var watch = Stopwatch.StartNew();
                try
                {
                    Feeder.Feed(new MatroskaDemuxer(), input, chunk);
                }
                catch (MediaFormatException error)
                {
                    formatErrors++;
                    if (error.Offset < 0 || error.Offset > input.Length)
                    {
                        failures.Add($"#{i} ({how}): offset {error.Offset} outside the input of {input.Length} bytes");
                    }
                }
                catch (Exception error)
                {
                    failures.Add($"#{i} ({how}, chunks of {chunk}): {error.GetType().Name}: {error.Message}");
                }

                if (watch.Elapsed > PerInput)
                {
                    failures.Add($"#{i} ({how}) took {watch.Elapsed}");
                }
            }
        });

        // A hang fails here with a TimeoutException instead of stalling the test run.
        await run.WaitAsync(Total);
        Assert.Empty(failures);
        Assert.InRange(formatErrors, 1, Inputs);
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
            {
                int at = random.Next(data.Length);
                int length = Math.Min(random.Next(1, 16), data.Length - at);
                random.NextBytes(data.AsSpan(at, length));
                how = $"{length} random bytes at {at}";
                return data;
            }

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
            {
                int at = random.Next(data.Length);
                int length = Math.Min(random.Next(1, 200), data.Length - at);
                how = $"{length} bytes removed at {at}";
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + length)];
            }

            default: // truncated and a flipped byte
            {
                int length = random.Next(data.Length);
                how = $"cut at {length}, a byte flipped";
                data = data[..length];
                if (length > 0)
                {
                    data[random.Next(length)] ^= 0xFF;
                }

                return data;
            }
        }
    }
}
