using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Sources;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Sources;

/// <summary>
/// A file source on a fake clock: every packet is released when the clock reaches its decode time and not before,
/// loops go on with continuous times, NoLoop ends after one pass, and a damaged file stops the source with one line.
/// Nothing here sleeps: each step waits for the source's next timer (the guard only turns a hang into a failure).
/// </summary>
public sealed class FileSourceTests
{
    /// <summary>A second of "file" that starts at 5 s: video every 40 ms (a keyframe each 10), audio every 20 ms, in decode order.</summary>
    private static List<MediaPacket> OneSecond()
    {
        var packets = new List<MediaPacket>();
        for (long ms = 0; ms < 1000; ms += 20)
        {
            if (ms % 40 == 0)
            {
                packets.Add(Packet(0, 5000 + ms, key: ms % 400 == 0));
            }

            packets.Add(Packet(1, 5000 + ms));
        }

        return packets;
    }

    private static MediaPacket Packet(int track, long ms, bool key = false) =>
        new(track, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, new byte[10]);

    [Fact]
    public async Task Each_packet_is_released_when_the_clock_reaches_its_decode_time_and_not_before()
    {
        var h = new Harness(loop: false);
        h.Source.Start();

        // The first packet goes at once and sets the schedule: the file's first decode time is now, and 0 on the feed.
        var wait = await h.Time.NextTimerAsync();
        Assert.Equal(TimeSpan.FromMilliseconds(20), wait);
        Assert.Equal([0L, 0L], h.Recorder.Dts.Select(MediaTime.ToMilliseconds));

        for (int step = 0; step < 20; step++)
        {
            // Blocked on its timer: everything released is due, the next packet is not, and a tick early releases nothing.
            long now = (long)(h.Time.GetUtcNow() - h.Start).TotalMilliseconds;
            int released = h.Recorder.Count;
            Assert.All(h.Recorder.Dts, dts => Assert.True(MediaTime.ToMilliseconds(dts) <= now));
            h.Time.Advance(wait - TimeSpan.FromTicks(1));
            Assert.Equal(released, h.Recorder.Count);
            h.Time.Advance(TimeSpan.FromTicks(1));
            wait = await h.Time.NextTimerAsync();
            Assert.True(h.Recorder.Count > released);
            Assert.Equal(now + 20, MediaTime.ToMilliseconds(h.Recorder.Dts[^1]));
        }

        await h.Source.StopAsync().WaitAsync(ObservedTime.Guard);
    }

    [Fact]
    public async Task Loops_go_on_in_one_session_with_each_tracks_times_continuous_and_increasing()
    {
        var h = new Harness(loop: true);
        h.Source.Start();
        while (h.Source.Passes < 3 || h.Recorder.Count < 2 * 75 + 40)
        {
            h.Time.Advance(await h.Time.NextTimerAsync());
        }

        await h.Source.StopAsync().WaitAsync(ObservedTime.Guard);
        Assert.Equal([false], h.Recorder.Sessions); // one session: viewers keep playing
        foreach (var (track, step) in new[] { (0, 40L), (1, 20L) })
        {
            var times = h.Recorder.Packets.Where(p => p.Track == track).Select(p => MediaTime.ToMilliseconds(p.Dts)).ToList();
            Assert.Equal(0, times[0]);
            Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(step, pair.Second - pair.First));
        }

