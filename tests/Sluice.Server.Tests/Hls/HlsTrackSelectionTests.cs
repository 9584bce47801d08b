using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;

namespace Sluice.Server.Tests.Hls;

public sealed class HlsTrackSelectionTests
{
    private static readonly TrackInfo Mpeg4 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.MPEG4, Width = 320, Height = 240, CodecPrivate = new byte[] { 0, 0, 1, 0x20 } };
    private static readonly TrackInfo Mp2 = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.MP2, SampleRate = 48000, Channels = 2 };
    private static readonly TrackInfo Mp3 = new() { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.MP3, SampleRate = 48000, Channels = 2 };

    [Theory]
    [InlineData("fmp4")]
    [InlineData("ts")]
    public void Codecs_the_segments_container_carries_but_no_HLS_player_plays_are_left_out(string segmentFormat)
    {
        var config = new StreamConfig { Name = "s", Hls = new HlsSettings { SegmentFormat = segmentFormat } };
        var segmenter = new HlsSegmenter(config, new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance), NullLogger.Instance, new FakeTimeProvider());

        segmenter.OnSessionStart([Mpeg4, Mp2], continues: false);
        Assert.Equal($"its tracks ({Mpeg4}, {Mp2}) are not ones HLS {(segmentFormat == "ts" ? "MPEG-TS" : "CMAF")} segments can carry", segmenter.Unavailable);

        segmenter.OnSessionStart([Mp3], continues: false);
        Assert.Null(segmenter.Unavailable);
    }
}
