using Sluice.Media.Formats.Mp4;

namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>
/// Damaged versions of real files, read by the file reader and by the incremental one: every one ends in packets or
/// a MediaFormatException, quickly and in bounded memory.
/// </summary>
public sealed class Mp4FileReaderMutationTests
{
    private const int Inputs = 2500;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Total = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Mutated_inputs_end_in_success_or_a_format_error()
    {
        var sources = Mp4Fixtures.All.Select(Mp4Fixtures.Bytes).ToArray();
        var headers = sources.Select(s => Mp4Boxes.All(s).Where(b => !b.Path.EndsWith("mdat", StringComparison.Ordinal)).Select(b => b.Offset).ToArray()).ToArray();
        var harness = new MutationHarness(20261207)
        {
            PerInput = PerInput,

            // The moov and the payloads, a few times over: nothing in proportion to a size the damage made up.
            AllocationBound = m => (16L * m.Input.Length) + (4L << 20),
            CheckFormatError = (m, error) => error.Format != "MP4" ? $"format {error.Format}" : MutationHarness.OffsetInside(m, error),
        };

        await harness.RunAsync(
            Inputs,
            Total,
            (i, random, out how) => Mutate(sources[i % sources.Length], headers[i % sources.Length], random, out how),
            // Chunk 0: read as a file; else fed to the incremental reader in pieces of that size.
            random => random.Next(3) switch { 0 => 0, 1 => int.MaxValue, _ => random.Next(1, 2000) },
            m =>
            {
                if (m.Chunk > 0)
                {
                    using var demuxer = new Mp4Demuxer();
                    var recorder = Feeder.Feed(demuxer, m.Input, m.Chunk);
                    recorder.Packets.ForEach(p => p.Release());
                    if (recorder.TrackCalls.Count > 1 || (recorder.Packets.Count > 0 && recorder.Tracks is null))
                    {
                        harness.Fail(m, $"{recorder.TrackCalls.Count} OnTracks calls for {recorder.Packets.Count} packets");
                    }

                    return;
                }

                using var reader = Mp4FileReader.Open(new MemoryStream(m.Input));
                long lastDts = long.MinValue;
                while (reader.TryReadPacket(out var packet))
                {
                    if (packet.Track < 0 || packet.Track >= reader.Tracks.Count)
                    {
                        harness.Fail(m, $"packet of track {packet.Track} of {reader.Tracks.Count}");
                    }

                    if (packet.Dts < lastDts)
                    {
                        harness.Fail(m, $"dts {packet.Dts} after {lastDts}");
                    }

                    lastDts = packet.Dts;
                    packet.Release();
                }
            });

        Assert.Empty(harness.Failures);
        Assert.InRange(harness.FormatErrors, 1, Inputs - 1);
    }

    private static byte[] Mutate(byte[] source, int[] boxes, Random random, out string how)
    {
        byte[] data = (byte[])source.Clone();
        switch (random.Next(6))
        {
            case 0: // a few flipped bits, most of them in box headers and the fields after them
            {
                int count = random.Next(1, 5);
                for (int k = 0; k < count; k++)
                {
                    int at = random.Next(3) > 0 ? boxes[random.Next(boxes.Length)] + random.Next(40) : random.Next(data.Length);
                    data[Math.Min(at, data.Length - 1)] ^= (byte)(1 << random.Next(8));
                }

                how = $"{count} flipped bits";
                return data;
            }

            case 1: // random bytes overwritten
                return Damage.RandomBytes(data, random, 16, out how);

            case 2: // a box size or count made absurd
            {
                int at = Math.Min(boxes[random.Next(boxes.Length)] + (4 * random.Next(6)), data.Length - 4);
                uint value = random.Next(3) switch { 0 => 0xFFFFFFFF, 1 => 1, _ => (uint)random.Next() };
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(at), value);
                how = $"0x{value:X8} written at {at}";
                return data;
            }

            case 3: // bytes removed
                return Damage.Removed(data, random, out how);

            case 4: // a box's bytes moved: the same box copied over another one's place
            {
                int from = boxes[random.Next(boxes.Length)];
                int to = boxes[random.Next(boxes.Length)];
                int length = Math.Min(random.Next(8, 64), Math.Min(data.Length - from, data.Length - to));
                Array.Copy(source, from, data, to, length);
                how = $"{length} bytes from {from} copied to {to}";
                return data;
            }

            default: // truncated and a flipped byte
                return Damage.CutAndFlipped(data, random, out how);
        }
    }
}
