using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;

namespace Sluice.Server.Tests.Feeds;

public sealed class FeedTests
{
    private static readonly TrackInfo Video = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240 };
    private static readonly TrackInfo Audio = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, SampleRate = 48000, Channels = 2 };

    private sealed class Recorder : IFeedListener
    {
        public List<MediaPacket> Packets { get; } = [];
        public List<bool> Sessions { get; } = [];
        public int Ends { get; private set; }

        public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues) => Sessions.Add(continues);
        public void Observe(in MediaPacket packet) => Packets.Add(packet);
        public void OnSessionEnd() => Ends++;
    }

    private static Feed NewFeed(out Recorder recorder)
    {
        var feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance);
        recorder = new Recorder();
        feed.Subscribe(recorder);
        return feed;
    }

    private static MediaPacket Packet(int track, long ms, bool key = false) =>
        new(track, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, new byte[10]);

    [Fact]
    public void Only_one_publisher_at_a_time()
    {
        var feed = NewFeed(out _);
        using var first = feed.TryAcquire(IPAddress.Loopback, "test");
        Assert.NotNull(first);
        Assert.Null(feed.TryAcquire(IPAddress.Loopback, "test"));
        first!.Dispose();
        using var again = feed.TryAcquire(IPAddress.Loopback, "test");
        Assert.NotNull(again);
    }

    [Fact]
    public void A_returning_publisher_continues_the_time_line()
    {
        var feed = NewFeed(out var recorder);
        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);
            p.Accept(Packet(0, 5000, key: true));
            p.Accept(Packet(1, 5010));
            p.Accept(Packet(0, 5033));
        }

        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);      // its clock starts again at 0
            p.Accept(Packet(0, 0, key: true));
            p.Accept(Packet(0, 33));
        }

        Assert.Equal([false, true], recorder.Sessions);
        Assert.Equal(2, recorder.Ends);
        var times = recorder.Packets.Select(x => MediaTime.ToMilliseconds(x.Dts)).ToList();
        Assert.Equal([5000L, 5010, 5033, 5066, 5099], times); // the new session starts a video frame (33 ms) after the old
    }

    [Fact]
    public void Each_track_stays_monotonic_when_the_new_session_starts_with_a_later_track()
    {
        var feed = NewFeed(out var recorder);
        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);
            p.Accept(Packet(0, 967, key: true));
            p.Accept(Packet(1, 990));
            p.Accept(Packet(0, 1000));            // video is the newest packet, 33 ms after the one before
        }

        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);
            p.Accept(Packet(1, 21));              // audio comes first, 21 ms after the video's start
            p.Accept(Packet(0, 0, key: true));
            p.Accept(Packet(1, 42));
            p.Accept(Packet(0, 33));
        }

        var video = recorder.Packets.Where(x => x.Track == 0).Select(x => MediaTime.ToMilliseconds(x.Dts)).ToList();
        var audio = recorder.Packets.Where(x => x.Track == 1).Select(x => MediaTime.ToMilliseconds(x.Dts)).ToList();
        // The new video starts a frame (33 ms) after the old, and the audio on the same offset: 21 ms after the video's
        // first picture, and 21 ms before its next packet, as the publisher sent them.
        Assert.Equal([967L, 1000, 1033, 1066], video);
        Assert.Equal([990L, 1054, 1075], audio);
    }

    [Fact]
    public void A_returning_publisher_s_audio_that_comes_after_its_first_picture_with_an_earlier_time_moves_no_frame_of_its_video()
    {
        var feed = NewFeed(out var recorder);
        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);
            p.Accept(Packet(0, 967, key: true));
            p.Accept(Packet(1, 979));
            p.Accept(Packet(0, 1000));
            p.Accept(Packet(1, 1000));
        }

        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);
            p.Accept(Packet(0, 0, key: true));    // MPEG-TS: the picture first, its audio (from 21 ms before it) later
            p.Accept(Packet(0, 33));
            Assert.Equal(4, recorder.Packets.Count); // held until the audio comes
            p.Accept(Packet(1, -21));
            p.Accept(Packet(0, 67));
            p.Accept(Packet(1, 0));
        }

        var video = recorder.Packets.Where(x => x.Track == 0).Select(x => MediaTime.ToMilliseconds(x.Dts)).ToList();
        var audio = recorder.Packets.Where(x => x.Track == 1).Select(x => MediaTime.ToMilliseconds(x.Dts)).ToList();
        // One offset for both, the least that puts each track after its own last packet: 1042, which puts the audio's
        // -21 an audio interval (21 ms) after its last (1000) and the first picture 42 ms after its last; the pictures
        // stay 33 ms apart (the offset set at the first picture alone would have risen at the audio's first packet).
        Assert.Equal([967L, 1000, 1042, 1075, 1109], video);
        Assert.Equal([979L, 1000, 1021, 1042], audio);
    }


    [Fact]
    public void Different_tracks_start_a_new_output()
    {
        var feed = NewFeed(out var recorder);
        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video, Audio]);
        }

        using (var p = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            p.OnTracks([Video with { Width = 640, Height = 480 }, Audio]);
        }

        Assert.Equal([false, false], recorder.Sessions);
    }

    /// <summary>Publishes a 1000-byte packet every 250 ms (32 kbit/s) for <paramref name="count"/> packets, from <paramref name="ms"/> on.</summary>
    private static void PublishSteadily(Publisher publisher, FakeTimeProvider time, ref long ms, int count)
    {
        for (int i = 0; i < count; i++)
        {
            publisher.Accept(new MediaPacket(0, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), i == 0, new byte[1000]));
            time.Advance(TimeSpan.FromMilliseconds(250));
            ms += 250;
        }
    }

    [Fact]
    public void A_new_publisher_s_bitrate_is_measured_from_its_own_first_packet_not_over_the_time_no_one_published()
    {
        var time = new FakeTimeProvider();
        var feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, time);
        long ms = 0;
        using (var first = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            first.OnTracks([Video]);
            PublishSteadily(first, time, ref ms, 9);
            Assert.Equal(32_000, feed.MeasuredBitRate);
        }

        time.Advance(TimeSpan.FromSeconds(10)); // nobody publishes
        using var second = feed.TryAcquire(IPAddress.Loopback, "test")!;
        second.OnTracks([Video]);
        PublishSteadily(second, time, ref ms, 1);
        Assert.Equal(32_000, feed.MeasuredBitRate); // the last figure stands until the new publisher's first window closes
        PublishSteadily(second, time, ref ms, 8);
        Assert.Equal(32_000, feed.MeasuredBitRate); // its 2 s, not 12 s of which 10 had no data
    }

    [Fact]
    public void The_bitrate_is_the_bytes_of_each_window_of_two_seconds_on_the_feed_s_clock()
    {
        var time = new FakeTimeProvider();
        var feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, time);
        using var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Video]);
        Assert.Equal(0, feed.MeasuredBitRate);

        long ms = 0;
        PublishSteadily(publisher, time, ref ms, 8); // the first at 0 opens the window; the one at 1.75 s is its last
        Assert.Equal(0, feed.MeasuredBitRate); // no window has closed yet

        PublishSteadily(publisher, time, ref ms, 1); // at 2 s: 8 packets after the window's start
        Assert.Equal(32_000, feed.MeasuredBitRate);

        // Half the rate for the next window: a packet every 500 ms.
        for (int i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            ms += 250;
            PublishSteadily(publisher, time, ref ms, 1);
        }

        Assert.Equal(16_000, feed.MeasuredBitRate);
    }

    [Fact]
    public void The_first_window_starts_at_the_first_packet_not_at_the_clock_s_zero()
    {
        // Timestamps that start at 0, as a Stopwatch's do at boot; the first packet comes a second later.
        var time = new FakeTimeProvider(DateTimeOffset.MinValue);
        Assert.Equal(0, time.GetTimestamp());
        var feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, time);
        using var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Video]);
        time.Advance(TimeSpan.FromSeconds(1));

        long ms = 0;
        PublishSteadily(publisher, time, ref ms, 5); // 1 s to 2 s: a window from the clock's zero would close here
        Assert.Equal(0, feed.MeasuredBitRate);

        PublishSteadily(publisher, time, ref ms, 4); // the packet at 3 s closes the first window: 2 s after the first
        Assert.Equal(32_000, feed.MeasuredBitRate);
    }
}
