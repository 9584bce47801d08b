using Sluice.Media.Buffers;

namespace Sluice.Media;

/// <summary>
/// One compressed frame of one track, a value: every stream and viewer reads the same payload memory.
/// Times are in <see cref="MediaTime"/> ticks (90 kHz).
/// <para>
/// A payload a demuxer made lives in a <see cref="PooledBlock"/> (<see cref="Owner"/>), and a packet handed to
/// <see cref="IPacketSink.Accept"/> carries one reference to it: the sink releases it (<see cref="Release"/>) when
/// nothing it made still points at the payload. A packet passed to an observer (the server's feed listeners) is only
/// lent: whoever keeps it past the call retains it first (<see cref="Retain"/>) and releases that reference.
/// The rules of every buffer type are in one table, docs/ownership.md.
/// </para>
/// </summary>
public readonly struct MediaPacket
{
    public MediaPacket(int track, long dts, long pts, bool isKeyframe, ReadOnlyMemory<byte> payload, long duration = 0, PooledBlock? owner = null)
    {
        Track = track;
        Dts = dts;
        Pts = pts;
        IsKeyframe = isKeyframe;
        Payload = payload;
        Duration = duration;
        Owner = owner;
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

    /// <summary>The pooled block that holds the payload, or null for a payload the garbage collector looks after.</summary>
    public PooledBlock? Owner { get; }

    /// <summary>A copy with times moved by <paramref name="offset"/> ticks; the payload (and its reference) is shared, not copied.</summary>
    public MediaPacket Shifted(long offset) =>
        offset == 0 ? this : new MediaPacket(Track, Dts + offset, Pts + offset, IsKeyframe, Payload, Duration, Owner);

    /// <summary>The same packet as track <paramref name="track"/>; the payload (and its reference) is shared.</summary>
    public MediaPacket AsTrack(int track) =>
        track == Track ? this : new MediaPacket(track, Dts, Pts, IsKeyframe, Payload, Duration, Owner);

    /// <summary>Adds a holder of the payload's block; returns the block (null when the payload is not pooled).</summary>
    public PooledBlock? Retain() => Owner?.Retain();

    /// <summary>Gives up one reference to the payload's block.</summary>
    public void Release() => Owner?.Release();

    public override string ToString() => $"track {Track} dts {Dts} pts {Pts}{(IsKeyframe ? " key" : "")} {Payload.Length} B";
}
