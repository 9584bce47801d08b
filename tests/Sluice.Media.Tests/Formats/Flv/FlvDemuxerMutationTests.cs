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
        int damageCounted = 0;
        var harness = new MutationHarness(20241125)
        {
            PerInput = PerInput,

            // Allocation stays proportional to the input: payload copies plus the feeder's own segments.
            AllocationBound = m => (64L * m.Input.Length) + (4L << 20),
            CheckFormatError = (m, error) => error.Offset < 0 || error.Offset > m.Input.Length || error.Format != "FLV"
                ? $"{error.Format} offset {error.Offset} outside the input of {m.Input.Length} bytes"
                : null,
        };

        await harness.RunAsync(
            Inputs,
            Total,
            (i, random, out how) => Mutate(sources[i % sources.Length], random, out how),
            random => random.Next(4) switch { 0 => int.MaxValue, 1 => 188, 2 => 4096, _ => random.Next(1, 64) },
            m =>
            {
                var demuxer = new FlvDemuxer();
                try
                {
                    var recorder = Feeder.Feed(demuxer, m.Input, m.Chunk);
                    if (recorder.TrackCalls.Count > 1 || (recorder.Packets.Count > 0 && recorder.Tracks is null))
                    {
                        harness.Fail(m, $"{recorder.TrackCalls.Count} OnTracks calls for {recorder.Packets.Count} packets");
                    }
                }
                finally
                {
                    if (demuxer.DamagedTags + demuxer.UnsupportedTags + demuxer.UntrackedPackets + demuxer.PreviousTagSizeMismatches > 0)
                    {
                        damageCounted++;
                    }
                }
            });

        Assert.Empty(harness.Failures);
        Assert.InRange(harness.FormatErrors, 1, Inputs - 1);
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
                return Damage.RandomBytes(data, random, 16, out how);

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
                return Damage.Removed(data, random, out how);

            case 4: // a whole tag lost
            {
                int k = random.Next(tags.Length - 1);
                how = $"tag at {tags[k]} removed";
                return [.. data.AsSpan(0, tags[k]), .. data.AsSpan(tags[k + 1])];
            }

            default: // truncated and a flipped byte
                return Damage.CutAndFlipped(data, random, out how);
        }
    }
}
