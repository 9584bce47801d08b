using System.Diagnostics;
using Sluice.Media.Formats.MpegTs;

namespace Sluice.Media.Tests.Formats.MpegTs;

/// <summary>Damaged MPEG-TS: what can be skipped is skipped and counted; what is not TS is refused with offset and reason.</summary>
public sealed class MpegTsDemuxerDamageTests
{
    private static int Pid(byte[] data, int packet) => ((data[packet * 188 + 1] & 0x1F) << 8) | data[packet * 188 + 2];

    private static byte[] WithoutPackets(byte[] data, Func<int, int, bool> drop)
    {
        var output = new MemoryStream();
        for (int i = 0; i < data.Length / 188; i++)
        {
            if (!drop(i, Pid(data, i)))
            {
                output.Write(data, i * 188, 188);
            }
        }

        return output.ToArray();
    }

    [Fact]
    public void Lost_packets_are_counted_and_their_pes_dropped()
    {
        byte[] data = TsFixtures.Bytes("h264-aac");
        int lost = 0;
        byte[] damaged = WithoutPackets(data, (i, pid) => pid is 0x100 or 0x101 && i > 40 && i % 37 == 0 && ++lost > 0);
        var clean = Feeder.Feed(new MpegTsDemuxer(), data, int.MaxValue);
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, damaged, 1316);

