using System.Globalization;
using System.Text.Json;
using Sluice.Media.Codecs.Aac;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Mp4;
using Sluice.Media.Formats.MpegTs;

namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>The MP4 reader against files the real ffmpeg wrote, checked against ffprobe.</summary>
public sealed class Mp4FileReaderFfmpegTests
{
    public static TheoryData<string> Files => Mp4Fixtures.AllNames;

    /// <summary>Every packet of a file, in the reader's order (their blocks released: the payloads are copied first when asked).</summary>
    internal static List<MediaPacket> ReadAll(Mp4FileReader reader)
    {
        var packets = new List<MediaPacket>();
        while (reader.TryReadPacket(out var packet))
        {
            packets.Add(new MediaPacket(packet.Track, packet.Dts, packet.Pts, packet.IsKeyframe, packet.Payload.ToArray(), packet.Duration));
            packet.Release();
        }

        return packets;
    }

    internal static (IReadOnlyList<TrackInfo> Tracks, List<MediaPacket> Packets) Read(string name)
    {
        using var reader = Mp4FileReader.Open(File.OpenRead(Mp4Fixtures.Path(name)));
        return (reader.Tracks, ReadAll(reader));
    }

    /// <summary>A time in a stream's time base as <see cref="MediaTime"/> ticks, rounded as the reader rounds (halves away from zero).</summary>
    private static long Ticks(long value, long timebase)
    {
        long n = value * MediaTime.TicksPerSecond;
        return n >= 0 ? (n + (timebase / 2)) / timebase : -((-n + (timebase / 2)) / timebase);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Packets_match_ffprobe(string name)
    {
        var (tracks, packets) = Read(name);
        var probed = Ffprobe.Packets(Mp4Fixtures.Path(name));
        var streams = Ffprobe.Streams(Mp4Fixtures.Path(name));
        Assert.Equal(streams.Count, tracks.Count);
        for (int t = 0; t < tracks.Count; t++)
        {
            string timebase = streams[t].GetProperty("time_base").GetString()!;
            Assert.StartsWith("1/", timebase);
            long den = long.Parse(timebase[2..], CultureInfo.InvariantCulture);
            var expected = probed.Where(p => p.StreamIndex == t).Select(p => $"{Ticks(p.Dts, den)} {Ticks(p.Pts, den)} {p.Size} {p.Keyframe}").ToList();
            var actual = packets.Where(p => p.Track == t).Select(p => $"{p.Dts} {p.Pts} {p.Payload.Length} {p.IsKeyframe}").ToList();
            Assert.True(expected.Count > 0, $"track {t}: ffprobe shows no packets");
            Assert.Equal(expected, actual);
        }

        // Decode-time order across the tracks.
        for (int i = 1; i < packets.Count; i++)
        {
            Assert.True(packets[i].Dts >= packets[i - 1].Dts, $"packet {i}: dts {packets[i].Dts} after {packets[i - 1].Dts}");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Tracks_match_ffprobe(string name)
    {
        using var reader = Mp4FileReader.Open(File.OpenRead(Mp4Fixtures.Path(name)));
        Assert.Empty(reader.SkippedTracks);
        Assert.Equal(name is Mp4Fixtures.H264AacFragmented or Mp4Fixtures.H264AacFragmentedOffsets or Mp4Fixtures.H264AacIsmv, reader.IsFragmented);
        Ffprobe.AssertStreamsMatch(reader.Tracks, Ffprobe.Streams(Mp4Fixtures.Path(name)), (i, track, stream) =>
        {
            Assert.Equal(i, track.Index);
            var cp = track.CodecPrivate.Span;
            switch (track.Codec)
            {
                case CodecId.H264:
                    Assert.NotNull(AvcDecoderConfiguration.Parse(cp));
                    Assert.Equal(3600, track.DefaultDuration);
                    break;
                case CodecId.H265:
                    Assert.NotNull(HevcDecoderConfiguration.Parse(cp));
                    break;
                case CodecId.AAC:
                    Assert.NotNull(AudioSpecificConfig.Parse(cp));
                    break;
                case CodecId.Opus:
                    Assert.True(cp.StartsWith("OpusHead"u8));
                    Assert.Equal(312 * 1_000_000_000L / 48000, track.CodecDelayNs);
                    Assert.Equal(80_000_000, track.SeekPreRollNs);
                    break;
                default:
                    Assert.True(cp.IsEmpty, $"{track.Codec} has CodecPrivate");
                    break;
            }
        });
    }

    [Fact]
    public void Opus_track_is_described_as_the_Matroska_reader_describes_it()
    {
        // The same Opus stream in WebM, by ffmpeg's stream copy: the OpusHead, delay and rate must agree.
        string webm = System.IO.Path.Combine(Mp4Fixtures.TempDirectory, "opus-copy.webm");
        MediaTools.Ffmpeg("-i", Mp4Fixtures.Path(Mp4Fixtures.Opus), "-c", "copy", "-y", webm);
        var matroska = Feeder.Feed(new MatroskaDemuxer(), File.ReadAllBytes(webm), int.MaxValue).Tracks![0];
        var mp4 = Read(Mp4Fixtures.Opus).Tracks[0];

        Assert.Equal(Convert.ToHexString(matroska.CodecPrivate.Span), Convert.ToHexString(mp4.CodecPrivate.Span));
        Assert.Equal((matroska.SampleRate, matroska.Channels, matroska.CodecDelayNs, matroska.SeekPreRollNs), (mp4.SampleRate, mp4.Channels, mp4.CodecDelayNs, mp4.SeekPreRollNs));
    }

    [Fact]
    public void Moov_first_and_moov_last_give_the_same_packets()
    {
        var last = Read(Mp4Fixtures.H264Aac).Packets;
        var first = Read(Mp4Fixtures.H264AacFaststart).Packets;
        Assert.Equal(PacketRecorder.Describe(last), PacketRecorder.Describe(first));
    }

    [Fact]
    public void A_memory_stream_gives_the_same_packets_as_a_file_stream()
    {
        using var reader = Mp4FileReader.Open(new MemoryStream(Mp4Fixtures.Bytes(Mp4Fixtures.H264AacFragmented)));
        Assert.Equal(PacketRecorder.Describe(Read(Mp4Fixtures.H264AacFragmented).Packets), PacketRecorder.Describe(ReadAll(reader)));
    }

    [Theory]
    [InlineData(Mp4Fixtures.H264Aac)]
    [InlineData(Mp4Fixtures.H264AacFragmented)]
    [InlineData(Mp4Fixtures.H264AacIsmv)]
    [InlineData(Mp4Fixtures.H265Aac)]
    [InlineData(Mp4Fixtures.AacM4a)]
    public void Seeking_gives_the_keyframe_at_or_before_the_time(string name)
    {
        var all = Read(name).Packets;
        using var reader = Mp4FileReader.Open(File.OpenRead(Mp4Fixtures.Path(name)));
        int reference = reader.Tracks.ToList().FindIndex(t => t.Kind == MediaKind.Video) is var v and >= 0 ? v : 0;
        var keys = all.Where(p => p.Track == reference && p.IsKeyframe).Select(p => p.Pts).ToList();
        foreach (long time in new long[] { -90_000, 0, 45_000, 90_000, 93_600, 150_000, 179_000, 900_000 })
        {
            long expected = keys.Where(k => k <= time).DefaultIfEmpty(keys[0]).Max();
            Assert.Equal(expected, reader.SeekToKeyframe(time));
            var after = ReadAll(reader);
            var first = after.First(p => p.Track == reference);
            Assert.True(first.IsKeyframe && first.Pts == expected, $"seek to {time}: first packet {first}");
            // From there on, each track's packets are the file's own.
            for (int t = 0; t < reader.Tracks.Count; t++)
            {
                var rest = PacketRecorder.Describe(after.Where(p => p.Track == t));
                var tail = PacketRecorder.Describe(all.Where(p => p.Track == t)).TakeLast(rest.Count);
                Assert.Equal(tail, rest);
                Assert.True(t == reference || after.Where(p => p.Track == t).All(p => p.Pts >= expected));
            }

            reader.SeekToKeyframe(time);
        }
    }

    [Theory]
    [InlineData(Mp4Fixtures.H264Aac)]
    [InlineData(Mp4Fixtures.H264AacIsmv)]
    [InlineData(Mp4Fixtures.H265Aac)]
    public void Round_trip_through_MPEG_TS_and_Matroska_decodes_clean(string name)
    {
        var (tracks, packets) = Read(name);
        var ts = new MpegTsMuxer(tracks);
        string tsPath = System.IO.Path.Combine(Mp4Fixtures.TempDirectory, $"roundtrip-{name}.ts");
        File.WriteAllBytes(tsPath, MuxedOutput.Concat(ts.Header, packets.Select(ts.Write)));
        var mkv = new WebmMuxer(tracks);
        string mkvPath = System.IO.Path.Combine(Mp4Fixtures.TempDirectory, $"roundtrip-{name}.mkv");
        File.WriteAllBytes(mkvPath, MuxedOutput.Concat(mkv.Header, packets.Select(mkv.Write)));

        foreach (string path in new[] { tsPath, mkvPath })
        {
            Assert.Equal("", MediaTools.DecodeErrors(path));
            var probed = Ffprobe.Packets(path);
            for (int t = 0; t < tracks.Count; t++)
            {
                Assert.True(packets.Count(p => p.Track == t) == probed.Count(p => p.StreamIndex == t), $"{path} track {t}");
            }
        }
    }
}
