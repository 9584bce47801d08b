using Sluice.Media.Codecs;
using Sluice.Media.Formats;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Tests.Formats;
using Sluice.Media.Tests.Support;

namespace Sluice.Media.Tests.Codecs;

public sealed class AudioTimelineTests
{
    private const long Ms = MediaTime.TicksPerMillisecond;

    /// <summary>A time converted to a track's sample rate as an MP4 muxer does (nearest).</summary>
    private static long ToSamples(long ticks, int rate) => (long)Math.Round(ticks * (double)rate / MediaTime.TicksPerSecond, MidpointRounding.AwayFromZero);

    /// <summary>The millisecond time a container writes for a true time (rounded to nearest, or truncated).</summary>
    private static long Millis(double seconds, bool truncate) => (long)(truncate ? Math.Floor(seconds * 1000) : Math.Round(seconds * 1000, MidpointRounding.AwayFromZero)) * Ms;

    [Theory]
    [InlineData(48000, false)]
    [InlineData(48000, true)]
    [InlineData(44100, false)]
    [InlineData(44100, true)]
    public void Aac_frames_timed_in_milliseconds_come_out_1024_samples_apart(int rate, bool truncate)
    {
        var timeline = new AudioTimeline(rate, Ms);
        long? first = null;
        long previous = 0;
        for (int n = 0; n < 3000; n++)
        {
            double seconds = 12.345 + (n * 1024.0 / rate);
            var (ticks, duration) = timeline.Next(Millis(seconds, truncate), 1024);
            long samples = ToSamples(ticks, rate);
            first ??= samples;
            Assert.Equal(first.Value + (n * 1024L), samples);
            Assert.Equal(1024, ToSamples(ticks + duration, rate) - samples);
            if (n > 0)
            {
                Assert.Equal(1024, samples - previous);
            }

            previous = samples;
        }

        Assert.Equal(0, timeline.Discontinuities);
        Assert.Equal(0, timeline.DriftSteps);
        Assert.InRange(first!.Value - (12.345 * rate), -rate / 1000.0, rate / 1000.0); // anchored at the source, within its millisecond
    }

    [Fact]
    public void Opus_packets_of_mixed_sizes_follow_their_sample_counts()
    {
        var timeline = new AudioTimeline(48000, Ms);
        int[] sizes = [960, 960, 480, 480, 1920, 960, 2880, 120, 240, 960];
        long position = 0;
        long? start = null;
        for (int round = 0; round < 100; round++)
        {
            foreach (int size in sizes)
            {
                var (ticks, _) = timeline.Next(Millis(position / 48000.0, truncate: false), size);
                start ??= ToSamples(ticks, 48000);
                Assert.Equal(start.Value + position, ToSamples(ticks, 48000));
                position += size;
            }
        }

        Assert.Equal(0, timeline.Discontinuities);
    }

    [Fact]
    public void Mp3_frames_at_44100_are_1152_samples_apart()
    {
        var timeline = new AudioTimeline(44100, Ms);
        long previous = long.MinValue;
        for (int n = 0; n < 1000; n++)
        {
            var (ticks, _) = timeline.Next(Millis(n * 1152 / 44100.0, truncate: false), 1152);
            long samples = ToSamples(ticks, 44100);
            if (previous != long.MinValue)
            {
                Assert.Equal(1152, samples - previous);
            }

            previous = samples;
        }
    }

    [Fact]
    public void A_real_gap_in_the_source_is_kept_and_the_timeline_goes_on_from_it()
    {
        var timeline = new AudioTimeline(48000, Ms);
        var times = new List<long>();
        for (int n = 0; n < 200; n++)
        {
            int frame = n < 100 ? n : n + 10; // ten frames (213 ms) missing after the hundredth
            times.Add(timeline.Next(Millis(frame * 1024 / 48000.0, truncate: false), 1024).Ticks);
        }

        Assert.Equal(1, timeline.Discontinuities);
        Assert.InRange(times[100] - times[99], (11 * 1920) - 90, (11 * 1920) + 90); // the gap, within the millisecond it was timed to
        for (int n = 101; n < 200; n++)
        {
            Assert.Equal(1920, times[n] - times[n - 1]); // exact again after it
        }
    }

    [Fact]
    public void A_source_that_drifts_slowly_is_followed_a_sample_at_a_time()
    {
        // The source's times run 0.05 % fast against its sample count: 24 samples a second at 48 kHz.
        var timeline = new AudioTimeline(48000, Ms);
        long previous = long.MinValue;
        double lastSource = 0;
        long lastSamples = 0;
        for (int n = 0; n < 47 * 120; n++)
        {
            double seconds = n * 1024 / 48000.0 * 1.0005;
            var (ticks, _) = timeline.Next(Millis(seconds, truncate: false), 1024);
            long samples = ToSamples(ticks, 48000);
            if (previous != long.MinValue)
            {
                Assert.InRange(samples - previous, 1024, 1025); // never a step of more than one sample
            }

            previous = samples;
            lastSource = seconds * 48000;
            lastSamples = samples;
        }

        Assert.Equal(0, timeline.Discontinuities);
        Assert.True(timeline.DriftSteps > 0);
        Assert.InRange(lastSamples - lastSource, -2 * 48, 2 * 48); // within two milliseconds of the source after two minutes
    }

