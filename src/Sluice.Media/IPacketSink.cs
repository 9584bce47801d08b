namespace Sluice.Media;

/// <summary>
/// Where a demuxer delivers what it reads. Each packet is handed over with its reference: the sink owns it from the
/// call on and releases it (<see cref="MediaPacket.Release"/>) once nothing it made still points at the payload.
/// The rules of every buffer type are in one table, docs/ownership.md.
/// </summary>
public interface IPacketSink
{
    /// <summary>The tracks are known; called once before the first packet.</summary>
    void OnTracks(IReadOnlyList<TrackInfo> tracks);

    /// <summary>
    /// Takes <paramref name="packet"/> and the one reference to its payload it carries: the sink releases it (or hands
    /// it on to something that does); the caller must not touch the payload after the call.
    /// </summary>
    void Accept(MediaPacket packet);
}
