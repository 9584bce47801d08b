namespace Sluice.Media.Tests.Codecs;

/// <summary>
/// Elementary streams the real ffmpeg writes at test time, each twice from one encode: in Matroska (so the codec
/// private data and the packets are ffmpeg's own) and as the raw stream (Annex B H.264 / H.265, ADTS AAC).
/// </summary>
internal static class CodecFixtures
{
    private static readonly FixtureCache<(string Mkv, string Raw)> Made = new(name => Make(Get(name)));

    private static readonly TempFolder Folder = new("sluice-codec-tests");

    public sealed record Case(string Name, CodecId Codec, int Width, int Height, string[] EncodeArguments)
    {
        public override string ToString() => Name;
    }

    public static readonly Case[] Video =
    [
        new("h264-baseline-320x240", CodecId.H264, 320, 240, ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p"]),
        new("h264-high-322x182-cropped", CodecId.H264, 322, 182, ["-f", "lavfi", "-i", "testsrc=size=322x182:rate=25", "-c:v", "libx264", "-bf", "2", "-pix_fmt", "yuv420p"]),
        new("h264-high10-322x182", CodecId.H264, 322, 182, ["-f", "lavfi", "-i", "testsrc=size=322x182:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p10le"]),
        new("h264-422-322x182", CodecId.H264, 322, 182, ["-f", "lavfi", "-i", "testsrc=size=322x182:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv422p"]),
        new("h264-444-321x181", CodecId.H264, 321, 181, ["-f", "lavfi", "-i", "testsrc=size=321x181:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv444p"]),
        new("h264-interlaced-320x180", CodecId.H264, 320, 180, ["-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-c:v", "libx264", "-x264-params", "interlaced=1", "-pix_fmt", "yuv420p"]),
        new("h265-main-322x182", CodecId.H265, 322, 182, ["-f", "lavfi", "-i", "testsrc=size=322x182:rate=25", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=10", "-pix_fmt", "yuv420p"]),
        new("h265-main10-320x240", CodecId.H265, 320, 240, ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le"]),
        new("h265-444-321x181", CodecId.H265, 321, 181, ["-f", "lavfi", "-i", "testsrc=size=321x181:rate=25", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv444p"]),
    ];

    public static readonly Case[] Audio =
    [
        new("aac-44100-stereo", CodecId.AAC, 0, 0, ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-c:a", "aac", "-ac", "2"]),
        new("aac-22050-mono", CodecId.AAC, 0, 0, ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-c:a", "aac", "-ac", "1"]),
        new("aac-48000-5.1", CodecId.AAC, 0, 0, ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "aac", "-ac", "6"]),
    ];

    public static TheoryData<string> VideoCases => new(Video.Select(c => c.Name));

    public static TheoryData<string> AudioCases => new(Audio.Select(c => c.Name));

    public static Case Get(string name) => Video.Concat(Audio).Single(c => c.Name == name);

    /// <summary>The Matroska file and the raw stream of a case (made once per test run).</summary>
    public static (string Mkv, string Raw) Files(Case c) => Made.Get(c.Name);

    private static (string, string) Make(Case c)
    {
        string mkv = Folder.File(c.Name + ".mkv");
        string raw = Folder.File(c.Name + c.Codec switch { CodecId.H264 => ".h264", CodecId.H265 => ".hevc", _ => ".aac" });
        MediaTools.Ffmpeg([.. c.EncodeArguments, "-t", "1", "-f", "matroska", "-y", mkv]);
        string[] toRaw = c.Codec switch
        {
            CodecId.H264 => ["-bsf:v", "h264_mp4toannexb", "-f", "h264"],
            CodecId.H265 => ["-bsf:v", "hevc_mp4toannexb", "-f", "hevc"],
            _ => ["-f", "adts"],
        };
        MediaTools.Ffmpeg(["-i", mkv, "-c", "copy", .. toRaw, "-y", raw]);
        return (mkv, raw);
    }
}