    [Fact]
    public void A_packet_of_unknown_length_keeps_its_time_and_the_next_anchors_anew()
    {
        var timeline = new AudioTimeline(48000, Ms);
        timeline.Next(0, 1024);
        Assert.Equal((123 * Ms, 0L), timeline.Next(123 * Ms, 0));
        Assert.Equal(456 * Ms, timeline.Next(456 * Ms, 1024).Ticks);
    }

    [Fact]
    public void Frame_sizes_come_from_the_codec()
    {
        var aac = new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, CodecPrivate = new byte[] { 0x11, 0x90 } };
        Assert.Equal(1024, AudioTimeline.SamplesOf(aac, [], out int rate));
        Assert.Equal(48000, rate);
        var heAac = aac with { CodecPrivate = new byte[] { 0x2B, 0x11, 0x88, 0x00 }, SampleRate = 48000 }; // SBR, core 24 kHz, output 48 kHz
        Assert.Equal(1024, AudioTimeline.SamplesOf(heAac, [], out rate));
        Assert.Equal(24000, rate);
        var opus = new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.Opus, SampleRate = 48000 };
        Assert.Equal(960, AudioTimeline.SamplesOf(opus, [0xFC, 1, 2], out rate)); // CELT 20 ms, one frame
        Assert.Equal(48000, rate);
        var mp3 = new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.MP3 };
        Assert.Equal(1152, AudioTimeline.SamplesOf(mp3, [0xFF, 0xFB, 0x90, 0x64], out rate));
        Assert.Equal(44100, rate);
        var vorbis = new TrackInfo { Index = 0, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, SampleRate = 48000 };
        Assert.Equal(0, AudioTimeline.SamplesOf(vorbis, [1, 2, 3], out _));
    }
}

public sealed class FrameGridTests
{
    private const long Ms = MediaTime.TicksPerMillisecond;

    [Fact]
    public void Thirty_frames_a_second_in_milliseconds_come_back_3000_ticks_apart()
    {
        var grid = new FrameGrid(3000, Ms);
        long first = grid.Snap(MediaTime.FromMilliseconds(1000));
        for (int n = 1; n < 1000; n++)
        {
            long ms = (long)Math.Round(1000 + (n * 1000 / 30.0), MidpointRounding.AwayFromZero);
            Assert.Equal(first + (n * 3000L), grid.Snap(MediaTime.FromMilliseconds(ms)));
        }

        Assert.Equal(0, grid.Reanchors);
    }

    [Theory]
    [InlineData(3754, 90000 * 1001 / 24000.0)]  // 23.976 fps
    [InlineData(3003, 3003)]                     // 29.97
    [InlineData(1502, 1501.5)]                   // 59.94
    [InlineData(3000, 3000)]                     // 30
    [InlineData(3600, 3600)]                     // 25
    [InlineData(3333, 90000 / 27.0)]             // 27
    [InlineData(3456, 3456)]                     // no common rate: kept
    public void Rounded_durations_of_the_common_rates_become_exact(double rounded, double exact) =>
        Assert.Equal(exact, FrameGrid.NominalDuration(rounded), 6);

    [Fact]
    public void At_23_976_the_frames_alternate_between_3753_and_3754_ticks_without_drifting()
    {
        var grid = new FrameGrid(FrameGrid.NominalDuration(3754), Ms);
        double frame = 1001 / 24.0; // ms
        long first = grid.Snap(0);
        for (int n = 1; n < 24_000; n++)
        {
            long snapped = grid.Snap(MediaTime.FromMilliseconds((long)Math.Round(n * frame)));
            Assert.Equal(first + (long)Math.Round(n * 3753.75, MidpointRounding.AwayFromZero), snapped);
        }
    }

    [Fact]
    public void A_variable_frame_rate_passes_unchanged_and_a_jump_anchors_anew()
    {
        var grid = new FrameGrid(3000, Ms);
        grid.Snap(0);
        Assert.Equal(4500, grid.Snap(4500));   // half a frame off: not on the grid
        Assert.Equal(6000, grid.Snap(6030));   // back on it
        Assert.Equal(101_000, grid.Snap(101_000));
        Assert.Equal(102_100, grid.Snap(102_100));
        Assert.Equal(103_200, grid.Snap(103_200)); // three off the grid in a row: anchored here
        Assert.Equal(1, grid.Reanchors);
        Assert.Equal(106_200, grid.Snap(106_230));
    }
}

