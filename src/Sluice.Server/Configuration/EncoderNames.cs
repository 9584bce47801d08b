namespace Sluice.Server.Configuration;

/// <summary>
/// The ffmpeg encoder a configured codec name stands for (<c>VideoCodec vp8</c> is libvpx, <c>AudioCodec mp3</c>
/// libmp3lame; an encoder's own name stands for itself). The parser needs it to match a preset file to its encoder
/// (<c>libvpx-720p.ffpreset</c>), the transcoder to run it.
/// </summary>
internal static class EncoderNames
{
    public static string Of(string configured) => configured.ToLowerInvariant() switch
    {
        "vp8" => "libvpx",
        "vp9" => "libvpx-vp9",
        "h264" or "avc" => "libx264",
        "hevc" or "h265" => "libx265",
        "av1" => "libaom-av1",
        "theora" => "libtheora",
        "vorbis" => "libvorbis",
        "opus" => "libopus",
        "mp3" => "libmp3lame",
        "jpeg" => "mjpeg",
        var name => name,
    };
}
