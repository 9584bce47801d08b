namespace Sluice.Media;

/// <summary>
/// One compressed frame of one track. Immutable once published to a feed: every stream and viewer
/// reads the same instance and the same payload memory.
/// Times are in <see cref="MediaTime"/> ticks (90 kHz).
/// </summary>
public sealed class MediaPacket
{
    public MediaPacket(int track, long dts, long pts, bool isKeyframe, ReadOnlyMemory<byte> payload, long duration = 0)
    {
        Track = track;
        Dts = dts;
        Pts = pts;
        IsKeyframe = isKeyframe;
        Payload = payload;
        Duration = duration;
    }

    /// <summary>Index of the track in the feed's track list (<see cref="TrackInfo.Index"/>).</summary>
    public int Track { get; }

    public long Dts { get; }
    public long Pts { get; }

    /// <summary>Duration in ticks when known, else 0.</summary>
    public long Duration { get; }

    /// <summary>A random access point: decoding can start here.</summary>
    public bool IsKeyframe { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>A copy with times moved by <paramref name="offset"/> ticks; the payload is shared, not copied.</summary>
    public MediaPacket Shifted(long offset) =>
        offset == 0 ? this : new MediaPacket(Track, Dts + offset, Pts + offset, IsKeyframe, Payload, Duration);

    public override string ToString() => $"track {Track} dts {Dts} pts {Pts}{(IsKeyframe ? " key" : "")} {Payload.Length} B";
}
