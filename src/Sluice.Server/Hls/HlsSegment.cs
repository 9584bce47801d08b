using Sluice.Media;
using Sluice.Media.Formats.Mp4;

namespace Sluice.Server.Hls;

/// <summary>
/// An init segment (ftyp + moov) of CMAF segments, a new one whenever the tracks change; and for DASH, which wants
/// one track a representation, an init segment and a writer for each track.
/// </summary>
internal sealed record HlsInit(int Generation, byte[] Data, DateTimeOffset Created, IReadOnlyList<TrackInfo> Tracks, IReadOnlyList<byte[]> TrackData)
{
    internal FragmentedMp4Muxer[] TrackWriters { get; init; } = [];
}

/// <summary>An LL-HLS partial segment: one CMAF fragment, immutable once made.</summary>
internal sealed record HlsPart(long Sequence, int Index, byte[] Data, double Duration, bool Independent, DateTimeOffset Created);

/// <summary>
/// A media segment, starting at a keyframe. Parts are added while it grows; <see cref="Data"/> is set when it is
/// complete (the parts' bytes joined, or the MPEG-TS bytes) and never changes after.
/// </summary>
internal sealed class HlsSegment
{
    private readonly List<HlsPart> _parts = [];
    private readonly Dictionary<int, byte[]> _trackData = [];

    public HlsSegment(long sequence, HlsInit? init, bool discontinuity, DateTimeOffset programDateTime, long startTicks, long sessionTicks)
    {
        Sequence = sequence;
        Init = init;
        Discontinuity = discontinuity;
        ProgramDateTime = programDateTime;
        StartTicks = startTicks;
        SessionTicks = sessionTicks;
    }

    public long Sequence { get; }

    /// <summary>The init segment its fragments need (null for MPEG-TS segments).</summary>
    public HlsInit? Init { get; }

    /// <summary>True for the first segment after the publisher came back or the tracks changed.</summary>
    public bool Discontinuity { get; }

    public DateTimeOffset ProgramDateTime { get; }

    /// <summary>The decode time of its first packet (90 kHz), on the stream's time line.</summary>
    public long StartTicks { get; }

    /// <summary>The <see cref="StartTicks"/> of the first segment of its publisher session (the same for all of them).</summary>
    public long SessionTicks { get; }

    /// <summary>Parts made so far (read under the segmenter's lock, or after completion).</summary>
    public IReadOnlyList<HlsPart> Parts => _parts;

    public byte[]? Data { get; private set; }

    public double Duration { get; private set; }

    public DateTimeOffset Completed { get; private set; }

    public bool IsComplete => Data is not null;

    /// <summary>
    /// Where each track of a complete segment starts and ends (90 kHz, on the stream's time line; Start is
    /// <see cref="long.MinValue"/> for a track with no packet in it): a track's end is the segment's end for the track
    /// that times the segments, else its last packet's time plus that packet's length.
    /// </summary>
    public IReadOnlyList<(long Start, long End)> TrackSpans { get; private set; } = [];

    /// <summary>The packets of a complete CMAF segment (shared, not copied), for its one-track DASH forms.</summary>
    internal IReadOnlyList<MediaPacket> Packets { get; private set; } = [];

    internal void AddPart(HlsPart part) => _parts.Add(part);

    /// <summary>
    /// The wall clock of media time 0 of a complete CMAF segment's tracks, from the track that times the segments (the
    /// video, else the first): its PROGRAM-DATE-TIME less that track's time (the same for every segment of a session).
    /// Null for one with no such track.
    /// </summary>
    internal DateTimeOffset? MediaOrigin()
    {
        int timing = TimingTrack(Init?.Tracks ?? []);
        if (timing < 0 || Init!.TrackWriters is not { } writers || timing >= writers.Length || timing >= TrackSpans.Count || TrackSpans[timing].Start == long.MinValue)
        {
            return null;
        }

        return ProgramDateTime - TimeSpan.FromSeconds(writers[timing].TrackTime(0, TrackSpans[timing].Start) / (double)writers[timing].TimescaleOf(0));
    }

    /// <summary>The track segments are cut on: the video, else the first (-1 with none).</summary>
    internal static int TimingTrack(IReadOnlyList<TrackInfo> tracks)
    {
        for (int t = 0; t < tracks.Count; t++)
        {
            if (tracks[t].Kind == MediaKind.Video)
            {
                return t;
            }
        }

        return tracks.Count > 0 ? 0 : -1;
    }

    internal void Complete(byte[] data, double duration, DateTimeOffset now, IReadOnlyList<MediaPacket> packets, IReadOnlyList<(long Start, long End)> trackSpans)
    {
        Duration = duration;
        TrackSpans = trackSpans;
        Completed = now;
        Packets = packets;
        Data = data;
    }

    /// <summary>Gives up the segment's references to its packets' payloads; its one-track forms not made by now never will be. Call under the segmenter's lock.</summary>
    internal void ReleasePackets()
    {
        foreach (var packet in Packets)
        {
            packet.Release();
        }

        Packets = [];
    }

    /// <summary>The segment's fragment of one track (DASH), made on first request and kept. Call under the segmenter's lock.</summary>
    internal byte[]? TrackData(int track)
    {
        if (Init is null || !IsComplete || (uint)track >= (uint)Init.TrackWriters.Length)
        {
            return null;
        }

        if (!_trackData.TryGetValue(track, out var data))
        {
            var packets = Packets.Where(p => p.Track == track).Select(p => p.AsTrack(0)).ToList();
            if (packets.Count == 0)
            {
                return null;
            }

            data = Init.TrackWriters[track].WriteFragment(packets);
            _trackData[track] = data;
        }

        return data;
    }
}
