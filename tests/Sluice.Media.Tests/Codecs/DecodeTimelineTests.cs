using Sluice.Media.Codecs;

namespace Sluice.Media.Tests.Codecs;

/// <summary>Decode times derived from presentation times in decoding order.</summary>
public sealed class DecodeTimelineTests
{
    private const long Frame = 3600; // 25 fps

    [Fact]
    public void B_pyramid_gets_the_decode_times_ffmpeg_derives()
    {
        // x264's B-pyramid (-bf 3): I0 P4 B2 b1 b3 | P8 B6 b5 b7, in frames; depth 2.
        long[] pts = [0, 4, 2, 1, 3, 8, 6, 5, 7];
        var timeline = new DecodeTimeline(2, Frame);
        var dts = pts.Select(p => timeline.Next(p * Frame)).ToArray();
        Assert.Equal(new long[] { -2, -1, 0, 1, 2, 3, 4, 5, 6 }.Select(f => f * Frame), dts);
        Assert.Equal(2 * Frame, timeline.Lead);
    }

    [Fact]
    public void Without_reordering_decode_times_are_presentation_times()
    {
        var timeline = new DecodeTimeline(0, Frame);
        Assert.Equal(new long[] { 0, 3600, 7200 }, new long[] { 0, 3600, 7200 }.Select(timeline.Next));
        Assert.Equal(0, timeline.Lead);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(1)]
    [InlineData(0)]
    public void Decode_times_rise_and_follow_the_picture_only_while_a_deeper_stream_is_found_out(int depth)
    {
        // Random GOPs of I/P frames with up to 3 B-frames between, shown in any order, in decoding order (reordering
        // depth up to 3). Told less, the timeline gives a frame a decode time after its picture each time it finds
        // the stream deeper, then keeps the rule; decode times rise throughout.
        var random = new Random(7);
        var pts = new List<long>();
        long next = 0;
        while (pts.Count < 2000)
        {
            int bs = random.Next(0, 4);
            pts.Add((next + bs) * Frame); // the reference frame, shown after the B-frames
            pts.AddRange(Enumerable.Range(0, bs).Select(b => (next + b) * Frame).OrderBy(_ => random.Next()));
            next += bs + 1;
        }

        var timeline = new DecodeTimeline(depth, Frame);
        long last = long.MinValue;
        int late = 0;
        foreach (long p in pts)
        {
            long dts = timeline.Next(p);
            Assert.True(dts > last, $"dts {dts} not after {last}");
            late += dts > p ? 1 : 0;
            last = dts;
        }

        // At most once for each frame of depth it was not told; never when told enough.
        Assert.InRange(late, depth >= 3 ? 0 : 1, Math.Max(0, 3 - depth));
    }

    [Fact]
    public void Only_h264_and_h265_have_a_depth()
    {
        var vp8 = new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8 };
        Assert.Equal(0, DecodeTimeline.DepthOf(vp8));
        // H.264 whose codec private data says nothing: x264's usual depth is assumed.
        Assert.Equal(DecodeTimeline.AssumedH264Depth, DecodeTimeline.DepthOf(vp8 with { Codec = CodecId.H264 }));
    }
}