        Assert.Equal(2, recorder.Tracks!.Count);
        Assert.InRange(demuxer.ContinuityErrors, lost - 2, lost);
        Assert.InRange(demuxer.DroppedPes, 1, lost);
        Assert.True(recorder.Packets.Count < clean.Packets.Count);
        Assert.True(recorder.Packets.Count > clean.Packets.Count / 2);
        Assert.Equal(0, demuxer.SyncLosses);
    }

    [Fact]
    public void Transport_errors_and_flipped_payload_bytes_are_counted()
    {
        byte[] data = TsFixtures.Bytes("h264-aac");
        var random = new Random(5);
        int marked = 0;
        for (int i = 30; i < data.Length / 188; i += 29)
        {
            if (Pid(data, i) is 0x100 or 0x101)
            {
                data[i * 188 + 1] |= 0x80;
                marked++;
            }
            else
            {
                data[i * 188 + 4 + random.Next(184)] ^= 0xFF;
            }
        }

        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, data, 4096);
        Assert.Equal(marked, demuxer.TransportErrors);
        Assert.True(demuxer.DroppedPes > 0);
        Assert.NotEmpty(recorder.Packets);
    }

    [Fact]
    public void Garbage_in_the_middle_loses_sync_once_and_finds_it_again()
    {
        byte[] data = TsFixtures.Bytes("h264-aac");
        int at = 188 * 200;
        byte[] damaged = [.. data.AsSpan(0, at), .. new byte[100], .. data.AsSpan(at)];
        var clean = Feeder.Feed(new MpegTsDemuxer(), data, int.MaxValue);
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, damaged, 188);

        Assert.Equal(1, demuxer.SyncLosses);
        Assert.Equal(100, demuxer.SkippedBytes);
        Assert.Equal(0, demuxer.ContinuityErrors);
        Assert.Equal(clean.Describe(), recorder.Describe());
        Assert.Equal(damaged.Length, demuxer.Position);
    }

    [Fact]
    public void Leading_garbage_is_skipped()
    {
        byte[] data = TsFixtures.Bytes("aac-only");
        byte[] damaged = [.. new byte[] { 1, 2, 3, 0x47, 5, 6, 7 }, .. data];
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, damaged, 1);
        Assert.Equal(7, demuxer.SkippedBytes);
        Assert.Equal(Feeder.Feed(new MpegTsDemuxer(), data, int.MaxValue).Describe(), recorder.Describe());
    }

    [Fact]
    public void A_damaged_pmt_is_counted_and_the_next_one_used()
    {
        byte[] data = TsFixtures.Bytes("h264-aac");
        int pmt = Enumerable.Range(0, 10).First(i => Pid(data, i) == 0x1000);
        data[pmt * 188 + 20] ^= 0x5A;
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, data, 1316);
        Assert.Equal(1, demuxer.BadSections);
        Assert.Equal(2, recorder.Tracks!.Count);
    }

    [Fact]
    public void A_track_whose_parameters_never_come_is_left_out()
    {
        byte[] data = WithoutPackets(TsFixtures.Bytes("h264-aac"), (_, pid) => pid == 0x100);
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, data, 4096);
        Assert.Equal([CodecId.AAC], recorder.Tracks!.Select(t => t.Codec));
        Assert.Equal(1, demuxer.DroppedTracks);
        Assert.All(recorder.Packets, p => Assert.Equal(0, p.Track));
        Assert.NotEmpty(recorder.Packets);
    }

    [Fact]
    public void Held_packets_are_bounded_by_stream_time()
    {
        string path = TsFixtures.TempFile("long.ts");
        MediaTools.Ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-f", "lavfi", "-i", "sine=sample_rate=8000",
            "-t", "14", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "16k", "-f", "mpegts", "-y", path);
        byte[] data = WithoutPackets(File.ReadAllBytes(path), (_, pid) => pid == 0x100);
        var demuxer = new MpegTsDemuxer();
        var recorder = Feeder.Feed(demuxer, data, 1316, complete: false);
        Assert.Single(recorder.TrackCalls);
        Assert.Equal(1, demuxer.DroppedTracks);
        var last = recorder.Packets[^1];
        Assert.True(last.Dts - recorder.Packets[0].Dts > MpegTsDemuxer.MaxHoldTicks);
    }

    [Fact]
    public void Input_that_is_not_ts_is_refused()
    {
        byte[] random = new byte[4096];
        new Random(1).NextBytes(random);
        random[0] = 0x47;
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new MpegTsDemuxer(), random, 4096));
        Assert.Contains("not an MPEG-TS stream", error.Message);
        Assert.Equal("MPEG-TS", error.Format);

        error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new MpegTsDemuxer(), [], 4096));
        Assert.Contains("before a PAT", error.Message);
    }

    [Fact]
    public void A_program_without_supported_codecs_is_refused()
    {
        string path = TsFixtures.TempFile("ac3.ts");
        MediaTools.Ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1", "-c:a", "ac3", "-f", "mpegts", "-y", path);
        var error = Assert.Throws<MediaFormatException>(() => Feeder.Feed(new MpegTsDemuxer(), File.ReadAllBytes(path), 1316));
        Assert.Contains("no stream of a codec Sluice reads", error.Message);
        Assert.Contains("0x81", error.Message);
        Assert.InRange(error.Offset, 0, new FileInfo(path).Length);
    }

    [Fact]
    public void Mutated_inputs_end_in_success_or_a_format_error_quickly_and_in_bounded_memory()
    {
        const int inputs = 2000;
        var sources = TsFixtures.All.Select(c => TsFixtures.Bytes(c.Name)[..Math.Min(48 * 1024, TsFixtures.Bytes(c.Name).Length)]).ToArray();
        var harness = new MutationHarness(20250101) { Budget = TimeSpan.FromSeconds(60), CheckFormatError = MutationHarness.OffsetInside };
        var watch = Stopwatch.StartNew();
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        harness.Run(
            inputs,
            (i, random, out how) => Mutate(sources[i % sources.Length], random, out how),
            random => random.Next(4) switch { 0 => int.MaxValue, 1 => 188, 2 => 1316, _ => random.Next(1, 400) },
            m => Feeder.Feed(new MpegTsDemuxer(), m.Input, m.Chunk));

        Assert.Empty(harness.Failures);
        Assert.Equal(inputs, harness.Done);
        Assert.InRange(harness.FormatErrors, 1, inputs - 1);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        Assert.InRange(GC.GetTotalMemory(forceFullCollection: true) - memoryBefore, long.MinValue, 64L << 20);
    }

    private static byte[] Mutate(byte[] source, Random random, out string how)
    {
        byte[] data = (byte[])source.Clone();
        switch (random.Next(6))
        {
            case 0:
            {
                int count = random.Next(1, 8);
                for (int k = 0; k < count; k++)
                {
                    data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                }

                how = $"{count} flipped bits";
                return data;
            }

            case 1:
                return Damage.RandomBytes(data, random, 32, out how);

            case 2: // a PSI or PES length made absurd
            {
                int packet = random.Next(data.Length / 188);
                int at = packet * 188 + random.Next(4, 12);
                data[at] = 0xFF;
                data[at + 1] = 0xFF;
                how = $"FFFF at {at}";
                return data;
            }

            case 3: // whole TS packets lost
            {
                int packet = random.Next(data.Length / 188);
                int count = random.Next(1, 6);
                int length = Math.Min(count * 188, data.Length - packet * 188);
                how = $"{count} packets lost at {packet}";
                return [.. data.AsSpan(0, packet * 188), .. data.AsSpan(packet * 188 + length)];
            }

            case 4: // bytes lost (sync lost)
                return Damage.Removed(data, random, out how);

            default:
            {
                int length = random.Next(data.Length);
                how = $"cut at {length}";
                return data[..length];
            }
        }
    }
}
