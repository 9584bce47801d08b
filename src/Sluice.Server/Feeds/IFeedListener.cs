using Sluice.Media;

namespace Sluice.Server.Feeds;

/// <summary>
/// Receives a feed's packets on the ingest's own thread, synchronously: implementations must be quick
/// and never wait (no I/O, no viewer).
/// </summary>
internal interface IFeedListener
{
    /// <summary>A publisher's tracks are known. <paramref name="continues"/> is false when they differ
    /// from the previous publisher's, so a container header must be written anew.</summary>
    void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues);

    /// <summary>
    /// A packet with times already made continuous across publisher sessions, lent for the call: a listener that
    /// keeps it (or hands it to another feed) retains it first (<see cref="MediaPacket.Retain"/>) and releases it when done.
    /// </summary>
    void OnPacket(MediaPacket packet);

    /// <summary>The publisher has gone; the same or another may come back.</summary>
    void OnSessionEnd();
}
