using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Transcoding;
using static Sluice.Server.Tests.Support.TestTracks;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>How what ffmpeg writes reaches each rendition's feed.</summary>
public sealed class EncoderRouterTests
{
    private sealed class Recorder : IFeedListener
    {
        public List<TrackInfo> Tracks { get; } = [];
        public List<(int Track, long Ms, bool Key)> Packets { get; } = [];

        public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues) => Tracks.AddRange(tracks);
        public void Observe(in MediaPacket packet) => Packets.Add((packet.Track, packet.Pts / (MediaTime.TicksPerSecond / 1000), packet.IsKeyframe));
        public void OnSessionEnd()
        {
        }
    }

    private static Rendition Rendition(string name, out Recorder recorder)
    {
        var output = new Feed(new FeedConfig { Name = $"{name} (output)" }, NullLogger.Instance);
        recorder = new Recorder();
        output.Subscribe(recorder);
        var config = new StreamConfig { Name = name, Feed = "f.ffm", Format = "webm", Location = new ConfigLocation("t.conf", 1) };
        return new Rendition(config, OutputFormat.Find("webm")!, StreamEncoding.None, output, NullLogger.Instance);
    }

    private static MediaPacket Packet(int track, long ms, bool key = false) =>
        new(track, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, new byte[8]);

    [Fact]
    public void A_rendition_starts_at_its_first_video_keyframe_and_drops_the_audio_before_it()
    {
        var rendition = Rendition("a.webm", out var recorder);
        var router = new EncoderRouter("f.ffm", [rendition], [new(0, MediaKind.Video), new(0, MediaKind.Audio)], NullLogger.Instance);
        router.OnTracks([Vp8, Vorbis]);

        router.Accept(Packet(1, 0));            // audio before any picture
        router.Accept(Packet(0, 0));            // a picture that is not a keyframe
        router.Accept(Packet(1, 20));
        router.Accept(Packet(0, 40, key: true));
        router.Accept(Packet(1, 40));
        router.Accept(Packet(0, 80));

        Assert.Equal([(0, 40L, true), (1, 40L, false), (0, 80L, false)], recorder.Packets);
        Assert.Equal([MediaKind.Video, MediaKind.Audio], recorder.Tracks.Select(t => t.Kind));
    }

    [Fact]
    public void Each_output_track_goes_to_its_rendition_renumbered_there()
    {
        var first = Rendition("a.webm", out var a);
        var second = Rendition("b.webm", out var b);
        // ffmpeg's outputs: a's video, a's audio, b's video.
        var router = new EncoderRouter("f.ffm", [first, second], [new(0, MediaKind.Video), new(0, MediaKind.Audio), new(1, MediaKind.Video)], NullLogger.Instance);
        router.OnTracks([Vp8, Vorbis with { Index = 1 }, Vp8 with { Index = 2, Width = 160, Height = 120 }]);

        router.Accept(Packet(0, 0, key: true));
        router.Accept(Packet(2, 0, key: true));
        router.Accept(Packet(1, 10));
        router.Accept(Packet(2, 40));

        Assert.Equal([(0, 0L, true), (1, 10L, false)], a.Packets);
        Assert.Equal([(0, 0L, true), (0, 40L, false)], b.Packets);
        var only = Assert.Single(b.Tracks);
        Assert.Equal((0, 160), (only.Index, only.Width));
    }

    [Fact]
    public void A_rendition_without_video_starts_at_once()
    {
        var rendition = Rendition("a.webm", out var recorder);
        var router = new EncoderRouter("f.ffm", [rendition], [new(0, MediaKind.Audio)], NullLogger.Instance);
        router.OnTracks([Vorbis with { Index = 0 }]);

        router.Accept(Packet(0, 0));

        Assert.Equal([(0, 0L, false)], recorder.Packets);
    }

    [Fact]
    public void Output_tracks_other_than_expected_are_an_error_and_route_nothing()
    {
        var rendition = Rendition("a.webm", out var recorder);
        var router = new EncoderRouter("f.ffm", [rendition], [new(0, MediaKind.Video), new(0, MediaKind.Audio)], NullLogger.Instance);

        router.OnTracks([Vp8]);
        router.Accept(Packet(0, 0, key: true));

        Assert.Equal("ffmpeg wrote 1 tracks, 2 expected", router.LastError);
        Assert.Empty(recorder.Packets);
    }
}
