namespace Sluice.Media.Tests;

/// <summary>
/// Media files written by the real ffmpeg at test time, once per test run, into a temporary folder.
/// Nothing is committed; everything is short (2-3 s, small pictures) to keep the run fast.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Files = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>VP8 + Vorbis WebM written to a file (known sizes, Cues, SeekHead).</summary>
    public const string Vp8Vorbis = "vp8-vorbis.webm";

    /// <summary>H.264 (with B-frames) + AAC Matroska written to a file (CRC-32 elements, Tags).</summary>
    public const string H264Aac = "h264-aac.mkv";

    /// <summary>Opus only WebM (a BlockGroup with DiscardPadding at the end).</summary>
    public const string Opus = "opus.webm";

    /// <summary>VP9 + Opus WebM written live to a pipe: unknown-size Segment and Clusters, short clusters.</summary>
    public const string LiveVp9Opus = "live-vp9-opus.webm";

    public static IEnumerable<string> All => [Vp8Vorbis, H264Aac, Opus, LiveVp9Opus];

    public static TheoryData<string> AllNames => new(All);

    public static string Path(string name) => Files.Value[name];

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    private static readonly TempFolder Folder = new("sluice-media-tests");

    /// <summary>Where the fixtures and the tests' own output files go; removed when the test run ends.</summary>
    public static string TempDirectory => Folder.Path;

    private static IReadOnlyDictionary<string, string> Create()
    {
        string F(string name) => Folder.File(name);
        FixtureSet.MakeAll(
            "the ffmpeg fixtures",
            () => MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                "-t", "3", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-g", "30",
                "-c:a", "libvorbis", "-f", "webm", "-y", F(Vp8Vorbis)),
            () => MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000",
                "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-ac", "2", "-f", "matroska", "-y", F(H264Aac)),
            () => MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "3",
                "-c:a", "libopus", "-b:a", "64k", "-f", "webm", "-y", F(Opus)),
            () => File.WriteAllBytes(F(LiveVp9Opus), MediaTools.Ffmpeg(
                "-f", "lavfi", "-i", "testsrc=size=256x144:rate=25", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000",
                "-t", "3", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k", "-g", "25",
                "-c:a", "libopus", "-live", "1", "-cluster_time_limit", "200", "-cluster_size_limit", "8192",
                "-flush_packets", "1", "-f", "webm", "pipe:1")));

        return All.ToDictionary(n => n, F);
    }
}