        // The second pass begins where the first ended, a whole file's length (1 s) later.
        Assert.Contains(h.Recorder.Packets, p => p.Track == 0 && p.IsKeyframe && p.Dts == MediaTime.FromMilliseconds(1000));
    }

    [Fact]
    public async Task With_NoLoop_the_session_ends_after_one_pass_and_the_stream_is_told()
    {
        var h = new Harness(loop: false);
        h.Source.Start();
        while (!h.Source.Stopped.IsCompleted && h.Recorder.Count < 75)
        {
            h.Time.Advance(await h.Time.NextTimerAsync());
        }

        await h.Source.Stopped.WaitAsync(ObservedTime.Guard);
        Assert.Equal(75, h.Recorder.Count);
        Assert.Equal(1, h.Recorder.Ends);
        Assert.Equal(1, h.Source.Passes);
        Assert.Equal(["its file clip.mp4 has been played to its end (NoLoop)"], h.Ended);
        Assert.Null(h.Feed.CurrentPublisher);
    }

    [Fact]
    public async Task A_damaged_file_is_logged_once_with_its_offset_and_the_source_stops()
    {
        var logger = new ListLogger();
        var h = new Harness(loop: true, damageAfter: 3, logger: logger);
        h.Source.Start();
        while (!h.Source.Stopped.IsCompleted && h.Recorder.Count < 3)
        {
            h.Time.Advance(await h.Time.NextTimerAsync());
        }

        await h.Source.Stopped.WaitAsync(ObservedTime.Guard);
        Assert.Equal(3, h.Recorder.Count);
        Assert.Equal(
            [(802, "Stream clip.mp4: the file /media/clip.mp4 is damaged, the stream has stopped: MP4: a sample outside the file (at byte 1234)")],
            logger.Entries.Where(e => e.Id >= 802).ToList());
        Assert.Equal(["its file is damaged: MP4: a sample outside the file (at byte 1234)"], h.Ended);
    }

    [Fact]
    public async Task An_OnDemand_source_plays_while_watched_stops_after_the_linger_and_a_new_viewer_continues_its_times()
    {
        var h = new Harness(loop: true, onDemand: TimeSpan.FromSeconds(5));
        h.Source.Start();
        Assert.False(h.Source.Running);
        Assert.Null(h.Feed.CurrentPublisher);

        var watcher = h.Source.Watch()!;
        h.Time.Advance(await h.Time.NextTimerAsync());
        await h.Time.NextTimerAsync();
        Assert.True(h.Source.Running);
        Assert.Equal(3, h.Recorder.Count); // video and audio at 0, audio at 20 ms

        // The last viewer leaves: 5 s later the source stops and its session ends. (The clock's jump of 5 s makes the
        // packet it waits for 5 s late: the schedule starts again from it instead of sending the 5 s at once.)
        var running = h.Source.Stopped;
        watcher.Dispose();
        h.Time.Advance(TimeSpan.FromSeconds(5));
        await running.WaitAsync(ObservedTime.Guard);
        Assert.False(h.Source.Running);
        Assert.Equal(1, h.Recorder.Ends);
        Assert.Equal(1, h.Source.Passes);
        Assert.InRange(h.Recorder.Count, 4, 5);
        int firstRun = h.Recorder.Count;
        long before = h.Recorder.Dts.Max();

        // A new viewer plays the file again from its start, in a session that goes on after the last one's times.
        using var again = h.Source.Watch();
        Assert.True(SpinWait.SpinUntil(() => h.Recorder.Count >= firstRun + 2, ObservedTime.Guard));
        Assert.Equal([false, true], h.Recorder.Sessions);
        Assert.All(h.Recorder.Packets.Skip(firstRun), p => Assert.True(p.Dts > before));
        Assert.Equal(2, h.Source.Passes);
        await h.Source.StopAsync().WaitAsync(ObservedTime.Guard);
    }

    [Fact]
    public async Task A_file_with_no_packet_is_damaged_rather_than_looped_for_ever()
    {
        var logger = new ListLogger();
        var h = new Harness(loop: true, damageAfter: -1, logger: logger, packets: []);
        h.Source.Start();
        await h.Source.Stopped.WaitAsync(ObservedTime.Guard);
        Assert.Equal(
            [(802, "Stream clip.mp4: the file /media/clip.mp4 is damaged, the stream has stopped: MP4: the file has no packet to play (at byte 0)")],
            logger.Entries.Where(e => e.Id >= 802).ToList());
        Assert.Equal(1, h.Source.Passes);
    }

    [Fact]
    public void A_pass_is_as_long_as_its_longest_track_with_the_last_packets_duration()
    {
        var length = new PassLength();
        foreach (var packet in OneSecond())
        {
            length.Add(packet);
        }

        Assert.Equal(MediaTime.FromMilliseconds(1000), length.Length);
        Assert.Equal(0, new PassLength().Length);

        // An MP4 of H.264 with B-frames and AAC: video decode times start two frames early, audio a priming frame early;
        // each track's own span counts (4.0 s of video, 4.021 s of audio), not the earliest start to the latest end.
        var mp4 = new PassLength();
        for (int frame = 0; frame < 100; frame++)
        {
            mp4.Add(new MediaPacket(0, (frame - 2) * 3600L, frame * 3600L, frame % 25 == 0, new byte[1]));
        }

        for (int frame = -1; frame < 188; frame++)
        {
            mp4.Add(new MediaPacket(1, frame * 1920L, frame * 1920L, true, new byte[1], duration: frame == 187 ? 960 : 0));
        }

        Assert.Equal(188 * 1920L + 960, mp4.Length);
    }

    private sealed class Harness
    {
        public Harness(bool loop, int damageAfter = -1, ListLogger? logger = null, TimeSpan? onDemand = null, List<MediaPacket>? packets = null)
        {
            Feed = new Feed(new FeedConfig { Name = "clip.mp4 (file)" }, NullLogger.Instance, Time);
            Feed.Subscribe(Recorder);
            Start = Time.GetUtcNow();
            Source = new FileSource("clip.mp4", "/media/clip.mp4", () => new ListReader(packets ?? OneSecond(), damageAfter), loop, Feed, Time,
                logger ?? (Microsoft.Extensions.Logging.ILogger)NullLogger.Instance, Ended.Add) { OnDemand = onDemand };
        }

        public ObservedTime Time { get; } = new();
        public DateTimeOffset Start { get; }
        public Feed Feed { get; }
        public Recorder Recorder { get; } = new();
        public FileSource Source { get; }
        public List<string> Ended { get; } = [];
    }

    internal sealed class Recorder : IFeedListener
    {
        private readonly Lock _lock = new();
        private readonly List<MediaPacket> _packets = [];

        public List<MediaPacket> Packets { get { lock (_lock) { return [.. _packets]; } } }
        public List<long> Dts => Packets.Select(p => p.Dts).ToList();
        public int Count { get { lock (_lock) { return _packets.Count; } } }
        public List<bool> Sessions { get; } = [];
        public int Ends { get; private set; }

        public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues) => Sessions.Add(continues);

        public void Observe(in MediaPacket packet)
        {
            lock (_lock)
            {
                _packets.Add(packet);
            }
        }

        public void OnSessionEnd() => Ends++;
    }

    /// <summary>A "file" of packets in memory; damaged after <c>damageAfter</c> packets when that is not -1.</summary>
    private sealed class ListReader(List<MediaPacket> packets, int damageAfter) : IFileReader
    {
        private int _next;

        public string FormatName => "MP4";

        public IReadOnlyList<TrackInfo> Tracks => [TestTracks.H264, TestTracks.Aac];

        public bool TryReadPacket(out MediaPacket packet)
        {
            if (_next == damageAfter)
            {
                throw new MediaFormatException("MP4", 1234, "a sample outside the file");
            }

            if (_next == packets.Count)
            {
                packet = default;
                return false;
            }

            packet = packets[_next++];
            return true;
        }

        public void Dispose()
        {
        }
    }
}
