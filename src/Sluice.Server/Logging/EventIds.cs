namespace Sluice.Server.Logging;

/// <summary>
/// The registry of the server's log event ids: each area (a namespace of the server) owns ranges of ids, and each range
/// says the next id free in it. A new log message takes its area's next free id and moves the note on; a new area
/// takes a range no other has. <c>EventIdsTests</c> holds every <c>[LoggerMessage]</c> of the assembly to this: no id
/// twice, each id in a range of its own namespace, below the range's next free id.
/// </summary>
internal static class EventIds
{
    /// <summary>One range of ids: <paramref name="First"/> to <paramref name="Last"/>, owned by <paramref name="Namespace"/>.</summary>
    public readonly record struct Range(int First, int Last, string Namespace, string What, int NextFree);

    public static readonly Range[] Ranges =
    [
        new(1, 99, "Sluice.Server.Hosting", "start-up: the open-file limit", NextFree: 12),
        new(100, 199, "Sluice.Server.Feeds", "a feed's publishers and sessions, and its feed file", NextFree: 110),
        new(200, 209, "Sluice.Server.Streams", "a stream's output, and the ffmpeg that writes a container Sluice does not", NextFree: 208),
        new(210, 299, "Sluice.Server.Transcoding", "renditions and their ffmpeg encoders", NextFree: 230),
        new(300, 399, "Sluice.Server.Delivery", "progressive viewers", NextFree: 313),
        new(400, 449, "Sluice.Server.Ingest", "HTTP publishers", NextFree: 405),
        new(450, 499, "Sluice.Server.Ingest.Rtmp", "RTMP publishers and players", NextFree: 457),
        new(500, 599, "Sluice.Server.Hosting", "requests, connections and memory", NextFree: 533),
        new(600, 699, "Sluice.Server.Feeds", "Launch: a feed's own ffmpeg", NextFree: 605),
        new(700, 799, "Sluice.Server.Hls", "HLS and DASH segmenting", NextFree: 701),
        new(800, 849, "Sluice.Server.Sources", "file streams: a file played as a live source", NextFree: 805),
    ];
}
