namespace Sluice.Media.Tests.Support;

/// <summary>An <see cref="IPacketSink"/> that keeps what it gets.</summary>
internal sealed class PacketRecorder : IPacketSink
{
    public List<IReadOnlyList<TrackInfo>> TrackCalls { get; } = [];
    public List<MediaPacket> Packets { get; } = [];

    public IReadOnlyList<TrackInfo>? Tracks => TrackCalls.Count > 0 ? TrackCalls[0] : null;

    public void OnTracks(IReadOnlyList<TrackInfo> tracks) => TrackCalls.Add(tracks);

    public void Accept(MediaPacket packet) => Packets.Add(packet);

    /// <summary>A line per packet, payload included as a hash, for comparing two runs.</summary>
    public List<string> Describe() => Describe(Packets);

    /// <summary>A line per packet, payload included as a hash, for comparing two runs.</summary>
    public static List<string> Describe(IEnumerable<MediaPacket> packets) =>
        [.. packets.Select(p => $"{p.Track} {p.Dts} {p.Pts} {p.IsKeyframe} {p.Duration} {p.Payload.Length} {Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(p.Payload.Span))}")];
}
