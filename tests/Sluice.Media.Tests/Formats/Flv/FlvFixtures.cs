namespace Sluice.Media.Tests.Formats.Flv;

/// <summary>
/// FLV (and a Matroska H.265 source) written by the real ffmpeg at test time, once per run, into a temporary folder.
/// The FLV streams are written to a pipe, as a live publisher sends them.
/// </summary>
internal static class FlvFixtures
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Files = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>H.264 (B-frames, 320x240, 25 fps) + AAC 44.1 kHz stereo, to a pipe.</summary>
    public const string H264Aac = "h264-aac.flv";

    /// <summary>H.264 with odd, cropped dimensions and no audio (the header's audio flag is clear).</summary>
    public const string H264Only = "h264-only.flv";

    /// <summary>MP3 mono 22.05 kHz only.</summary>
    public const string Mp3Only = "mp3-only.flv";

    /// <summary>Sorenson H.263 (FLV1, 320x240, 25 fps) alone, to a pipe: the video of ffserver's flv streams.</summary>
    public const string Flv1Only = "flv1-only.flv";

    /// <summary>H.264 + AAC written to a file: ffmpeg rewrites onMetaData and ends with an AVC end-of-sequence tag.</summary>
    public const string H264AacFile = "h264-aac-file.flv";

    /// <summary>H.265 + AAC Matroska, the source of Enhanced FLV round trips (ffmpeg 5.1 writes no H.265 FLV).</summary>
    public const string H265AacMkv = "h265-aac.mkv";

    public static IEnumerable<string> AllFlv => [H264Aac, H264Only, Mp3Only, H264AacFile, Flv1Only];

    public static TheoryData<string> AllFlvNames => new(AllFlv);

    public static string Path(string name) => Files.Value[name];

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    private static readonly TempFolder Folder = new("sluice-flv-tests");

    /// <summary>Where the fixtures and the tests' own output files go; removed when the test run ends.</summary>
    public static string TempDirectory => Folder.Path;

    private static IReadOnlyDictionary<string, string> Create()
    {
        string F(string name) => Folder.File(name);
        FixtureSet.MakeAll(
            "the FLV fixtures",
            () => File.WriteAllBytes(F(H264Aac), MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-ac", "2", "-f", "flv", "pipe:1")),
            () => File.WriteAllBytes(F(H264Only), MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=322x182:rate=30", "-t", "2",
                "-c:v", "libx264", "-preset", "veryfast", "-g", "15", "-pix_fmt", "yuv420p", "-f", "flv", "pipe:1")),
            () => File.WriteAllBytes(F(Flv1Only), MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2", "-c:v", "flv", "-g", "25", "-f", "flv", "pipe:1")),
            () => File.WriteAllBytes(F(Mp3Only), MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "sine=frequency=550:sample_rate=22050", "-t", "2",
                "-c:a", "libmp3lame", "-ac", "1", "-b:a", "48k", "-f", "flv", "pipe:1")),
            () => MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
                "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-f", "flv", "-y", F(H264AacFile)),
            () => MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=192x108:rate=25", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000",
                "-t", "2", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=25:bframes=2", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-f", "matroska", "-y", F(H265AacMkv)));

        return new[] { H264Aac, H264Only, Mp3Only, H264AacFile, Flv1Only, H265AacMkv }.ToDictionary(n => n, F);
    }
}
