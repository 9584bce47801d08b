using Sluice.Media;

namespace Sluice.Server.Feeds;

/// <summary>
/// Receives a feed's packets on the ingest's own thread, synchronously: implementations must be quick
/// and never wait (no I/O, no viewer). A listener observes packets it does not own (the feed's ring does);
/// the rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
internal interface IFeedListener
{
    /// <summary>A publisher's tracks are known. <paramref name="continues"/> is false when they differ
    /// from the previous publisher's, so a container header must be written anew.</summary>
    void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues);

    /// <summary>
    /// A packet with times already made continuous across publisher sessions, lent for the call only: the listener
    /// must not release it. One that keeps it past the call (or hands it to an <see cref="IPacketSink"/>, which takes
    /// a reference) retains it first (<see cref="MediaPacket.Retain"/>) and releases that reference when done.
    /// </summary>
    void Observe(in MediaPacket packet);

    /// <summary>The publisher has gone; the same or another may come back.</summary>
    void OnSessionEnd();
}
