using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;

namespace Sluice.Server.Tests.Hls;

/// <summary>
/// PART-HOLD-BACK from the cadence of parts, on a fake clock: three part targets while parts come regularly, more
/// after a source's gap, for the window only, and nothing for the time a publisher was away.
/// </summary>
public sealed class PartCadenceTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));

    private void Parts(PartCadence cadence, int count, double every)
    {
        for (int i = 0; i < count; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(every));
            cadence.OnPart();
        }
    }

    [Fact]
    public void Parts_that_come_every_part_target_or_in_small_bursts_keep_three_part_targets()
    {
        var cadence = new PartCadence(_time);
        Assert.Equal(0.75, cadence.HoldBack(0.25, 2)); // no part yet
        Parts(cadence, 40, 0.25);
        Assert.Equal(0.75, cadence.HoldBack(0.25, 2));
        Parts(cadence, 40, 0.32); // a source that sends every 0.32 s: 0.32 + 0.25 is within 0.75
        Assert.Equal(0.32, cadence.LongestGap(), 6);
        Assert.Equal(0.75, cadence.HoldBack(0.25, 2));
    }

    [Fact]
    public void A_gap_of_a_second_raises_it_to_the_gap_and_a_part_target_for_the_window_and_no_longer()
    {
        var cadence = new PartCadence(_time);
        Parts(cadence, 20, 0.25);
        Parts(cadence, 1, 1.002); // the encoder starved for a second
        Assert.Equal(1.25, cadence.HoldBack(0.25, 2), 6); // 1.002 + 0.25, in whole part targets
        Parts(cadence, 4, 0.25);
        Assert.Equal(1.25, cadence.HoldBack(0.25, 2), 6);

        Parts(cadence, 116, 0.25); // 29 s more: the gap is 30 s old
        Assert.Equal(1.25, cadence.HoldBack(0.25, 2), 6);
        Parts(cadence, 8, 0.25);
        Assert.Equal(0.75, cadence.HoldBack(0.25, 2));
    }

    [Fact]
    public void It_never_exceeds_three_target_durations()
    {
        var cadence = new PartCadence(_time);
        Parts(cadence, 2, 0.25);
        Parts(cadence, 1, 9);
        Assert.Equal(3.0, cadence.HoldBack(0.25, 1));
        Assert.Equal(6.0, cadence.HoldBack(0.25, 2));
    }

    [Fact]
    public void The_time_a_publisher_is_away_is_not_a_gap()
    {
        var cadence = new PartCadence(_time);
        Parts(cadence, 10, 0.25);
        cadence.OnSessionEnd();
        _time.Advance(TimeSpan.FromSeconds(5));
        Parts(cadence, 10, 0.25);
        Assert.Equal(0.25, cadence.LongestGap(), 6);
        Assert.Equal(0.75, cadence.HoldBack(0.25, 2));
    }

    private static readonly TrackInfo H264 = new()
    {
        Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 320, Height = 240,
        CodecPrivate = new byte[] { 0x01, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0x00 }, // avcC: High profile, level 3.1, no SPS/PPS
    };

    [Fact]
    public void The_media_playlist_holds_back_past_a_second_long_stop_of_the_feed_and_not_past_its_absence()
    {
        var feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, _time);
        var segmenter = new HlsSegmenter(new StreamConfig { Name = "live" }, feed, NullLogger.Instance, _time);
        const long frame = MediaTime.TicksPerSecond / 25;
        long t = 0;

        void Frames(Publisher publisher, int count)
        {
            for (int i = 0; i < count; i++, t += frame)
            {
                publisher.Accept(new MediaPacket(0, t, t, t % (2 * MediaTime.TicksPerSecond) == 0, new byte[200]));
                _time.Advance(TimeSpan.FromSeconds(0.04));
            }
        }

        string HoldBack() => HlsPlaylist.Media(segmenter.Snapshot(), segmenter, 1).Split('\n')
            .Single(l => l.StartsWith("#EXT-X-SERVER-CONTROL:", StringComparison.Ordinal));

        using (var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([H264]);
            Frames(publisher, 100); // 4 s at 25 fps, in real time: a part every 6 frames (0.24 s)
            Assert.Equal("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75", HoldBack());
        }

        _time.Advance(TimeSpan.FromSeconds(5)); // the publisher is away for 5 s and comes back
        using (var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([H264]);
            Frames(publisher, 50);
            Assert.Equal("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.75", HoldBack());

            _time.Advance(TimeSpan.FromSeconds(1)); // the feed stops for a second, then goes on
            Frames(publisher, 25);
            Assert.Equal("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.50", HoldBack());
        }
    }
}
