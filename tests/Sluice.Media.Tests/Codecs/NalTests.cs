using Sluice.Media.Codecs;
using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Codecs;

/// <summary>Annex B, length-prefixed NAL units and the H.264 / H.265 parameter sets, against ffmpeg's own output.</summary>
public sealed class NalTests
{
    public static TheoryData<string> VideoCases => CodecFixtures.VideoCases;

    internal static (TrackInfo Track, List<MediaPacket> Packets) ReadMkv(string path)
    {
        var recorder = Feeder.Feed(new MatroskaDemuxer(), File.ReadAllBytes(path), int.MaxValue);
        return (recorder.Tracks![0], recorder.Packets);
    }

    private static List<byte[]> NalUnits(ReadOnlySpan<byte> annexB)
    {
        var list = new List<byte[]>();
        foreach (var nal in AnnexB.EnumerateNalUnits(annexB))
        {
            list.Add(nal.ToArray());
        }

        return list;
    }

    private static List<byte[]> LengthPrefixedNalUnits(ReadOnlySpan<byte> data, int lengthSize)
    {
        var list = new List<byte[]>();
        foreach (var nal in LengthPrefixed.EnumerateNalUnits(data, lengthSize))
        {
            list.Add(nal.ToArray());
        }

        return list;
    }

    private static List<byte[]> OfType(List<byte[]> nals, CodecId codec, int type) =>
        [.. nals.Where(n => codec == CodecId.H264 ? (int)H264Nal.TypeOf(n) == type : (int)H265Nal.TypeOf(n) == type)];

