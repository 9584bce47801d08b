namespace Sluice.Media;

/// <summary>Where a demuxer delivers what it reads.</summary>
public interface IPacketSink
{
    /// <summary>The tracks are known; called once before the first packet.</summary>
    void OnTracks(IReadOnlyList<TrackInfo> tracks);

    void OnPacket(MediaPacket packet);
}
