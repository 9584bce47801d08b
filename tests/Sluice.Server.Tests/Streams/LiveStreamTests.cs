using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Streams;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Streams;

/// <summary>A feed and a stream config, no host: what the publisher writes is muxed into the stream's ring.</summary>
public sealed class LiveStreamTests
{
    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240 };
    private static readonly TrackInfo Vorbis = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, SampleRate = 48000, Channels = 2 };
    private static readonly StreamConfig WebmStream = new() { Name = "live.webm", Feed = "f.ffm", Format = "webm" };

    private readonly FakeTimeProvider _time = new();
    private readonly Feed _feed;

    public LiveStreamTests() => _feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, _time);

    private static MediaPacket Packet(int track, long ms, bool key = false) =>
        new(track, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, new byte[10]);

    private static List<ChunkLease> ReadAll(ChunkRing ring, long from)
    {
        var buffer = new ChunkLease[64];
        Assert.Equal(ChunkReadStatus.Data, ring.Read(from, buffer, out int count));
        return [.. buffer.Take(count)];
    }

    [Fact]
    public void A_stream_has_no_output_before_its_feed_s_first_publisher()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        Assert.Null(stream.Output);
        Assert.Equal("live.webm", stream.Name);
    }

    [Fact]
    public void Packets_become_chunks_from_the_first_video_keyframe_on()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8, Vorbis]);

        var output = stream.Output!;
        Assert.Equal([Vp8, Vorbis], output.Tracks);
        Assert.Equal(0, output.Ring.Next);

        publisher.Accept(Packet(0, 0));           // a delta frame: nobody could start there
        publisher.Accept(Packet(1, 10));          // audio before the picture starts
        Assert.Equal(0, output.Ring.Next);
        Assert.Equal(-1, output.Ring.LatestJoinPoint);

        publisher.Accept(Packet(0, 40, key: true));
        publisher.Accept(Packet(1, 50));
        publisher.Accept(Packet(0, 80));
        Assert.Equal(3, output.Ring.Next);
        Assert.Equal(0, output.Ring.LatestJoinPoint);

        var chunks = ReadAll(output.Ring, 0);
        Assert.Equal([true, false, false], chunks.Select(c => c.IsJoinPoint));
        Assert.Equal([40L, 50, 80], chunks.Select(c => MediaTime.ToMilliseconds(c.Time)));
        Assert.All(chunks, c => Assert.True(c.Payload.Length == 10 && c.Prefix.Length > 0)); // the packet's bytes behind its framing
        chunks.ForEach(c => c.Release());
    }

    [Fact]
    public void A_viewer_joins_at_the_newest_keyframe()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8, Vorbis]);
        for (int frame = 0; frame < 12; frame++)
        {
            publisher.Accept(Packet(0, frame * 40, key: frame % 5 == 0)); // keyframes at 0, 200, 400 ms
            publisher.Accept(Packet(1, (frame * 40) + 20));
        }

        var ring = stream.Output!.Ring;
        Assert.Equal(24, ring.Next);
        long join = ring.LatestJoinPoint;
        Assert.Equal(20, join);
        var chunks = ReadAll(ring, join);
        Assert.True(chunks[0].IsJoinPoint);
        Assert.Equal(400, MediaTime.ToMilliseconds(chunks[0].Time));
        Assert.Equal([400L, 420, 440, 460], chunks.Select(c => MediaTime.ToMilliseconds(c.Time)));

        // Preroll: the newest keyframe at least 250 ms before the newest chunk (460 ms) is the one at 200 ms.
        long back = ring.JoinPointBefore(MediaTime.FromMilliseconds(250));
        Assert.Equal(10, back);
        chunks.ForEach(c => c.Release());
    }

    [Fact]
    public void A_stream_without_audio_leaves_the_feed_s_audio_out()
    {
        var stream = new LiveStream(WebmStream with { NoAudio = true }, _feed, OutputFormat.WebM, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8, Vorbis]);
        publisher.Accept(Packet(0, 0, key: true));
        publisher.Accept(Packet(1, 10));
        publisher.Accept(Packet(0, 40));

        Assert.Equal([Vp8], stream.Output!.Tracks);
        Assert.Equal([0L, 40], ReadAll(stream.Output.Ring, 0).Select(c => MediaTime.ToMilliseconds(c.Time)));
    }

    [Fact]
    public void A_track_the_format_cannot_carry_is_left_out_and_logged_and_audio_alone_starts_at_once()
    {
        var log = new ListLogger();
        var h264 = Vp8 with { Codec = CodecId.H264 };
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, log);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([h264, Vorbis]);

        Assert.Equal([Vorbis with { Index = 0 }], stream.Output!.Tracks);
        var (id, message) = Assert.Single(log.Entries);
        Assert.Equal(200, id);
        Assert.Equal("Stream live.webm: feed track #0 video h264 320x240 cannot be carried by Format webm (it carries vp8, vp9, av1, vorbis, opus); the track is left out", message);

        publisher.Accept(Packet(0, 0, key: true)); // the H.264 keyframe: not the stream's
        publisher.Accept(Packet(1, 10, key: true)); // every audio packet is a keyframe (as demuxers mark them)
        Assert.Equal([10L], ReadAll(stream.Output.Ring, 0).Select(c => MediaTime.ToMilliseconds(c.Time)));
    }

    [Fact]
    public void A_publisher_with_the_same_tracks_continues_the_output_from_its_next_keyframe()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        using (var first = _feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            first.OnTracks([Vp8, Vorbis]);
            first.Accept(Packet(0, 0, key: true));
            first.Accept(Packet(0, 40));
        }

        var output = stream.Output!;
        using var second = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        second.OnTracks([Vp8, Vorbis]);
        Assert.Same(output, stream.Output);
        Assert.False(output.Ring.IsCompleted);

        second.Accept(Packet(0, 0));              // waits for a keyframe again
        second.Accept(Packet(0, 40, key: true));
        second.Accept(Packet(1, 50));             // (the feed holds a returning publisher's packets until each track has one)
        Assert.Equal(4, output.Ring.Next);
        Assert.Equal(2, output.Ring.LatestJoinPoint);
    }

    [Fact]
    public void Other_tracks_end_the_output_and_begin_a_new_one()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        using (var first = _feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            first.OnTracks([Vp8, Vorbis]);
            first.Accept(Packet(0, 0, key: true));
        }

        var old = stream.Output!;
        using var second = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        second.OnTracks([Vp8 with { Width = 640, Height = 480 }, Vorbis]);

        Assert.NotSame(old, stream.Output);
        Assert.True(old.Ring.IsCompleted);
        Assert.Equal(ChunkReadStatus.Data, old.Ring.Read(0, new ChunkLease[4], out int left)); // its viewers drain what is left
        Assert.Equal(1, left);
        Assert.Equal(640, stream.Output!.Tracks[0].Width);
        Assert.Equal(0, stream.Output.Ring.Next);
    }

    [Fact]
    public void A_segmented_only_stream_muxes_nothing_for_progressive_viewers()
    {
        var stream = new LiveStream(WebmStream with { Format = "dash" }, _feed, OutputFormat.Dash, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8 with { Codec = CodecId.VP9 }]);
        publisher.Accept(Packet(0, 0, key: true));

        Assert.Equal(0, stream.Output!.Ring.Next);
    }

    [Fact]
    public void With_audio_held_for_video_a_waiting_viewer_wakes_for_video_and_for_audio_only_every_100_ms()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance, holdAudioForVideo: true);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8, Vorbis]);
        publisher.Accept(Packet(0, 0, key: true));
        var ring = stream.Output!.Ring;
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        var wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(1, 20));          // audio 20 ms after the last wake: held
        Assert.False(wait.IsCompleted);
        publisher.Accept(Packet(0, 40));          // video: wakes, and the audio goes with it
        Assert.True(wait.IsCompleted);

        wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(1, 60));
        publisher.Accept(Packet(1, 100));
        Assert.False(wait.IsCompleted);
        publisher.Accept(Packet(1, 140));         // 100 ms of audio since the last wake (40 ms): woken anyway
        Assert.True(wait.IsCompleted);
    }

    [Fact]
    public void With_merged_writes_a_waiting_viewer_wakes_once_an_interval_of_media_time_or_of_the_clock_and_a_held_chunk_by_the_stream_s_timer()
    {
        var interval = TimeSpan.FromMilliseconds(400);
        var tick = TimeSpan.FromTicks(1);
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance, time: _time, writeInterval: interval);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8]);
        var ring = stream.Output!.Ring;
        using var signal = new ViewerSignal(CancellationToken.None);

        var wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(0, 0, key: true)); // the first chunk: woken at once
        Assert.True(wait.IsCompleted);

        wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(0, 40));
        publisher.Accept(Packet(0, 80));            // within the interval: held, both
        var timer = interval * MergedWakes.TimerDelay;
        _time.Advance(timer - tick);
        Assert.False(wait.IsCompleted);
        _time.Advance(tick);                        // the stream's timer wakes the viewer
        Assert.True(wait.IsCompleted);
        Assert.Equal(3, ReadAll(ring, 0).Count);

        _time.Advance(interval);                    // a chunk a whole interval after the last wake goes at once
        wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(0, 120));
        Assert.True(wait.IsCompleted);

        wait = ring.WaitAsync(ring.Next, signal);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        publisher.Accept(Packet(0, 160));           // held until the timer's time after the last wake
        _time.Advance(timer - TimeSpan.FromMilliseconds(100) - tick);
        Assert.False(wait.IsCompleted);
        _time.Advance(tick);
        Assert.True(wait.IsCompleted);

        wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(0, 560));           // an interval of media time after the last wake, at once: woken
        Assert.True(wait.IsCompleted);

        wait = ring.WaitAsync(ring.Next, signal);
        _time.Advance(interval * 10);               // nothing held: the timer wakes no one
        Assert.False(wait.IsCompleted);
        stream.Close();
    }

    [Fact]
    public void Mjpeg_viewers_get_each_frame_at_once_whatever_the_write_interval()
    {
        var mjpeg = new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.MJPEG, Width = 320, Height = 240 };
        var stream = new LiveStream(WebmStream with { Name = "cam.mjpg", Format = "mpjpeg" }, _feed, OutputFormat.MultipartJpeg, NullLogger.Instance, time: _time, writeInterval: TimeSpan.FromMilliseconds(400));
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([mjpeg]);
        publisher.Accept(Packet(0, 0, key: true));
        var ring = stream.Output!.Ring;
        using var signal = new ViewerSignal(CancellationToken.None);

        var wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(0, 40, key: true)); // 40 ms after the last: a browser shows it as it comes
        Assert.True(wait.IsCompleted);
        stream.Close();
    }

    [Fact]
    public void Without_holding_every_chunk_wakes_a_waiting_viewer()
    {
        var stream = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8, Vorbis]);
        publisher.Accept(Packet(0, 0, key: true));
        var ring = stream.Output!.Ring;
        using var signal = new ViewerSignal(CancellationToken.None);

        var wait = ring.WaitAsync(ring.Next, signal);
        publisher.Accept(Packet(1, 20));
        Assert.True(wait.IsCompleted);
    }

    [Fact]
    public void The_bitrate_is_the_configured_one_or_else_the_feed_s_measured_one()
    {
        var configured = new LiveStream(
            WebmStream with { Video = new CodecSettings { BitRate = 500 }, Audio = new CodecSettings { BitRate = 64 } },
            _feed, OutputFormat.WebM, NullLogger.Instance);
        Assert.Equal(564, configured.BitRateKbps);

        var measured = new LiveStream(WebmStream, _feed, OutputFormat.WebM, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Vp8]);
        publisher.Accept(new MediaPacket(0, 0, 0, true, new byte[1000]));
        _time.Advance(TimeSpan.FromSeconds(2));
        publisher.Accept(new MediaPacket(0, MediaTime.FromMilliseconds(40), MediaTime.FromMilliseconds(40), false, new byte[1500]));
        // The first packet closes the window open since the clock's start and opens the next: 1500 bytes in 2 s,
        // 6000 bit/s, 6 kbit/s (rounded up).
        Assert.Equal(6_000, _feed.MeasuredBitRate);
        Assert.Equal(6, measured.BitRateKbps);
    }
}