    [Fact]
    public void Start_codes_of_three_and_four_bytes_and_trailing_zeros()
    {
        byte[] data = [0xAA, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 0, 0, 3, 1, 0, 0];
        var nals = NalUnits(data);
        Assert.Equal(["67 01 02", "68 03", "65 00 00 03 01"], nals.Select(n => Convert.ToHexString(n).Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + " " + b)));
        Assert.Equal(3, AnnexB.CountNalUnits(data));
        Assert.Equal(0, AnnexB.CountNalUnits([1, 2, 3, 0, 0]));
        Assert.True(AnnexB.StartsWithStartCode([0, 0, 1, 9]));
        Assert.True(AnnexB.StartsWithStartCode([0, 0, 0, 1, 9]));
        Assert.False(AnnexB.StartsWithStartCode([0, 1, 9]));
    }

    [Fact]
    public void A_start_code_is_found_from_a_position_on_with_its_leading_zero_only_inside_the_range()
    {
        byte[] data = [1, 0, 1, 0, 0, 0, 1, 7, 1, 1, 0, 0, 1, 8, 0, 0];
        Assert.Equal(3, AnnexB.FindStartCode(data, 0, out int length));  // 00 00 00 01: the leading zero counts
        Assert.Equal(4, length);
        Assert.Equal(4, AnnexB.FindStartCode(data, 4, out length));      // from inside it: the zero before is not ours
        Assert.Equal(3, length);
        Assert.Equal(10, AnnexB.FindStartCode(data, 5, out length));     // a lone 01 is no start code
        Assert.Equal(3, length);
        Assert.Equal(-1, AnnexB.FindStartCode(data, 11, out length));    // 00 01 and a trailing 00 00: none
        Assert.Equal(0, length);
        Assert.Equal(-1, AnnexB.FindStartCode(data, data.Length, out _));
        Assert.Equal(-1, AnnexB.FindStartCode(data, data.Length + 1, out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Length_prefixed_and_back(int lengthSize)
    {
        byte[] data = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 0, 0, 3, 1];
        byte[] prefixed = AnnexB.ToLengthPrefixed(data, lengthSize);
        Assert.Equal(3 * lengthSize + 3 + 2 + 5, prefixed.Length);
        Assert.True(LengthPrefixed.IsWellFormed(prefixed, lengthSize));
        Assert.Equal(NalUnits(data).Select(Convert.ToHexString), LengthPrefixedNalUnits(prefixed, lengthSize).Select(Convert.ToHexString));

        byte[] back = AnnexB.FromLengthPrefixed(prefixed, lengthSize);
        Assert.Equal("000000016701020000000168030000000165000003 01".Replace(" ", ""), Convert.ToHexString(back));
    }

    [Fact]
    public void Damaged_lengths_are_refused()
    {
        byte[] bad = [0, 0, 0, 5, 0x65, 1];
        Assert.False(LengthPrefixed.IsWellFormed(bad));
        Assert.Equal(-1, AnnexB.AnnexBSize(bad));
        Assert.Throws<ArgumentException>(() => AnnexB.FromLengthPrefixed(bad));
        Assert.Empty(LengthPrefixedNalUnits(bad, 4));
        byte[] big = new byte[303];
        big.AsSpan(3).Fill(7);
        big[2] = 1;
        Assert.Throws<ArgumentException>(() => AnnexB.ToLengthPrefixed(big, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AnnexB.ToLengthPrefixed([0, 0, 1, 5], 3));
    }

    [Fact]
    public void Emulation_prevention_bytes_are_removed()
    {
        Assert.Equal("000001000000020000000000", Convert.ToHexString(Rbsp.RemoveEmulationPrevention([0, 0, 3, 1, 0, 0, 3, 0, 2, 0, 0, 3, 0, 0, 0])));
        Assert.Equal("0000", Convert.ToHexString(Rbsp.RemoveEmulationPrevention([0, 0, 3])));
        Assert.Equal("00030000", Convert.ToHexString(Rbsp.RemoveEmulationPrevention([0, 3, 0, 0])));
    }

    [Theory]
    [MemberData(nameof(VideoCases))]
    public void Sps_gives_the_size_ffprobe_reports(string name)
    {
        var c = CodecFixtures.Get(name);
        var (_, raw) = CodecFixtures.Files(c);
        var nals = NalUnits(File.ReadAllBytes(raw));
        var stream = Ffprobe.Streams(raw)[0];
        Assert.Equal(c.Width, stream.GetProperty("width").GetInt32());
        Assert.Equal(c.Height, stream.GetProperty("height").GetInt32());
        if (c.Codec == CodecId.H264)
        {
            var sps = H264Sps.Parse(OfType(nals, c.Codec, (int)H264NalType.Sps)[0])!;
            Assert.NotNull(sps);
            Assert.Equal((c.Width, c.Height), (sps.Width, sps.Height));
            Assert.Equal(c.Name.Contains("interlaced"), !sps.FrameMbsOnly);
            Assert.Equal(c.Name.Contains("444") ? 3 : c.Name.Contains("422") ? 2 : 1, sps.ChromaFormatIdc);
            Assert.Equal(c.Name.Contains("10") ? 10 : 8, sps.BitDepthLuma);
            Assert.Equal(TracedReorderDepth(raw, "max_num_reorder_frames") ?? (sps.ProfileIdc == 66 ? 0 : null), sps.MaxNumReorderFrames);
        }
        else
        {
            var sps = H265Sps.Parse(OfType(nals, c.Codec, (int)H265NalType.Sps)[0])!;
            Assert.NotNull(sps);
            Assert.Equal((c.Width, c.Height), (sps.Width, sps.Height));
            Assert.Equal(c.Name.Contains("444") ? 3 : 1, sps.ChromaFormatIdc);
            Assert.Equal(c.Name.Contains("10") ? 10 : 8, sps.BitDepthLuma);
            Assert.Equal(TracedReorderDepth(raw, "sps_max_num_reorder_pics"), sps.MaxNumReorderPics);
        }
    }

    /// <summary>The reordering depth ffmpeg's trace_headers reads from the stream's first SPS, or null when it has none.</summary>
    private static int? TracedReorderDepth(string raw, string field)
    {
        var traced = MediaTools.Run("ffmpeg", ["-hide_banner", "-v", "trace", "-i", raw, "-c", "copy", "-bsf:v", "trace_headers", "-frames:v", "1", "-f", "null", "-"]);
        var line = traced.Stderr.Split('\n').FirstOrDefault(l => l.Contains(" " + field, StringComparison.Ordinal));
        return line is null ? null : int.Parse(line[(line.LastIndexOf('=') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [MemberData(nameof(VideoCases))]
    public void Decoder_configuration_built_from_the_parameter_sets_matches_ffmpegs(string name)
    {
        var c = CodecFixtures.Get(name);
        var (mkv, raw) = CodecFixtures.Files(c);
        var nals = NalUnits(File.ReadAllBytes(raw));
        var (track, _) = ReadMkv(mkv);
        if (c.Codec == CodecId.H264)
        {
            var ffmpegs = AvcDecoderConfiguration.Parse(track.CodecPrivate.Span)!;
            Assert.NotNull(ffmpegs);
            var sps = OfType(nals, c.Codec, (int)H264NalType.Sps).Take(1).ToList();
            var pps = OfType(nals, c.Codec, (int)H264NalType.Pps).Take(1).ToList();
            Assert.Equal(ffmpegs.Sps.Select(Convert.ToHexString), sps.Select(Convert.ToHexString));
            Assert.Equal(ffmpegs.Pps.Select(Convert.ToHexString), pps.Select(Convert.ToHexString));

            byte[] built = AvcDecoderConfiguration.Build(sps, pps);
            // ffmpeg 5.1 writes the High profile extension bytes too; the common part is identical.
            Assert.Equal(Convert.ToHexString(track.CodecPrivate.Span[..Math.Min(built.Length, track.CodecPrivate.Length)]), Convert.ToHexString(built.AsSpan(0, Math.Min(built.Length, track.CodecPrivate.Length))));
            var back = AvcDecoderConfiguration.Parse(built)!;
            Assert.Equal(4, back.LengthSize);
            Assert.Equal(4, AvcDecoderConfiguration.ReadLengthSize(built));
            Assert.Equal((ffmpegs.ProfileIdc, ffmpegs.ProfileCompatibility, ffmpegs.LevelIdc), (back.ProfileIdc, back.ProfileCompatibility, back.LevelIdc));
            Assert.Equal(sps.Select(Convert.ToHexString), back.Sps.Select(Convert.ToHexString));
            Assert.Equal(pps.Select(Convert.ToHexString), back.Pps.Select(Convert.ToHexString));
            var parsed = H264Sps.Parse(sps[0])!;
            if (H264Sps.HasChromaInfo(parsed.ProfileIdc))
            {
                Assert.Equal(parsed.ChromaFormatIdc, back.ChromaFormat);
                Assert.Equal(parsed.BitDepthLuma, back.BitDepthLuma);
            }
        }
        else
        {
            var ffmpegs = HevcDecoderConfiguration.Parse(track.CodecPrivate.Span)!;
            Assert.NotNull(ffmpegs);
            var vps = OfType(nals, c.Codec, (int)H265NalType.Vps).Take(1).ToList();
            var sps = OfType(nals, c.Codec, (int)H265NalType.Sps).Take(1).ToList();
            var pps = OfType(nals, c.Codec, (int)H265NalType.Pps).Take(1).ToList();
            Assert.Equal(ffmpegs.Vps.Select(Convert.ToHexString), vps.Select(Convert.ToHexString));
            Assert.Equal(ffmpegs.Sps.Select(Convert.ToHexString), sps.Select(Convert.ToHexString));
            Assert.Equal(ffmpegs.Pps.Select(Convert.ToHexString), pps.Select(Convert.ToHexString));

            byte[] built = HevcDecoderConfiguration.Build(vps, sps, pps);
            var back = HevcDecoderConfiguration.Parse(built)!;
            Assert.Equal(4, back.LengthSize);
            Assert.Equal(4, HevcDecoderConfiguration.ReadLengthSize(built));
            Assert.Equal(
                (ffmpegs.GeneralProfileSpace, ffmpegs.GeneralTier, ffmpegs.GeneralProfileIdc, ffmpegs.GeneralProfileCompatibility, ffmpegs.GeneralConstraintFlags, ffmpegs.GeneralLevelIdc),
                (back.GeneralProfileSpace, back.GeneralTier, back.GeneralProfileIdc, back.GeneralProfileCompatibility, back.GeneralConstraintFlags, back.GeneralLevelIdc));
            Assert.Equal((ffmpegs.ChromaFormat, ffmpegs.BitDepthLuma, ffmpegs.BitDepthChroma, ffmpegs.TemporalIdNested, ffmpegs.NumTemporalLayers),
                (back.ChromaFormat, back.BitDepthLuma, back.BitDepthChroma, back.TemporalIdNested, back.NumTemporalLayers));
            Assert.Equal(vps.Select(Convert.ToHexString), back.Vps.Select(Convert.ToHexString));
            Assert.Equal(sps.Select(Convert.ToHexString), back.Sps.Select(Convert.ToHexString));
            Assert.Equal(pps.Select(Convert.ToHexString), back.Pps.Select(Convert.ToHexString));
        }
    }

    [Theory]
    [MemberData(nameof(VideoCases))]
    public void Keyframes_found_in_the_bitstream_match_ffmpegs_flags(string name)
    {
        var c = CodecFixtures.Get(name);
        var (mkv, _) = CodecFixtures.Files(c);
        var (_, packets) = ReadMkv(mkv);
        Assert.Contains(packets, p => !p.IsKeyframe);
        foreach (var packet in packets)
        {
            bool key = c.Codec == CodecId.H264 ? H264Nal.IsKeyframe(packet.Payload.Span) : H265Nal.IsKeyframe(packet.Payload.Span);
            Assert.True(packet.IsKeyframe == key, $"{packet}: the bitstream says keyframe {key}");
        }
    }

    [Theory]
    [MemberData(nameof(VideoCases))]
    public void Packets_go_to_annex_b_and_back_unchanged(string name)
    {
        var c = CodecFixtures.Get(name);
        var (mkv, raw) = CodecFixtures.Files(c);
        var (_, packets) = ReadMkv(mkv);
        var all = new List<byte[]>();
        foreach (var packet in packets)
        {
            byte[] annexB = AnnexB.FromLengthPrefixed(packet.Payload.Span);
            Assert.True(AnnexB.StartsWithStartCode(annexB));
            Assert.Equal(Convert.ToHexString(packet.Payload.Span), Convert.ToHexString(AnnexB.ToLengthPrefixed(annexB)));
            all.AddRange(LengthPrefixedNalUnits(packet.Payload.Span, 4));
        }

        // The raw stream ffmpeg wrote is the same NAL units with the parameter sets (and for H.265 the SEI of
        // the hvcC) put in front of keyframes.
        var (track, _) = ReadMkv(mkv);
        var inConfig = c.Codec == CodecId.H265
            ? HevcDecoderConfiguration.Parse(track.CodecPrivate.Span)!.Other.Select(Convert.ToHexString).ToHashSet()
            : [];
        bool IsParameterSet(byte[] nal) => c.Codec == CodecId.H264
            ? H264Nal.TypeOf(nal) is H264NalType.Sps or H264NalType.Pps
            : H265Nal.TypeOf(nal) is H265NalType.Vps or H265NalType.Sps or H265NalType.Pps || inConfig.Contains(Convert.ToHexString(nal));
        var rawNals = NalUnits(File.ReadAllBytes(raw));
        Assert.Equal(all.Where(n => !IsParameterSet(n)).Select(Convert.ToHexString), rawNals.Where(n => !IsParameterSet(n)).Select(Convert.ToHexString));
    }

    [Fact]
    public void Damaged_parameter_sets_give_null()
    {
        Assert.Null(H264Sps.Parse([0x67, 0x64]));
        Assert.Null(H264Sps.Parse([0x68, 1, 2, 3, 4, 5]));
        Assert.Null(H265Sps.Parse([0x42, 0x01, 1, 2]));
        Assert.Null(AvcDecoderConfiguration.Parse([1, 0x64, 0, 0x1F, 0xFF, 0xE1, 0, 50, 0x67]));
        Assert.Null(HevcDecoderConfiguration.Parse(new byte[22]));
        Assert.Throws<ArgumentException>(() => AvcDecoderConfiguration.Build([], [[0x68, 1]]));
        Assert.Throws<ArgumentException>(() => HevcDecoderConfiguration.Build([[0x40, 1, 1]], [[0x42, 1, 1]], [[0x44, 1, 1]]));
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            byte[] junk = new byte[random.Next(1, 64)];
            random.NextBytes(junk);
            junk[0] = i % 2 == 0 ? (byte)0x67 : (byte)0x42;
            _ = H264Sps.Parse(junk);
            _ = H265Sps.Parse(junk);
            _ = AvcDecoderConfiguration.Parse(junk);
            _ = HevcDecoderConfiguration.Parse(junk);
        }
    }
}
