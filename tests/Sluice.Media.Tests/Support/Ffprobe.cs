using System.Globalization;
using System.Text.Json;

namespace Sluice.Media.Tests.Support;

/// <summary>What ffprobe reads of a file, and the checks that hold our tracks against it.</summary>
internal static class Ffprobe
{
    /// <summary>
    /// A packet as ffprobe reads it, times in the stream's time base (ms for Matroska and FLV, 90 kHz for MPEG-TS);
    /// Pts and Dts are <see cref="long.MinValue"/> where ffprobe has none (<see cref="HasDts"/>).
    /// </summary>
    public sealed record Packet(int StreamIndex, long Pts, long Dts, int Size, bool Keyframe)
    {
        public bool HasDts => Dts != long.MinValue;
    }

    /// <summary>ffprobe's packets, in the order it reads them.</summary>
    public static List<Packet> Packets(string path)
    {
        var json = MediaTools.Ffprobe("-show_entries", "packet=stream_index,pts,dts,size,flags", "-show_packets", path);
        var packets = new List<Packet>();
        foreach (var p in json.GetProperty("packets").EnumerateArray())
        {
            packets.Add(new Packet(
                p.GetProperty("stream_index").GetInt32(),
                p.TryGetProperty("pts", out var pts) ? pts.GetInt64() : long.MinValue,
                p.TryGetProperty("dts", out var dts) ? dts.GetInt64() : long.MinValue,
                int.Parse(p.GetProperty("size").GetString()!, CultureInfo.InvariantCulture),
                p.GetProperty("flags").GetString()!.Contains('K')));
        }

        return packets;
    }

    /// <summary>ffprobe's streams of a file, in its order.</summary>
    public static List<JsonElement> Streams(string path) =>
        [.. MediaTools.Ffprobe("-show_streams", path).GetProperty("streams").EnumerateArray()];

    /// <summary>
    /// Asserts that ffprobe sees a stream for each track, in order, of the track's codec, with its width and height
    /// (video) or its channels and sampling rate (audio); <paramref name="also"/> adds a caller's own checks of each
    /// track (its index, the track and ffprobe's stream).
    /// </summary>
    public static void AssertStreamsMatch(IReadOnlyList<TrackInfo> tracks, IReadOnlyList<JsonElement> streams, Action<int, TrackInfo, JsonElement>? also = null)
    {
        Assert.Equal(streams.Count, tracks.Count);
        for (int i = 0; i < tracks.Count; i++)
        {
            var stream = streams[i];
            var track = tracks[i];
            Assert.Equal(stream.GetProperty("codec_name").GetString(), CodecIds.FfmpegName(track.Codec));
            if (track.Kind == MediaKind.Video)
            {
                Assert.Equal(stream.GetProperty("width").GetInt32(), track.Width);
                Assert.Equal(stream.GetProperty("height").GetInt32(), track.Height);
            }
            else
            {
                Assert.Equal(stream.GetProperty("channels").GetInt32(), track.Channels);
                Assert.Equal(stream.GetProperty("sample_rate").GetString(), track.SampleRate.ToString(CultureInfo.InvariantCulture));
            }

            also?.Invoke(i, track, stream);
        }
    }
}
