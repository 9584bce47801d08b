using System.Collections.Frozen;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;

namespace Sluice.Server.Streams;

/// <summary>
/// The config's feeds and streams as the server runs them, by name: what a publisher may publish to and what a viewer,
/// a player or a page may read. Read-only; <see cref="SluiceServer"/> builds it once for the configuration.
/// </summary>
internal sealed class StreamDirectory(
    FrozenDictionary<string, Feed> feeds,
    FrozenDictionary<string, LiveStream> streams,
    FrozenDictionary<string, LiveStream> rtmpStreams,
    FrozenDictionary<string, HlsSegmenter> segmenters)
{
    /// <summary>Every feed, by its name in the config (the path a publisher posts to).</summary>
    public FrozenDictionary<string, Feed> Feeds { get; } = feeds;

    /// <summary>Every stream but the status ones, by name: the progressive output each viewer reads.</summary>
    public FrozenDictionary<string, LiveStream> Streams { get; } = streams;

    /// <summary>The output for RTMP players of each stream whose Format can carry a codec RTMP carries (empty without RTMPPort).</summary>
    public FrozenDictionary<string, LiveStream> RtmpStreams { get; } = rtmpStreams;

    /// <summary>The HLS/DASH segmenter of each stream served that way (all but those with HLS off).</summary>
    public FrozenDictionary<string, HlsSegmenter> Segmenters { get; } = segmenters;
}
