using System.Diagnostics;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Flv;

/// <summary>Damaged versions of real FLV streams: every one ends in packets or a MediaFormatException, quickly and in bounded memory.</summary>
public sealed class FlvDemuxerMutationTests
{
    private const int Inputs = 3000;
    private const int MaxLength = 48 * 1024;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Total = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Mutated_inputs_end_in_success_or_a_format_error()
    {
        var sources = FlvFixtures.AllFlv.Select(FlvFixtures.Bytes).Append(EnhancedH265()).Select(b => b[..Math.Min(MaxLength, b.Length)]).ToArray();
        var failures = new List<string>();
        int formatErrors = 0;
        int damageCounted = 0;

        var run = Task.Run(() =>
        {
            var random = new Random(20241125);
            for (int i = 0; i < Inputs; i++)
            {
                byte[] source = sources[i % sources.Length];
                byte[] input = Mutate(source, random, out string how);
                int chunk = random.Next(4) switch { 0 => int.MaxValue, 1 => 188, 2 => 4096, _ => random.Next(1, 64) };
                var watch = Stopwatch.StartNew();
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                var demuxer = new FlvDemuxer();
                try
                {
                    var recorder = Feeder.Feed(demuxer, input, chunk);
                    if (recorder.TrackCalls.Count > 1 || (recorder.Packets.Count > 0 && recorder.Tracks is null))
                    {
                        failures.Add($"#{i} ({how}): {recorder.TrackCalls.Count} OnTracks calls for {recorder.Packets.Count} packets");
                    }
                }
                catch (MediaFormatException error)
                {
                    formatErrors++;
                    if (error.Offset < 0 || error.Offset > input.Length || error.Format != "FLV")
                    {
                        failures.Add($"#{i} ({how}): {error.Format} offset {error.Offset} outside the input of {input.Length} bytes");
                    }
                }
                catch (Exception error)
                {
                    failures.Add($"#{i} ({how}, chunks of {chunk}): {error.GetType().Name}: {error.Message}");
                }

                if (demuxer.DamagedTags + demuxer.UnsupportedTags + demuxer.UntrackedPackets + demuxer.PreviousTagSizeMismatches > 0)
                {
                    damageCounted++;
                }

                // Allocation stays proportional to the input: payload copies plus the feeder's own segments.
                long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                long bound = (64L * input.Length) + (4L << 20);
                if (allocated > bound)
                {
                    failures.Add($"#{i} ({how}, chunks of {chunk}): {allocated} bytes allocated for {input.Length} bytes of input");
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
        Assert.InRange(formatErrors, 1, Inputs - 1);
        Assert.InRange(damageCounted, 1, Inputs);
    }

    /// <summary>Enhanced FLV (hvc1) + AAC, written by our muxer from ffmpeg's H.265.</summary>
    private static byte[] EnhancedH265()
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), FlvFixtures.Bytes(FlvFixtures.H265AacMkv), int.MaxValue);
        var muxer = new FlvMuxer(source.Tracks!);
        return MuxedOutput.Concat(muxer.Header, MuxedOutput.WithDecodeTimes(source.Packets).Select(muxer.Write));
    }

    private static byte[] Mutate(byte[] source, Random random, out string how)
    {
        byte[] data = (byte[])source.Clone();
        var tags = FlvDemuxerFfmpegTests.TagBoundaries(data).Where(b => b + 11 <= data.Length).Order().ToArray();
        switch (random.Next(6))
        {
            case 0: // a few flipped bits, half of them in tag headers and the bytes after them
            {
                int count = random.Next(1, 5);
                for (int k = 0; k < count; k++)
                {
                    int at = random.Next(2) == 0 && tags.Length > 0 ? tags[random.Next(tags.Length)] + random.Next(18) : random.Next(data.Length);
                    at = Math.Min(at, data.Length - 1);
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

            case 2: // a tag's DataSize made large
            {
                int at = tags[random.Next(tags.Length)];
                int size = random.Next(3) switch { 0 => 0xFFFFFF, 1 => FlvDemuxer.MaxTagDataSize, _ => random.Next(0, 1 << 16) };
                data[at + 1] = (byte)(size >> 16);
                data[at + 2] = (byte)(size >> 8);
                data[at + 3] = (byte)size;
                how = $"DataSize {size} at {at}";
                return data;
            }

            case 3: // bytes removed (a lost piece)
            {
                int at = random.Next(data.Length);
                int length = Math.Min(random.Next(1, 200), data.Length - at);
                how = $"{length} bytes removed at {at}";
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + length)];
            }

            case 4: // a whole tag lost
            {
                int k = random.Next(tags.Length - 1);
                how = $"tag at {tags[k]} removed";
                return [.. data.AsSpan(0, tags[k]), .. data.AsSpan(tags[k + 1])];
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