public sealed class ExactTimesTests
{
    private const long Ms = MediaTime.TicksPerMillisecond;

    private static readonly TrackInfo Video = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, DefaultDuration = 3000, TimePrecision = Ms };
    private static readonly TrackInfo Audio = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, CodecPrivate = new byte[] { 0x11, 0x90 }, TimePrecision = Ms };

    [Fact]
    public void A_millisecond_source_gets_exact_audio_and_video_times_with_its_payloads_untouched()
    {
        var exact = new ExactTimes();
        exact.OnTracks([Video, Audio]);
        byte[] payload = [1, 2, 3];
        long? firstAudio = null;
        for (int n = 0; n < 300; n++)
        {
            long videoMs = (long)Math.Round(n * 1000 / 30.0);
            var video = exact.Apply(new MediaPacket(0, MediaTime.FromMilliseconds(videoMs), MediaTime.FromMilliseconds(videoMs + 67), n % 30 == 0, payload));
            Assert.Equal(n * 3000L, video.Dts);
            Assert.Equal((n + 2) * 3000L, video.Pts); // two frames of reordering, on the grid too
            Assert.Equal(n % 30 == 0, video.IsKeyframe);

            long audioMs = (long)Math.Round(n * 1024 / 48.0);
            var audio = exact.Apply(new MediaPacket(1, MediaTime.FromMilliseconds(audioMs), MediaTime.FromMilliseconds(audioMs), true, payload, 21 * Ms));
            firstAudio ??= audio.Pts;
            Assert.Equal(firstAudio.Value + (n * 1920L), audio.Pts);
            Assert.Equal(audio.Pts, audio.Dts);
            Assert.Equal(1920, audio.Duration);
            Assert.True(audio.Payload.Span.SequenceEqual(payload));
        }
    }

    [Fact]
    public void Exact_containers_keep_their_times()
    {
        var exact = new ExactTimes();
        exact.OnTracks([Video with { TimePrecision = 0 }, Audio with { TimePrecision = 0 }]);
        var packet = new MediaPacket(1, 1234, 1234, true, new byte[] { 1 });
        Assert.Equal(1234, exact.Apply(packet).Pts);
        Assert.Equal(0, exact.Apply(packet).Duration);
    }

    [Fact]
    public void Vorbis_from_a_real_webm_is_timed_by_its_block_sizes()
    {
        // ffmpeg's libvorbis at 44.1 kHz in WebM: millisecond times, packets of short and long blocks.
        var source = Feeder.Feed(new MatroskaDemuxer(), MuxerSources.Bytes(MuxerSources.Vorbis), int.MaxValue);
        var track = source.Tracks![0];
        Assert.Equal(CodecId.Vorbis, track.Codec);
        Assert.Equal(Ms, track.TimePrecision);
        var exact = new ExactTimes();
        exact.OnTracks([track]);
        var samples = source.Packets.Select(p => exact.Apply(p)).Select(p => (long)Math.Round(p.Pts * 44100.0 / MediaTime.TicksPerSecond)).ToList();
        var steps = samples.Zip(samples.Skip(1), (a, b) => b - a).Distinct().Order().ToList();
        // Each step is what a packet returns: (previous block + its block) / 4, of libvorbis's 256- and 2048-sample blocks.
        Assert.All(steps, step => Assert.Contains(step, new long[] { 128, 576, 1024 }));
        Assert.True(steps.Count > 1, $"steps {string.Join(", ", steps)}");
        Assert.Equal(0, exact.AudioOf(0)!.Discontinuities);
        long lastSource = (long)Math.Round(source.Packets[^1].Pts * 44100.0 / MediaTime.TicksPerSecond);
        Assert.InRange(samples[^1] - lastSource, -45, 45); // still where the source put it, within its millisecond
    }

    [Fact]
    public void Without_a_default_duration_the_grid_is_learnt_from_an_even_cadence()
    {
        var exact = new ExactTimes();
        exact.OnTracks([Video with { DefaultDuration = 0 }]);
        var times = new List<long>();
        for (int n = 0; n < 100; n++)
        {
            long ms = (long)Math.Round(n * 1000 / 30.0, MidpointRounding.AwayFromZero);
            times.Add(exact.Apply(new MediaPacket(0, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), false, new byte[] { 1 })).Dts);
        }

        Assert.Equal(3000, exact.GridOf(0)!.FrameDuration);
        int learnt = times.Count;
        for (int n = times.Count - 1; n >= 0 && times[n] == n * 3000L; n--)
        {
            learnt = n;
        }

        // Once the cadence told 30 from 29.97 fps (a millisecond over 60 frames is 1.5 ticks a frame), on the grid
        // anchored at the first frame.
        Assert.InRange(learnt, 8, 64);
        for (int n = learnt; n < times.Count; n++)
        {
            Assert.Equal(n * 3000L, times[n]);
        }
    }
}
