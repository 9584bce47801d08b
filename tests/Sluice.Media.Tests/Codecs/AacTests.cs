using Sluice.Media.Codecs.Aac;

namespace Sluice.Media.Tests.Codecs;

/// <summary>ADTS headers and AudioSpecificConfig, against the real ffmpeg's AAC encoder.</summary>
public sealed class AacTests
{
    public static TheoryData<string> AudioCases => CodecFixtures.AudioCases;

    [Theory]
    [MemberData(nameof(AudioCases))]
    public void Adts_frames_carry_the_packets_and_the_config_of_ffmpegs_matroska(string name)
    {
        var c = CodecFixtures.Get(name);
        var (mkv, raw) = CodecFixtures.Files(c);
        var (track, packets) = NalTests.ReadMkv(mkv);
        byte[] adts = File.ReadAllBytes(raw);

        var asc = AudioSpecificConfig.Parse(track.CodecPrivate.Span)!;
        Assert.NotNull(asc);
        Assert.Equal((track.SampleRate, track.Channels), (asc.SampleRate, asc.Channels));
        Assert.Equal((track.SampleRate, track.Channels), AudioSpecificConfig.ReadRateAndChannels(track.CodecPrivate.Span));
        Assert.Equal(AudioSpecificConfig.AacLc, asc.ObjectType);

        int at = 0;
        int frame = 0;
        while (at < adts.Length)
        {
            Assert.True(AdtsHeader.TryParse(adts.AsSpan(at), out var header), $"no ADTS header at {at}");
            Assert.Equal(track.SampleRate, header.SampleRate);
            Assert.Equal(track.Channels, header.Channels);
            Assert.Equal(1, header.RawDataBlocks);
            Assert.Equal(Convert.ToHexString(packets[frame].Payload.Span), Convert.ToHexString(adts.AsSpan(at + header.HeaderLength, header.PayloadLength)));

            // Our header for the same frame is the same bytes but for the buffer fullness ffmpeg fills in.
            byte[] ours = new byte[AdtsHeader.Size];
            header.Write(ours, header.PayloadLength);
            Assert.True(AdtsHeader.TryParse(ours, out var back));
            Assert.Equal(header with { BufferFullness = 0x7FF }, back);

            // The config built from the header is the first part of ffmpeg's (which adds a sync extension).
            byte[] built = header.ToAudioSpecificConfig();
            Assert.Equal(Convert.ToHexString(track.CodecPrivate.Span[..2]), Convert.ToHexString(built));
            at += header.FrameLength;
            frame++;
        }

        Assert.Equal(adts.Length, at);
        Assert.Equal(packets.Count, frame);
    }

    [Theory]
    [InlineData(2, 44100, 2, "1210")]
    [InlineData(2, 48000, 1, "1188")]
    [InlineData(2, 22050, 6, "13B0")]
    [InlineData(1, 7350, 2, "0E10")]
    [InlineData(2, 50000, 2, "178061A810")]
    public void Audio_specific_config_round_trip(int objectType, int rate, int channelConfig, string hex)
    {
        var asc = new AudioSpecificConfig(objectType, rate, channelConfig);
        Assert.Equal(hex, Convert.ToHexString(asc.ToBytes()));
        Assert.Equal(asc, AudioSpecificConfig.Parse(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Explicit_sbr_signalling_gives_the_output_rate()
    {
        // HE-AAC: object type 5, 24000 Hz core, stereo, extension 48000 Hz, core object type 2.
        var asc = AudioSpecificConfig.Parse(Convert.FromHexString("2B118800"))!;
        Assert.Equal(5, asc.ObjectType);
        Assert.Equal(24000, asc.SampleRate);
        Assert.Equal(48000, asc.OutputSampleRate);
        Assert.Equal(2, asc.CoreObjectType);
        Assert.Equal(2, asc.Channels);
    }

    [Fact]
    public void Damaged_headers_and_configs_are_refused()
    {
        Assert.False(AdtsHeader.TryParse([0xFF, 0xF1, 0x50, 0x80], out _));
        Assert.False(AdtsHeader.TryParse([0xFF, 0xF7, 0x50, 0x80, 0, 0x1F, 0xFC], out _)); // layer 3
        Assert.False(AdtsHeader.TryParse([0xFF, 0xF1, 0x7C, 0x80, 0x10, 0x1F, 0xFC], out _)); // rate index 15
        Assert.False(AdtsHeader.TryParse([0xFF, 0xF1, 0x50, 0x80, 0, 0x1F, 0xFC], out _)); // frame length 0
        Assert.Null(AudioSpecificConfig.Parse([0x12]));
        Assert.Null(AudioSpecificConfig.Parse([0x16, 0x80])); // rate index 13
        Assert.Throws<ArgumentException>(() => AdtsHeader.Write(new byte[7], 2, 4, 2, 9000));
        Assert.Throws<ArgumentException>(() => AdtsHeader.Write(new byte[7], 5, 4, 2, 100));
        Assert.Equal(-1, AacSampleRates.IndexOf(50000));
        Assert.Equal(8, AacSampleRates.ChannelsOf(7));
    }
}
