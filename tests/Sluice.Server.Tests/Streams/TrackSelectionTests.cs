using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Streams;

public sealed class TrackSelectionTests
{
    private static readonly StreamConfig Both = new() { Name = "s" };

    private static TrackInfo Video(int index, CodecId codec = CodecId.VP8) =>
        new() { Index = index, Kind = MediaKind.Video, Codec = codec, Width = 320 + index, Height = 240 };

    private static TrackInfo Audio(int index, CodecId codec = CodecId.Vorbis) =>
        new() { Index = index, Kind = MediaKind.Audio, Codec = codec, SampleRate = 48000, Channels = 2 };

    private static bool Anything(TrackInfo track) => true;

    [Fact]
    public void A_video_and_an_audio_track_are_both_kept_in_the_feed_s_order()
    {
        var selection = TrackSelection.Of([Video(0), Audio(1)], Both, Anything);

        Assert.Equal([Video(0), Audio(1)], selection.Selected);
        Assert.Equal([0, 1], selection.Map);
        Assert.Empty(selection.Refused);
        Assert.Equal(0, selection.VideoTrack);
        Assert.Equal(1, selection.AudioTrack);
    }

    [Fact]
    public void Only_the_first_video_and_the_first_audio_track_are_kept_renumbered_from_0()
    {
        var selection = TrackSelection.Of([Audio(0), Video(1), Video(2), Audio(3)], Both, Anything);

        Assert.Equal([Audio(0), Video(1) with { Index = 1 }], selection.Selected);
        Assert.Equal([0, 1, -1, -1], selection.Map);
        Assert.Equal(1, selection.VideoTrack);
        Assert.Equal(0, selection.AudioTrack);
        Assert.Equal(321, selection.Selected[1].Width); // the feed's track, only renumbered
    }

    [Fact]
    public void Subtitles_and_data_are_never_kept_nor_refused()
    {
        var subtitle = new TrackInfo { Index = 0, Kind = MediaKind.Subtitle, Codec = CodecId.Unknown };
        var data = new TrackInfo { Index = 2, Kind = MediaKind.Data, Codec = CodecId.Unknown };
        var selection = TrackSelection.Of([subtitle, Video(1), data], Both, Anything);

        Assert.Equal([Video(1) with { Index = 0 }], selection.Selected);
        Assert.Equal([-1, 0, -1], selection.Map);
        Assert.Empty(selection.Refused);
    }

    [Fact]
    public void NoVideo_and_NoAudio_leave_their_kind_out_without_refusing_it()
    {
        var tracks = new[] { Video(0), Audio(1) };

        var audioOnly = TrackSelection.Of(tracks, Both with { NoVideo = true }, Anything);
        Assert.Equal([Audio(1) with { Index = 0 }], audioOnly.Selected);
        Assert.Equal([-1, 0], audioOnly.Map);
        Assert.Equal((-1, 1), (audioOnly.VideoTrack, audioOnly.AudioTrack));
        Assert.Empty(audioOnly.Refused);

        var videoOnly = TrackSelection.Of(tracks, Both with { NoAudio = true }, Anything);
        Assert.Equal([Video(0)], videoOnly.Selected);
        Assert.Equal([0, -1], videoOnly.Map);
        Assert.Equal((0, -1), (videoOnly.VideoTrack, videoOnly.AudioTrack));

        var none = TrackSelection.Of(tracks, Both with { NoVideo = true, NoAudio = true }, Anything);
        Assert.Empty(none.Selected);
        Assert.Equal([-1, -1], none.Map);
    }

    [Fact]
    public void A_track_the_container_cannot_carry_is_refused_and_the_next_of_its_kind_may_take_its_place()
    {
        // WebM: H.264 cannot go in, VP8 can.
        var selection = TrackSelection.Of(
            [Video(0, CodecId.H264), Audio(1, CodecId.AAC), Video(2, CodecId.VP8), Audio(3, CodecId.Opus)],
            Both,
            track => track.Codec is CodecId.VP8 or CodecId.Opus);

        Assert.Equal([Video(0, CodecId.H264), Audio(1, CodecId.AAC)], selection.Refused);
        Assert.Equal([Video(2, CodecId.VP8) with { Index = 0 }, Audio(3, CodecId.Opus) with { Index = 1 }], selection.Selected);
        Assert.Equal([-1, -1, 0, 1], selection.Map);
        Assert.Equal((2, 3), (selection.VideoTrack, selection.AudioTrack));
    }

    [Fact]
    public void A_kind_left_out_by_the_stream_is_not_asked_of_the_container()
    {
        var asked = new List<int>();
        TrackSelection.Of([Video(0), Audio(1)], Both with { NoAudio = true }, track =>
        {
            asked.Add(track.Index);
            return true;
        });

        Assert.Equal([0], asked);
    }

    [Fact]
    public void No_tracks_select_nothing()
    {
        var selection = TrackSelection.Of([], Both, Anything);
        Assert.Empty(selection.Selected);
        Assert.Empty(selection.Map);
        Assert.Equal((-1, -1), (selection.VideoTrack, selection.AudioTrack));
    }
}
