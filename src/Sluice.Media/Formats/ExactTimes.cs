using Sluice.Media.Codecs;

namespace Sluice.Media.Formats;

/// <summary>
/// Gives the packets of a source whose container rounds times (<see cref="TrackInfo.TimePrecision"/>: Matroska at its
/// usual millisecond scale, FLV, RTMP) their exact times back, once, at ingest, so that every output carries them:
/// audio of the codecs whose packets say how long they play by its sample count (<see cref="AudioTimeline"/>), video
/// of a constant frame rate on its frame grid (<see cref="FrameGrid"/>; the rate from the container's default
/// duration, else from the first frames' cadence). Vorbis counts its samples by its block sizes (the modes of its
/// setup header, packet after packet, as its Ogg mapping does). Tracks of exact containers (MPEG-TS, MP4), and tracks
/// whose length per packet is unknown (FLAC, PCM), keep their times. Allocates only when the tracks change.
/// </summary>
public sealed class ExactTimes
{
    private const int CadenceFrames = 8;      // frames of an even cadence before a grid is tried
    private const int MaxCadenceFrames = 64;  // the most it waits to tell a whole rate from its 1000/1001 neighbour

    private TrackState[] _tracks = [];

    /// <summary>Starts over with a source's tracks (a new session of the feed).</summary>
    public void OnTracks(IReadOnlyList<TrackInfo> tracks)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        var states = new TrackState[tracks.Count];
        for (int i = 0; i < tracks.Count; i++)
        {
            states[i] = new TrackState(tracks[i]);
        }

        _tracks = states;
    }

    /// <summary>The track's audio timeline once it has one (for tests and the status of a feed), else null.</summary>
    public AudioTimeline? AudioOf(int track) => (uint)track < (uint)_tracks.Length ? _tracks[track].Audio : null;

    /// <summary>The track's frame grid once it has one, else null.</summary>
    public FrameGrid? GridOf(int track) => (uint)track < (uint)_tracks.Length ? _tracks[track].Grid : null;

    /// <summary>The packet with its exact times (the same payload and reference; nothing copied).</summary>
    public MediaPacket Apply(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_tracks.Length)
        {
            return packet;
        }

        var state = _tracks[packet.Track];
        if (!state.Coarse)
        {
            return packet;
        }

        return state.Track.Kind switch
        {
            MediaKind.Audio => Audio(state, packet),
            MediaKind.Video => Video(state, packet),
            _ => packet,
        };
    }

    private static MediaPacket Audio(TrackState state, MediaPacket packet)
    {
        int rate = state.AacRate;
        int samples;
        if (state.Vorbis is { } vorbis)
        {
            samples = vorbis.NextSamples(packet.Payload.Span);
            rate = vorbis.GranuleRate;
        }
        else
        {
            samples = rate > 0 ? 1024 : AudioTimeline.SamplesOf(state.Track, packet.Payload.Span, out rate);
        }

        if (samples <= 0)
        {
            return packet;
        }

        if (state.Audio is null || state.Audio.SampleRate != rate)
        {
            state.Audio = new AudioTimeline(rate, state.Track.TimePrecision);
        }

        var (ticks, duration) = state.Audio.Next(packet.Pts, samples);
        long shift = ticks - packet.Pts;
        return new MediaPacket(packet.Track, packet.Dts + shift, ticks, packet.IsKeyframe, packet.Payload, duration, packet.Owner);
    }

    private static MediaPacket Video(TrackState state, MediaPacket packet)
    {
        var grid = state.Grid ??= LearnGrid(state, packet.Dts);
        if (grid is null)
        {
            return packet;
        }

        long dts = grid.Snap(packet.Dts);
        long pts = packet.Pts == packet.Dts ? dts : grid.Snap(packet.Pts);
        long duration = packet.Duration > 0 ? Math.Max(1, (long)Math.Round(Math.Round(packet.Duration / grid.FrameDuration) * grid.FrameDuration)) : 0;
        return dts == packet.Dts && pts == packet.Pts && duration == packet.Duration
            ? packet
            : new MediaPacket(packet.Track, dts, Math.Max(pts, dts), packet.IsKeyframe, packet.Payload, duration, packet.Owner);
    }

    /// <summary>The grid of the container's default duration; else, after the first frames, of their cadence when it was even.</summary>
    private static FrameGrid? LearnGrid(TrackState state, long dts)
    {
        long precision = state.Track.TimePrecision;
        if (state.Track.DefaultDuration > 0)
        {
            return new FrameGrid(FrameGrid.NominalDuration(state.Track.DefaultDuration), precision);
        }

        if (state.Cadence.Count > 0 && dts <= state.Cadence[^1])
        {
            state.Cadence.Clear(); // B-frames or a jump: no even cadence to learn from here
        }

        state.Cadence.Add(dts);
        if (state.Cadence.Count <= CadenceFrames)
        {
            return null;
        }

        double mean = (state.Cadence[^1] - state.Cadence[0]) / (double)(state.Cadence.Count - 1);
        bool even = true;
        for (int i = 1; i < state.Cadence.Count && even; i++)
        {
            even = Math.Abs(state.Cadence[i] - state.Cadence[i - 1] - mean) <= precision + 1;
        }

        if (!even || mean < 1)
        {
            state.Cadence.RemoveAt(0);
            return null;
        }

        // The mean of n intervals between times rounded to the precision is within 2 × precision / n of the truth.
        double tolerance = Math.Max(1, 2.0 * Math.Max(precision, 1) / (state.Cadence.Count - 1));
        double duration = FrameGrid.NominalDuration(mean, tolerance);
        if (double.IsNaN(duration))
        {
            if (state.Cadence.Count < MaxCadenceFrames)
            {
                return null; // 30 or 29.97? more frames tell
            }

            duration = FrameGrid.NominalDuration(mean, 1) is var near && !double.IsNaN(near) ? near : mean;
        }

        var grid = new FrameGrid(duration, precision);
        grid.Snap(state.Cadence[0]); // anchored at the first frame of the cadence
        state.Cadence.Clear();
        return grid;
    }

    private static Ogg.VorbisMapping? VorbisOf(TrackInfo track)
    {
        try
        {
            return new Ogg.VorbisMapping(track);
        }
        catch (ArgumentException)
        {
            return null; // headers it cannot read: the track keeps its times
        }
    }

    private sealed class TrackState(TrackInfo track)
    {
        public TrackInfo Track { get; } = track;

        public bool Coarse { get; } = track.TimePrecision > 1;

        /// <summary>The core rate of an AAC track (its frames are 1024 samples of it), read once; else 0.</summary>
        public int AacRate { get; } = track.Codec == CodecId.AAC && track.TimePrecision > 1 ? AudioTimeline.RateOfAac(track) : 0;

        /// <summary>A Vorbis track's block sizes and modes, from its headers (null for other codecs, or headers that do not parse).</summary>
        public Ogg.VorbisMapping? Vorbis { get; } = track.Codec == CodecId.Vorbis && track.TimePrecision > 1 ? VorbisOf(track) : null;

        public AudioTimeline? Audio { get; set; }

        public FrameGrid? Grid { get; set; }

        public List<long> Cadence { get; } = [];
    }
}
