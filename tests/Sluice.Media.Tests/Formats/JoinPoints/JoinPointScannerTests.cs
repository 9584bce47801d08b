using System.Buffers.Binary;
using Sluice.Media.Codecs.Ac3;
using Sluice.Media.Formats;
using Sluice.Media.Formats.Asf;
using Sluice.Media.Formats.Mp4;
using Sluice.Media.Formats.MpegPs;
using Sluice.Media.Formats.Swf;
using Sluice.Media.Tests.Support;

namespace Sluice.Media.Tests.Formats.JoinPoints;

/// <summary>
/// The join-point scanners against what the real ffmpeg writes into a pipe (as it does for a stream): one table of
/// cases drives every test. The input is read whole, one byte at a time and in odd pieces, with the same units; every
/// join point but the first is one a viewer can start at: its header and the units from there decode without an error.
/// </summary>
public sealed class JoinPointScannerTests
{
    /// <summary>A format: ffmpeg's output options, the scanner, and whether the units are the input bytes unchanged.</summary>
    public sealed record Case(string Name, string[] Output, Func<JoinPointScanner> Scanner, bool Unchanged);

    private const int Seconds = 6;

    private static readonly Dictionary<string, Case> Cases = new[]
    {
        new Case("mpeg", ["-g", "25", "-b:v", "600k", "-f", "mpeg"], () => new MpegPsScanner(), Unchanged: false),
        new Case("mpeg-mp3", ["-g", "25", "-c:a", "libmp3lame", "-ar", "22050", "-f", "mpeg"], () => new MpegPsScanner(), Unchanged: false),
        new Case("mpeg-video", ["-g", "25", "-an", "-f", "mpeg"], () => new MpegPsScanner(), Unchanged: false),
        new Case("mpeg-audio", ["-vn", "-f", "mpeg"], () => new MpegPsScanner(), Unchanged: false),
        // AC-3 in private stream 1: at 48 kHz, 192 kbit/s (where ffmpeg ends a packet with a frame's first byte once), and
        // at 44.1 kHz, 640 kbit/s without video (frames of 2786 and 2788 bytes, so some packets start no frame).
        new Case("mpeg-ac3", ["-g", "25", "-c:a", "ac3", "-ar", "48000", "-b:a", "192k", "-f", "mpeg"], () => new MpegPsScanner(), Unchanged: false),
        new Case("mpeg-ac3-audio", ["-vn", "-c:a", "ac3", "-b:a", "640k", "-f", "mpeg"], () => new MpegPsScanner(), Unchanged: false),
        new Case("asf", ["-g", "25", "-f", "asf"], () => new AsfScanner(), Unchanged: true),
        new Case("asf-audio", ["-vn", "-f", "asf"], () => new AsfScanner(), Unchanged: true),
        new Case("swf", ["-g", "25", "-ar", "22050", "-f", "swf"], () => new SwfScanner(), Unchanged: true),
        new Case("swf-mjpeg", ["-c:v", "mjpeg", "-an", "-f", "swf"], () => new SwfScanner(), Unchanged: true),
        new Case("ismv", ["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "ismv"], () => new FragmentScanner(), Unchanged: true),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string> Names => [.. Cases.Keys];

    private static readonly TempFolder Folder = new("sluice-join-points");

    private static readonly FixtureCache<byte[]> Streams = new(name => MediaTools.Ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", $"{Seconds}", .. Cases[name].Output, "pipe:1"]));

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_piece_size_gives_the_same_header_and_units(string name)
    {
        var input = Streams.Get(name);
        var (header, whole) = Scan(name, input, input.Length);
        foreach (int piece in new[] { 1, 7, 4093 })
        {
            var (pieceHeader, units) = Scan(name, input, piece);
            Assert.Equal(header, pieceHeader);
            Assert.Equal(whole.Count, units.Count);
            Assert.True(whole.Zip(units).All(p => p.First.IsJoinPoint == p.Second.IsJoinPoint && p.First.Time == p.Second.Time && p.First.Bytes.Span.SequenceEqual(p.Second.Bytes.Span)), $"{name}: units differ with pieces of {piece} bytes");
        }

        var written = header.Concat(whole.SelectMany(u => u.Bytes.ToArray())).ToArray();
        if (Cases[name].Unchanged)
        {
            Assert.Equal(input, written);
        }
        else
        {
            // Split audio PES packets: a few bytes more, and the whole still decodes cleanly.
            Assert.InRange(written.Length, input.Length, input.Length + (64 * whole.Count(u => u.IsJoinPoint)));
            Assert.Equal("", Decode(name, "rewritten", written));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_viewer_that_starts_at_a_later_join_point_decodes_from_its_first_byte(string name)
    {
        var (header, units) = Scan(name, Streams.Get(name), 4093);
        var joins = units.Select((u, i) => (u, i)).Where(p => p.u.IsJoinPoint).Select(p => p.i).ToList();
        Assert.True(joins.Count >= Seconds - 2, $"{name}: {joins.Count} join points in {Seconds} s");
        foreach (int join in new[] { joins[1], joins[joins.Count / 2], joins[^2] }.Distinct())
        {
            var late = header.Concat(units.Skip(join).SelectMany(u => u.Bytes.ToArray())).ToArray();
            Assert.Equal("", Decode(name, $"from-{join}", late));
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void There_is_no_header_before_it_has_been_read_whole(string name)
    {
        var input = Streams.Get(name);
        var scanner = Cases[name].Scanner();
        var units = new List<ScannedUnit>();
        scanner.Write(input.AsSpan(0, 3), units);
        Assert.Null(scanner.Header);
        scanner.Write(input.AsSpan(3, 64 * 1024), units);
        Assert.NotNull(scanner.Header);
    }

    [Theory]
    [InlineData("mpeg")]
    [InlineData("mpeg-video")]
    [InlineData("mpeg-audio")]
    [InlineData("mpeg-ac3")]
    public void An_mpeg_join_point_starts_with_a_pack_header_and_the_stream_s_system_header(string name)
    {
        var input = Streams.Get(name);
        // ffmpeg writes the system header (00 00 01 BB) once, after the first pack header.
        int at = input.AsSpan().IndexOf((byte[])[0, 0, 1, 0xBB]);
        var system = input.AsSpan(at, 6 + BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(at + 4))).ToArray();
        var (_, units) = Scan(name, input, 4093);
        var joins = units.Where(u => u.IsJoinPoint).Skip(1).ToList();
        Assert.NotEmpty(joins);
        Assert.All(joins, j =>
        {
            var bytes = j.Bytes.Span;
            Assert.True(bytes[..4].SequenceEqual((byte[])[0, 0, 1, 0xBA]), "no pack header first");
            int pack = (bytes[4] & 0xF0) == 0x20 ? 12 : 14 + (bytes[13] & 0x07);
            Assert.True(bytes.Slice(pack, system.Length).SequenceEqual(system), "no system header after the pack header");
            if (name != "mpeg-audio")
            {
                // Then the video, from its sequence header (a player that types the stream by its first kilobytes
                // sees video in a system stream, not MPEG audio frames).
                var pes = bytes[(pack + system.Length)..];
                Assert.True(pes[3] is >= 0xE0 and <= 0xEF, $"a PES of stream 0x{pes[3]:X2} after the system header, not video");
                Assert.True(pes.IndexOf((byte[])[0, 0, 1, 0xB3]) > 0, "no sequence header in the join point's video");
            }
        });
    }

    [Theory]
    [InlineData("mpeg")]
    [InlineData("asf")]
    [InlineData("swf")]
    [InlineData("ismv")]
    public void Bytes_of_another_format_are_refused_with_the_offset(string name)
    {
        var other = Streams.Get(name == "asf" ? "swf" : "asf");
        var error = Assert.Throws<MediaFormatException>(() => Scan(name, other, other.Length));
        Assert.Equal(0, error.Offset);
    }

    [Theory]
    [InlineData("mpeg-ac3")]
    [InlineData("mpeg-ac3-audio")]
    public void Every_ac3_join_point_decodes_and_every_ac3_packet_s_substream_header_counts_its_frames(string name)
    {
        var input = Streams.Get(name);
        var (header, units) = Scan(name, input, 4093);
        var joins = units.Select((u, i) => (u, i)).Where(p => p.u.IsJoinPoint).Select(p => p.i).Skip(1).ToList();
        Assert.True(joins.Count >= Seconds - 2, $"{name}: {joins.Count} join points in {Seconds} s");
        foreach (int join in joins)
        {
            var late = header.Concat(units.Skip(join).SelectMany(u => u.Bytes.ToArray())).ToArray();
            Assert.Equal("", Decode(name, $"every-{join}", late));
            // The join point's audio starts on a frame: its first AC-3 packet says so.
            var first = Ac3Packets(late).First();
            Assert.Equal((first.Frames > 0, 1), (true, first.Pointer));
            Assert.True(first.Data.AsSpan().StartsWith((byte[])[0x0B, 0x77]), "the first AC-3 packet does not start with a sync frame");
        }

        // ffmpeg's own packets and the split ones alike: the frames that start in a packet (walking the frames from the
        // first), and the offset of the first one from the pointer's last byte (where the next begins, for none).
        foreach (var bytes in new[] { input, header.Concat(units.SelectMany(u => u.Bytes.ToArray())).ToArray() })
        {
            long frameStart = 0, position = 0;
            var packets = Ac3Packets(bytes).ToList();
            var stream = packets.SelectMany(p => p.Data).ToArray();
            foreach (var packet in packets)
            {
                int frames = 0;
                long firstFrame = frameStart;
                while (frameStart < position + packet.Data.Length)
                {
                    Assert.True(Ac3SyncInfo.TryParse(stream.AsSpan((int)frameStart), out var sync), $"no AC-3 sync frame at {frameStart}");
                    frames++;
                    frameStart += sync.FrameLength;
                }

                Assert.Equal((frames, (int)(firstFrame - position) + 1), (packet.Frames, packet.Pointer));
                position += packet.Data.Length;
            }
        }

        // ffmpeg's reader times every frame as in ffmpeg's own packets, from the same first to the same last, and none
        // takes another's time stamp (as in ffmpeg's own output, where a frame header is cut in two by a packet's end:
        // the 48 kHz case has one).
        var rewritten = header.Concat(units.SelectMany(u => u.Bytes.ToArray())).ToArray();
        var (original, times) = (AudioTimes(name, "original", input), AudioTimes(name, "rewritten", rewritten));
        Assert.Equal((original.Count, original[0], original[^1]), (times.Count, times[0], times[^1]));
        Assert.True(times.Zip(times.Skip(1)).All(p => p.Second > p.First), $"{name}: audio times do not rise: {string.Join(", ", times)}");
    }

    private static List<long> AudioTimes(string name, string part, byte[] bytes)
    {
        string path = Folder.File($"{name}-{part}-times.mpg");
        File.WriteAllBytes(path, bytes);
        int audio = Ffprobe.Streams(path).First(s => s.GetProperty("codec_type").GetString() == "audio").GetProperty("index").GetInt32();
        return [.. Ffprobe.Packets(path).Where(p => p.StreamIndex == audio).Select(p => p.Pts)];
    }

    [Fact]
    public void An_ac3_sync_frame_gives_its_rate_and_length()
    {
        // fscod 0 (48 kHz) frmsizecod 20 (192 kbit/s): 384 words; fscod 1 (44.1 kHz) frmsizecod 21: 417 + 1 words; bsid 8.
        Assert.True(Ac3SyncInfo.TryParse([0x0B, 0x77, 0, 0, 0x14, 0x40], out var at48));
        Assert.Equal(new Ac3SyncInfo(48000, 768), at48);
        Assert.True(Ac3SyncInfo.TryParse([0x0B, 0x77, 0, 0, 0x55, 0x40], out var at44));
        Assert.Equal(new Ac3SyncInfo(44100, 836), at44);
        Assert.True(Ac3SyncInfo.TryParse([0x0B, 0x77, 0, 0, 0x80 | 37, 0x40], out var at32));
        Assert.Equal(new Ac3SyncInfo(32000, 3840), at32);
        Assert.False(Ac3SyncInfo.TryParse([0x0B, 0x77, 0, 0, 0xC0, 0x40], out _)); // fscod 3: reserved
        Assert.False(Ac3SyncInfo.TryParse([0x0B, 0x77, 0, 0, 38, 0x40], out _)); // frmsizecod 38
        Assert.False(Ac3SyncInfo.TryParse([0x0B, 0x77, 0, 0, 0x14, 16 << 3], out _)); // E-AC-3
        Assert.False(Ac3SyncInfo.TryParse([0x0B, 0x78, 0, 0, 0x14, 0x40], out _));
    }

    [Theory]
    [InlineData("mpeg", false)]
    [InlineData("mpeg-ac3", false)]
    [InlineData("asf", false)]
    [InlineData("swf", true)]
    [InlineData("ismv", true)]
    public void Units_carry_the_media_time_of_the_format_and_join_points_are_a_gop_apart(string name, bool exact)
    {
        // 25 fps with a GOP of 25 frames: a join point a second; SWF's frame index and the fragments' decode times are
        // exact, a pack's SCR and an ASF packet's send time are the multiplex's, a little ahead of or behind the frames.
        var (_, units) = Scan(name, Streams.Get(name), 4093);
        var joins = units.Where(u => u.IsJoinPoint).Select(u => u.Time ?? -1).ToList();
        string all = string.Join(", ", joins);
        Assert.True(joins.Count >= Seconds - 1 && joins.All(t => t >= 0), $"{name}: join point times {all}");
        foreach (var (earlier, later) in joins.Zip(joins.Skip(1)))
        {
            long step = later - earlier;
            Assert.True(exact ? step == MediaTime.TicksPerSecond : step > MediaTime.TicksPerSecond * 6 / 10 && step < MediaTime.TicksPerSecond * 14 / 10, $"{name}: join point times {all}");
        }

        if (exact)
        {
            Assert.Equal(0, joins[0]);
        }

        // Every unit that has a time is within the stream's duration, and the last of them near its end.
        var times = units.Where(u => u.Time is not null).Select(u => u.Time!.Value).ToList();
        Assert.True(times.Count >= units.Count / 2, $"{name}: {times.Count} of {units.Count} units have a time");
        Assert.InRange(times.Max(), (Seconds - 1.5) * MediaTime.TicksPerSecond, (Seconds + 1) * MediaTime.TicksPerSecond);
        Assert.InRange(times.Min(), -MediaTime.TicksPerSecond / 10, MediaTime.TicksPerSecond);
    }

    [Fact]
    public void A_swf_of_a_video_codec_whose_key_frames_are_not_read_is_refused_at_the_codec_byte()
    {
        // ffmpeg's swf muxer takes VP6 (vp6f) only from a copy, and ffmpeg has no VP6 encoder: the codec byte of a real
        // stream's DefineVideoStream (tag 60) is set to 4, VP6.
        var swf = Streams.Get("swf").ToArray();
        int tag = swf.AsSpan().IndexOf((byte[])[0x0A, 0x0F]); // RECORDHEADER code 60, length 10 (60 << 6 | 10, little-endian)
        Assert.True(tag > 0);
        swf[tag + 2 + 9] = 4;
        var error = Assert.Throws<MediaFormatException>(() => Scan("swf", swf, swf.Length));
        Assert.Equal(tag + 2 + 9, error.Offset);
        Assert.Contains("DefineVideoStream of codec 4", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sorenson_picture_header_says_whether_it_is_intra()
    {
        // 17-bit start code, version 0, temporal reference 5, size 2 (CIF), then type 0 (intra) or 1 (inter).
        Assert.True(SwfScanner.IsIntra([0x00, 0x00, 0x80, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00]));
        Assert.False(SwfScanner.IsIntra([0x00, 0x00, 0x80, 0x01, 0x24, 0x00, 0x00, 0x00, 0x00]));
        Assert.False(SwfScanner.IsIntra([0x00, 0x01, 0x80, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00]));
    }

    [Fact]
    public void The_first_audio_frame_of_a_payload_is_the_one_the_next_header_confirms()
    {
        // MPEG-1 layer II, 128 kbit/s, 48 kHz: 384-byte frames. A false sync in the tail of the previous frame comes first.
        byte[] frame = [0xFF, 0xFD, 0x84, 0x00];
        var payload = new byte[100 + (384 * 2)];
        payload[10] = 0xFF;
        payload[11] = 0xFD;
        payload[12] = 0x88; // 32 kHz
        frame.CopyTo(payload, 100);
        frame.CopyTo(payload, 100 + 384);
        Assert.Equal(100, MpegPsScanner.FrameStart(payload));
        Assert.Equal(-1, MpegPsScanner.FrameStart(new byte[500]));

        // Once the stream's layer and rate are known, a header of another rate is no frame start, and one of them
        // whose frame runs past the payload is taken.
        Assert.Equal(-1, MpegPsScanner.FrameStart(payload, layer: 2, sampleRate: 44100));
        Assert.Equal(100, MpegPsScanner.FrameStart(payload.AsSpan(0, 300), layer: 2, sampleRate: 48000));
    }

    /// <summary>The AC-3 packets of a program stream, in order: the sub-stream header's frame count and pointer, and the frames' bytes.</summary>
    private static IEnumerable<(int Frames, int Pointer, byte[] Data)> Ac3Packets(byte[] stream)
    {
        for (int at = 0; at + 4 <= stream.Length;)
        {
            byte id = stream[at + 3];
            int length = id switch
            {
                0xBA => (stream[at + 4] & 0xC0) == 0x40 ? 14 + (stream[at + 13] & 7) : 12,
                0xB9 => 4,
                _ => 6 + BinaryPrimitives.ReadUInt16BigEndian(stream.AsSpan(at + 4)),
            };
            if (id == 0xBD)
            {
                // MPEG-1 PES header: stuffing, STD buffer, then a PTS (0x2_), PTS and DTS (0x3_) or none (0x0F).
                int p = at + 6;
                while (stream[p] == 0xFF)
                {
                    p++;
                }

                p += (stream[p] & 0xC0) == 0x40 ? 2 : 0;
                p += (stream[p] & 0xF0) switch { 0x20 => 5, 0x30 => 10, _ => 1 };
                yield return (stream[p + 1], BinaryPrimitives.ReadUInt16BigEndian(stream.AsSpan(p + 2)), stream[(p + 4)..(at + length)]);
            }

            at += length;
        }
    }

    private static (byte[] Header, List<ScannedUnit> Units) Scan(string name, byte[] input, int piece)
    {
        var scanner = Cases.TryGetValue(name, out var found) ? found.Scanner() : throw new ArgumentException(name);
        var units = new List<ScannedUnit>();
        for (int at = 0; at < input.Length; at += piece)
        {
            scanner.Write(input.AsSpan(at, Math.Min(piece, input.Length - at)), units);
        }

        scanner.Complete(units);
        Assert.NotNull(scanner.Header);
        return (scanner.Header!.Value.ToArray(), units);
    }

    private static string Decode(string name, string part, byte[] bytes)
    {
        string path = Folder.File($"{name}-{part}.{(name.StartsWith("ismv", StringComparison.Ordinal) ? "ismv" : name.Split('-')[0])}");
        File.WriteAllBytes(path, bytes);
        return MediaTools.DecodeErrors(path);
    }
}
