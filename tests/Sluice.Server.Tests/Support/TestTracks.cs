using Sluice.Media;

namespace Sluice.Server.Tests.Support;

/// <summary>The feed tracks the transcoding tests plan, route and queue: what a phone (H.264 + AAC) or a browser (VP8 + Vorbis) sends.</summary>
internal static class TestTracks
{
    public static readonly TrackInfo H264 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 640, Height = 360 };
    public static readonly TrackInfo Aac = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, Channels = 2 };
    public static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240 };
    public static readonly TrackInfo Vorbis = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, SampleRate = 48000, Channels = 2 };
}
