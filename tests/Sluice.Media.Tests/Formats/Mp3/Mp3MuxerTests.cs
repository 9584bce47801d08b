using System.Globalization;
using System.Runtime.InteropServices;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Mp3;

namespace Sluice.Media.Tests.Formats.Mp3;

public sealed class Mp3MuxerTests
{
    public static TheoryData<string, int> Sources => new()
    {
        { MuxerSources.Mp3, 1152 },   // MPEG-1 layer III
        { MuxerSources.Mp3Low, 576 }, // MPEG-2 layer III
    };

    private static readonly TrackInfo Mp3 = new() { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.MP3, SampleRate = 44100, Channels = 2 };

    [Fact]
    public void A_chunk_is_the_frame_itself_and_every_frame_is_a_join_point()
    {
        var muxer = new Mp3Muxer([Mp3]);
        var packet = new MediaPacket(0, 0, 0, true, new byte[] { 0xFF, 0xFB, 0x90, 0x00 });
        var chunk = muxer.Write(packet);

        Assert.Equal("audio/mpeg", muxer.ContentType);
        Assert.True(muxer.Header.IsEmpty);
        Assert.True(chunk.Prefix.IsEmpty);
        Assert.True(chunk.IsJoinPoint);
        Assert.True(MemoryMarshal.TryGetArray(chunk.Payload, out var a));
        Assert.True(MemoryMarshal.TryGetArray(packet.Payload, out var b));
        Assert.Same(b.Array, a.Array);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Ffprobe_finds_the_same_frames_and_durations_and_ffmpeg_decodes_them(string name, int samplesPerFrame)
    {
        var source = Feeder.Feed(new MatroskaDemuxer(), MuxerSources.Bytes(name), int.MaxValue);
        var track = source.Tracks!.Single();
        var muxer = new Mp3Muxer(source.Tracks!);
        var chunks = source.Packets.Select(muxer.Write).ToList();
        string path = MuxerSources.Output($"{name}.mp3");
        File.WriteAllBytes(path, MuxedOutput.Concat(muxer.Header, chunks));

        Assert.Equal("", MediaTools.DecodeErrors(path));
        var stream = Ffprobe.Streams(path).Single();
        Assert.Equal("mp3", stream.GetProperty("codec_name").GetString());
        Assert.Equal(track.SampleRate.ToString(CultureInfo.InvariantCulture), stream.GetProperty("sample_rate").GetString());
        Assert.Equal(track.Channels, stream.GetProperty("channels").GetInt32());

        var json = MediaTools.Ffprobe("-show_entries", "packet=pts_time,duration_time,size", "-show_packets", path);
        var packets = json.GetProperty("packets").EnumerateArray().ToList();
        Assert.Equal(source.Packets.Select(p => p.Payload.Length), packets.Select(p => int.Parse(p.GetProperty("size").GetString()!, CultureInfo.InvariantCulture)));
        double frame = (double)samplesPerFrame / track.SampleRate;
        Assert.All(packets, p => Assert.Equal(frame, Seconds(p.GetProperty("duration_time")), 6));
        long first = source.Packets[0].Pts;
        for (int k = 0; k < packets.Count; k++)
        {
            double ours = Seconds(packets[k].GetProperty("pts_time")) * 90_000;
            Assert.True(Math.Abs(ours - (source.Packets[k].Pts - first)) <= 90, $"frame {k}: {ours / 90_000} s, source {(source.Packets[k].Pts - first) / 90_000.0} s");
        }

        // a listener joining at any frame
        string later = MuxerSources.Output($"join-{name}.mp3");
        File.WriteAllBytes(later, MuxedOutput.Concat(muxer.Header, chunks.Skip(chunks.Count / 2)));
        Assert.Equal("", MediaTools.DecodeErrors(later));
    }

    [Fact]
    public void Only_one_MP3_track_is_accepted()
    {
        Assert.Throws<ArgumentException>(() => new Mp3Muxer([Mp3 with { Codec = CodecId.AAC }]));
        Assert.Throws<ArgumentException>(() => new Mp3Muxer([Mp3, Mp3 with { Index = 1 }]));
        Assert.Throws<ArgumentException>(() => new Mp3Muxer([]));
        Assert.Throws<ArgumentException>(() => new Mp3Muxer([Mp3 with { Index = 2 }]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Mp3Muxer([Mp3]).Write(new MediaPacket(1, 0, 0, true, new byte[4])));
    }

    private static double Seconds(System.Text.Json.JsonElement value) => double.Parse(value.GetString()!, CultureInfo.InvariantCulture);
}
