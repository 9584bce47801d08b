using Sluice.Media.Codecs.H264;
using Sluice.Media.Codecs.H265;

namespace Sluice.Media.Codecs;

/// <summary>
/// Derives decode times for video whose container stores presentation times only (Matroska), from the frames'
/// presentation times in decoding order and the codec's reordering depth D (the most frames that precede a frame in
/// decoding order and follow it in output order). The decode time of frame i is the (i−D)-th smallest presentation
/// time: at frame i every frame of that rank has arrived (a later one would be preceded in decoding order by more than
/// D frames that follow it), so no frame is held back; and it is at most frame i's own presentation time, because at
/// least i−D of the frames before it are shown before it. The first D frames, before there is such a rank, are placed
/// a frame apart before the earliest presentation time seen. This is what ffmpeg derives for the same input. A stream
/// that reorders deeper than it says gets one decode time out of step (after its picture) and a deeper depth from then on.
/// </summary>
public sealed class DecodeTimeline
{
    /// <summary>The depth assumed for H.264 whose SPS does not state it: what x264 writes for B-pyramids.</summary>
    public const int AssumedH264Depth = 2;

    private readonly PriorityQueue<long, long> _pending = new();
    /// <summary>The deepest reordering H.264 and H.265 allow (a DPB of 16 frames).</summary>
    public const int MaxDepth = 16;

    private int _depth;
    private readonly long _frameDuration;
    private long _frames;
    private long _earliest = long.MaxValue;
    private long _last = long.MinValue;

    public DecodeTimeline(int depth, long frameDuration)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        _depth = Math.Min(depth, MaxDepth);
        _frameDuration = Math.Max(frameDuration, 1);
        Lead = _depth * _frameDuration;
    }

    /// <summary>How far before its first presentation time the stream's first decode time lies: D frames (as stated at the start).</summary>
    public long Lead { get; }

    /// <summary>The decode time of the next frame in decoding order, given its presentation time.</summary>
    public long Next(long pts)
    {
        long dts;
        _pending.Enqueue(pts, pts);
        _earliest = Math.Min(_earliest, pts);
        if (_frames < _depth)
        {
            dts = _earliest - ((_depth - _frames) * _frameDuration);
        }
        else if (_pending.Peek() <= _last && _depth < MaxDepth)
        {
            // A frame shown before one already given its decode time: the stream reorders deeper than its SPS says.
            // Hold one frame more from now on; this frame's decode time can only follow the last one.
            _depth++;
            dts = _last + 1;
        }
        else
        {
            dts = _pending.Dequeue();
        }

        _frames++;
        dts = Math.Max(dts, _last + 1); // decode times always rise
        _last = dts;
        return dts;
    }

    /// <summary>
    /// The reordering depth of a track: from the SPS in its codec private data for H.264 and H.265, 0 for every other
    /// codec (no B-frames, or a container that carries decode times).
    /// </summary>
    public static int DepthOf(TrackInfo track)
    {
        ArgumentNullException.ThrowIfNull(track);
        switch (track.Codec)
        {
            case CodecId.H264:
                var avc = AvcDecoderConfiguration.Parse(track.CodecPrivate.Span);
                var sps = avc is { Sps.Count: > 0 } ? H264Sps.Parse(avc.Sps[0]) : null;
                if (sps is not null)
                {
                    return sps.MaxNumReorderFrames ?? AssumedH264Depth;
                }

                return avc is { ProfileIdc: 66 } ? 0 : AssumedH264Depth;
            case CodecId.H265:
                var hevc = HevcDecoderConfiguration.Parse(track.CodecPrivate.Span);
                return hevc is { Sps.Count: > 0 } && H265Sps.Parse(hevc.Sps[0]) is { } hsps ? hsps.MaxNumReorderPics : AssumedH264Depth;
            default:
                return 0;
        }
    }
}
