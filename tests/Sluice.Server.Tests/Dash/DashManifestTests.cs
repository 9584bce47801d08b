using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Dash;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;
using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Dash;

/// <summary>
/// The manifest of a segmenter fed synthetic H.264 and AAC packets: the CMAF muxer needs only the codec's
/// configuration record (an avcC with no parameter sets, an AudioSpecificConfig) and copies payloads as they are,
/// so no real media and no ffmpeg are needed.
/// </summary>
public sealed class DashManifestTests
{
    private const long Epoch = 1_764_748_800; // "t6oow0" in base 36
    private const long Frame = MediaTime.TicksPerSecond / 25;
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    private static readonly TrackInfo H264 = new()
    {
        Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 320, Height = 240,
        CodecPrivate = new byte[] { 0x01, 0x64, 0x00, 0x1F, 0xFF, 0xE0, 0x00 }, // avcC: High profile, level 3.1, no SPS/PPS
    };

    private static readonly TrackInfo Aac = new()
    {
        Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, Channels = 2,
        CodecPrivate = new byte[] { 0x11, 0x90 }, // AAC LC, 48 kHz, stereo
    };

    private readonly FakeTimeProvider _time = new(Start);
    private readonly Feed _feed;

    public DashManifestTests() => _feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance, _time);

    private HlsSegmenter Segmenter(int listSize = 6, string segmentFormat = "fmp4") => new(
        new StreamConfig { Name = "live", Hls = new HlsSettings { SegmentDuration = 1, ListSize = listSize, SegmentFormat = segmentFormat } },
        _feed, NullLogger.Instance, _time);

    /// <summary>One AAC frame at 48 kHz: 1024 samples.</summary>
    private const long AacFrame = 1024 * MediaTime.TicksPerSecond / 48000;

    /// <summary>
    /// 25 fps video from <paramref name="firstTicks"/>, keyframes at the frames given, each frame followed by the AAC
    /// frames (1024 samples at 48 kHz, from 100 ticks after the first video frame on) that begin before the next.
    /// </summary>
    private static void Publish(Publisher publisher, long firstTicks, int frames, Func<int, bool> keyframe, bool audio = true)
    {
        long nextAudio = firstTicks + 100;
        for (int i = 0; i < frames; i++)
        {
            long t = firstTicks + (i * Frame);
            publisher.Accept(new MediaPacket(0, t, t, keyframe(i), new byte[200]));
            while (audio && nextAudio < t + Frame)
            {
                publisher.Accept(new MediaPacket(1, nextAudio, nextAudio, true, new byte[50]));
                nextAudio += AacFrame;
            }
        }
    }

    private static string Manifest(HlsSegmenter segmenter, long bandwidth, DateTimeOffset now) =>
        DashManifest.Write(segmenter.Snapshot(), segmenter, Epoch, bandwidth, now);

    [Fact]
    public void Three_segments_of_video_and_audio_make_one_adaptation_set_a_track_each_on_its_own_timeline()
    {
        var segmenter = Segmenter();
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([H264, Aac]);
        Publish(publisher, firstTicks: 10 * MediaTime.TicksPerSecond, frames: 76, keyframe: i => i % 25 == 0); // keys at 10, 11, 12, 13 s
        Assert.Equal(3, segmenter.SegmentsMade);

        string manifest = Manifest(segmenter, 1_000_000, Start + TimeSpan.FromSeconds(5));

        // Video on its 90 kHz grid; audio at its sample rate, from its own first frame (900100 ticks: 480053 samples),
        // 47 frames of 1024 samples a segment, each segment starting where the previous ended.
        Assert.Equal(
            """
            <?xml version="1.0" encoding="utf-8"?>
            <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2026-12-03T08:59:50.000Z" publishTime="2026-12-03T09:00:03.010Z" minimumUpdatePeriod="PT1S" minBufferTime="PT1S" timeShiftBufferDepth="PT7S" suggestedPresentationDelay="PT1.5S">
              <Period id="0" start="PT0S">
                <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
                  <Representation id="0" bandwidth="900000" codecs="avc1.64001f" width="320" height="240">
                    <SegmentTemplate timescale="90000" initialization="t6oow0-dash1-0.mp4" media="t6oow0-t0-$Time$.m4s">
                      <SegmentTimeline>
                        <S t="900000" d="90000"/>
                        <S t="990000" d="90000"/>
                        <S t="1080000" d="90000"/>
                      </SegmentTimeline>
                    </SegmentTemplate>
                  </Representation>
                </AdaptationSet>
                <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">
                  <Representation id="1" bandwidth="100000" codecs="mp4a.40.2" audioSamplingRate="48000">
                    <SegmentTemplate timescale="48000" initialization="t6oow0-dash1-1.mp4" media="t6oow0-t1-$Time$.m4s">
                      <SegmentTimeline>
                        <S t="480053" d="48128"/>
                        <S t="528181" d="48128"/>
                        <S t="576309" d="48128"/>
                      </SegmentTimeline>
                    </SegmentTemplate>
                  </Representation>
                </AdaptationSet>
              </Period>
            </MPD>

            """.ReplaceLineEndings("\n"),
            manifest);
        Assert.Equal("t6oow0", MediaUrl.EpochText(Epoch));
    }

    [Fact]
    public void A_manifest_of_a_feed_that_stalled_keeps_its_publish_time_and_its_segments_in_the_time_shift_window()
    {
        var segmenter = Segmenter(listSize: 2);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([H264, Aac]);
        Publish(publisher, 0, 76, i => i % 25 == 0); // three segments, the first out of the list of two

        // The publishTime is the end of the newest segment listed, however late the manifest is fetched: 20 s on,
        // nothing new, it is the same manifest and its segments are still in the 3 s window behind that time.
        string soon = Manifest(segmenter, 1_000_000, Start + TimeSpan.FromSeconds(3));
        string late = Manifest(segmenter, 1_000_000, Start + TimeSpan.FromSeconds(20));
        Assert.Equal(soon, late);
        Assert.Contains("""publishTime="2026-12-03T09:00:03.010Z" """, late, StringComparison.Ordinal);
        Assert.Contains("""timeShiftBufferDepth="PT3S" """, late, StringComparison.Ordinal);
        Assert.Contains("""<S t="90000" d="90000"/>""", late, StringComparison.Ordinal); // ends at 09:00:02, inside
    }

    [Fact]
    public void A_publisher_s_return_begins_a_period_at_the_wall_clock_of_its_first_segment_and_the_start_stays()
    {
        var segmenter = Segmenter(listSize: 3); // a window of 4 s: the first session's last segment is still in it
        using (var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([H264, Aac]);
            Publish(publisher, 0, 51, i => i % 25 == 0); // segments at 0 and 1 s, the one at 2 s open
        }

        _time.Advance(TimeSpan.FromSeconds(5)); // away 5 s: the next session's first segment is at 09:00:05
        using var back = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        back.OnTracks([H264, Aac]);
        Publish(back, 0, 26, i => i % 25 == 0);
        string both = Manifest(segmenter, 1_000_000, Start);

        // The first session's Period from 0 with its own times; the second's from 09:00:05 (its first segment's
        // PROGRAM-DATE-TIME), its tracks' times there as presentationTimeOffset (the stream's time line goes on).
        Assert.Contains("""availabilityStartTime="2026-12-03T09:00:00.000Z" """, both, StringComparison.Ordinal);
        Assert.Contains("""<Period id="0" start="PT0S">""", both, StringComparison.Ordinal);
        Assert.Contains("""<Period id="1" start="PT5S">""", both, StringComparison.Ordinal);
        Assert.Contains("""<SegmentTemplate timescale="90000" presentationTimeOffset="184420" """, both, StringComparison.Ordinal);
        Assert.Contains("""<S t="184420" d="90000"/>""", both, StringComparison.Ordinal);
        Assert.Contains("""<SegmentTemplate timescale="48000" presentationTimeOffset="98357" """, both, StringComparison.Ordinal);
        Assert.Equal(2, both.Split("<Period ").Length - 1);
        var hls = segmenter.Snapshot().Segments[^1];
        Assert.True(hls.Discontinuity);
        Assert.Equal(Start + TimeSpan.FromSeconds(5), hls.ProgramDateTime);

        // Once the first session's segments leave the list, its Period goes; the second keeps its id and start.
        Publish(back, 26 * Frame, 75, i => (i + 26) % 25 == 0);
        string later = Manifest(segmenter, 1_000_000, Start);
        Assert.Contains("""availabilityStartTime="2026-12-03T09:00:00.000Z" """, later, StringComparison.Ordinal);
        Assert.DoesNotContain("""<Period id="0" """, later, StringComparison.Ordinal);
        Assert.Contains("""<Period id="1" start="PT5S">""", later, StringComparison.Ordinal);
        Assert.Contains("""<SegmentTemplate timescale="90000" presentationTimeOffset="184420" """, later, StringComparison.Ordinal);
        Assert.DoesNotContain("""<S t="184420" """, later, StringComparison.Ordinal);
    }

    [Fact]
    public void Segments_that_ended_before_the_time_shift_window_are_left_out_with_their_period()
    {
        var segmenter = Segmenter(listSize: 2); // a window of 3 s
        using (var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([H264, Aac]);
            Publish(publisher, 0, 51, i => i % 25 == 0);
        }

        _time.Advance(TimeSpan.FromSeconds(10)); // away longer than the window
        using var back = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        back.OnTracks([H264, Aac]);
        Publish(back, 0, 26, i => i % 25 == 0);

        // HLS still lists the first session's last segment; DASH, whose window ends 3 s behind the newest segment's end
        // (09:00:11), lists only the second session's, in its own Period.
        Assert.Equal(2, segmenter.Snapshot().Segments.Count);
        string manifest = Manifest(segmenter, 1_000_000, Start);
        Assert.DoesNotContain("""<Period id="0" """, manifest, StringComparison.Ordinal);
        Assert.Contains("""<Period id="1" start="PT10S">""", manifest, StringComparison.Ordinal);
        Assert.Equal(2, manifest.Split("<S ").Length - 1);
    }

    [Fact]
    public void The_timeline_has_each_segment_s_real_duration()
    {
        var segmenter = Segmenter();
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([H264, Aac]);
        // Keyframes at 0, 1.2, 2.0, 3.0 and 4.0 s: the one at 2.0 s comes too soon after 1.2 s to cut a segment.
        Publish(publisher, 0, 101, i => i is 0 or 30 or 50 or 75 or 100);

        string manifest = Manifest(segmenter, 1_000_000, Start);
        Assert.Contains("""<S t="0" d="108000"/>""", manifest, StringComparison.Ordinal);
        Assert.Contains("""<S t="108000" d="162000"/>""", manifest, StringComparison.Ordinal);
        Assert.Contains("""<S t="270000" d="90000"/>""", manifest, StringComparison.Ordinal);
        Assert.Equal(6, manifest.Split("<S ").Length - 1); // three segments, in each of the two timelines
        // Six segments of at most the target duration (2 s, from the 1.8 s one) and the one being made.
        Assert.Contains("""timeShiftBufferDepth="PT14S" """, manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void As_the_window_slides_the_availability_start_stays_where_it_was()
    {
        var segmenter = Segmenter(listSize: 2);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([H264, Aac]);
        Publish(publisher, 0, 51, i => i % 25 == 0);
        string early = Manifest(segmenter, 1_000_000, Start);
        Publish(publisher, 51 * Frame, 100, i => (i + 51) % 25 == 0);
        string late = Manifest(segmenter, 1_000_000, Start);

        Assert.Contains("""availabilityStartTime="2026-12-03T09:00:00.000Z" """, early, StringComparison.Ordinal);
        Assert.Contains("""availabilityStartTime="2026-12-03T09:00:00.000Z" """, late, StringComparison.Ordinal);
        Assert.Contains("""timeShiftBufferDepth="PT3S" """, early, StringComparison.Ordinal); // the same from the first manifest on
        Assert.Contains("""timeShiftBufferDepth="PT3S" """, late, StringComparison.Ordinal);
        Assert.DoesNotContain("""<S t="0" """, late, StringComparison.Ordinal);
        Assert.Contains("""<S t="360000" d="90000"/>""", late, StringComparison.Ordinal);
        Assert.Contains("""<S t="450000" d="90000"/>""", late, StringComparison.Ordinal);
        Assert.Equal(4, late.Split("<S ").Length - 1); // two segments a track
    }

    [Fact]
    public void Audio_alone_gets_one_audio_adaptation_set_with_the_least_bandwidth_share()
    {
        var segmenter = Segmenter();
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([Aac with { Index = 0 }]);
        for (int i = 0; i < 100; i++)
        {
            long t = i * 1920; // 1024 samples at 48 kHz
            publisher.Accept(new MediaPacket(0, t, t, true, new byte[50]));
        }

        string manifest = Manifest(segmenter, 100_000, Start);
        Assert.Single(manifest.Split("<AdaptationSet ").Skip(1));
        Assert.Contains("""<AdaptationSet id="0" contentType="audio" mimeType="audio/mp4" """, manifest, StringComparison.Ordinal);
        Assert.Contains("""<Representation id="0" bandwidth="32000" codecs="mp4a.40.2" audioSamplingRate="48000">""", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain(" width=", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void New_tracks_give_a_new_init_segment_generation_in_the_template()
    {
        var segmenter = Segmenter();
        using (var first = _feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            first.OnTracks([H264, Aac]);
            Publish(first, 0, 51, i => i % 25 == 0);
        }

        using var second = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        second.OnTracks([H264 with { Width = 640, Height = 480 }, Aac]);
        Publish(second, 0, 51, i => i % 25 == 0);

        string manifest = Manifest(segmenter, 1_000_000, Start);
        Assert.Contains("""initialization="t6oow0-dash2-0.mp4" """, manifest, StringComparison.Ordinal);
        Assert.Contains("""width="640" height="480">""", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_endpoint_serves_the_manifest_as_dash_xml_with_the_segmenter_s_peak_bandwidth()
    {
        var segmenter = Segmenter();
        var stream = new LiveStream(segmenter.Config with { Format = "dash" }, _feed, OutputFormat.Dash, NullLogger.Instance);
        using var publisher = _feed.TryAcquire(IPAddress.Loopback, "test")!;
        publisher.OnTracks([H264, Aac]);
        Publish(publisher, 0, 51, i => i % 25 == 0);
        var endpoint = new DashEndpoint(new SegmentedResponses(Epoch, _time), _time);
        var (context, body) = Request();

        await endpoint.ManifestAsync(context, stream, segmenter, CancellationToken.None);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("application/dash+xml", context.Response.ContentType);
        Assert.Equal(SegmentedResponses.Short, context.Response.Headers.CacheControl.ToString());
        Assert.True(segmenter.PeakBitRate > 0);
        Assert.Equal(segmenter.PeakBitRate * 5 / 4, SegmentedResponses.BandwidthOf(stream, segmenter)); // a quarter above the peak so far
        Assert.Equal(Manifest(segmenter, segmenter.PeakBitRate * 5 / 4, Start), Encoding.UTF8.GetString(body.ToArray()));
    }

    [Fact]
    public async Task The_endpoint_answers_503_when_no_segment_comes_within_15_s_of_the_server_s_clock()
    {
        var segmenter = Segmenter();
        var stream = new LiveStream(segmenter.Config, _feed, OutputFormat.WebM, NullLogger.Instance);
        var endpoint = new DashEndpoint(new SegmentedResponses(Epoch, _time), _time);
        var (context, body) = Request();

        var answer = endpoint.ManifestAsync(context, stream, segmenter, CancellationToken.None);
        Assert.False(answer.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(15));
        await answer.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("Stream live has no DASH yet: no publisher has sent it yet.\n", Encoding.UTF8.GetString(body.ToArray()));
    }

    [Fact]
    public async Task The_endpoint_refuses_a_stream_with_MPEG_TS_segments_with_404()
    {
        var segmenter = Segmenter(segmentFormat: "ts");
        var stream = new LiveStream(segmenter.Config, _feed, OutputFormat.WebM, NullLogger.Instance);
        var endpoint = new DashEndpoint(new SegmentedResponses(Epoch, _time), _time);
        var (context, body) = Request();

        await endpoint.ManifestAsync(context, stream, segmenter, CancellationToken.None);

        Assert.Equal(404, context.Response.StatusCode);
        Assert.Equal("Stream live has MPEG-TS segments (HLSFormat ts); DASH needs HLSFormat fmp4 (:0).\n", Encoding.UTF8.GetString(body.ToArray()));
    }

    private static (DefaultHttpContext Context, MemoryStream Body) Request()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        var body = new MemoryStream();
        context.Response.Body = body;
        return (context, body);
    }
}
