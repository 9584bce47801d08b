using Sluice.Media;
using Sluice.Server.Configuration;

namespace Sluice.Server.Streams;

/// <summary>
/// The tracks of a feed a stream output keeps: the first video and the first audio track its container can carry,
/// unless the stream says NoVideo or NoAudio, numbered from 0. Shared by progressive outputs and HLS, which differ
/// only in what a track the container cannot carry means (left out, or no HLS at all).
/// </summary>
internal sealed class TrackSelection
{
    private TrackSelection(List<TrackInfo> selected, int[] map, List<TrackInfo> refused, int videoTrack, int audioTrack)
    {
        Selected = selected;
        Map = map;
        Refused = refused;
        VideoTrack = videoTrack;
        AudioTrack = audioTrack;
    }

    /// <summary>The kept tracks, renumbered from 0.</summary>
    public List<TrackInfo> Selected { get; }

    /// <summary>Feed track index → output track index, -1 for a track left out.</summary>
    public int[] Map { get; }

    /// <summary>Tracks the stream wanted but the container cannot carry.</summary>
    public List<TrackInfo> Refused { get; }

    /// <summary>Feed index of the video track kept, -1 when none.</summary>
    public int VideoTrack { get; }

    /// <summary>Feed index of the audio track kept, -1 when none.</summary>
    public int AudioTrack { get; }

    public static TrackSelection Of(IReadOnlyList<TrackInfo> tracks, StreamConfig config, Func<TrackInfo, bool> canCarry)
    {
        var selected = new List<TrackInfo>();
        var refused = new List<TrackInfo>();
        var map = new int[tracks.Count];
        int video = -1, audio = -1;
        foreach (var track in tracks)
        {
            map[track.Index] = -1;
            bool wanted = track.Kind switch
            {
                MediaKind.Video => !config.NoVideo && video < 0,
                MediaKind.Audio => !config.NoAudio && audio < 0,
                _ => false,
            };
            if (!wanted)
            {
                continue;
            }

            if (!canCarry(track))
            {
                refused.Add(track);
                continue;
            }

            map[track.Index] = selected.Count;
            selected.Add(track with { Index = selected.Count });
            if (track.Kind == MediaKind.Video)
            {
                video = track.Index;
            }
            else
            {
                audio = track.Index;
            }
        }

        return new TrackSelection(selected, map, refused, video, audio);
    }
}
