namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>
/// MP4, MOV and M4A files written by the real ffmpeg at test time, once per run, into a temporary folder: one case for
/// each layout and codec the reader takes. Every one is short (2 s, small pictures) to keep the run fast.
/// </summary>
internal static class Mp4Fixtures
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Files = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>H.264 (B-frames: ctts, an edit list for their delay) + AAC (an edit list for its priming), the moov after the mdat.</summary>
    public const string H264Aac = "h264-aac.mp4";

    /// <summary>The same with <c>-movflags +faststart</c>: the moov before the mdat.</summary>
    public const string H264AacFaststart = "h264-aac-faststart.mp4";

    /// <summary>Fragmented: empty moov with mvex, a moof+mdat per keyframe, default-base-is-moof.</summary>
    public const string H264AacFragmented = "h264-aac-frag.mp4";

    /// <summary>Fragmented without default-base-is-moof: each tfhd gives its base_data_offset.</summary>
    public const string H264AacFragmentedOffsets = "h264-aac-frag-offsets.mp4";

    /// <summary>ISMV (Smooth Streaming): a moof+mdat per track and fragment, 10 MHz timescale, no tfhd offsets.</summary>
    public const string H264AacIsmv = "h264-aac.ismv";

    /// <summary>H.264 with ctts version 1 (negative composition offsets instead of an edit list).</summary>
    public const string H264NegativeCts = "h264-negative-cts.mp4";

    /// <summary>QuickTime (<c>-f mov</c>): sound description version 1 with the esds inside a wave box.</summary>
    public const string H264AacMov = "h264-aac.mov";

    public const string H265Aac = "h265-aac.mp4";

    public const string Opus = "opus.mp4";

    public const string Mp3 = "mp3.mp4";

    /// <summary>Audio only (<c>-f ipod</c>).</summary>
    public const string AacM4a = "aac.m4a";

    /// <summary>VP9 (vp09 + vpcC) and AC-3 (ac-3 + dac3).</summary>
    public const string Vp9Ac3 = "vp9-ac3.mp4";

    public static IEnumerable<string> All =>
        [H264Aac, H264AacFaststart, H264AacFragmented, H264AacFragmentedOffsets, H264AacIsmv, H264NegativeCts, H264AacMov, H265Aac, Opus, Mp3, AacM4a, Vp9Ac3];

    public static TheoryData<string> AllNames => new(All);

    public static string Path(string name) => Files.Value[name];

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    private static readonly TempFolder Folder = new("sluice-mp4-tests");

    /// <summary>Where the fixtures and the tests' own output files go; removed when the test run ends.</summary>
    public static string TempDirectory => Folder.Path;

    private static IReadOnlyDictionary<string, string> Create()
    {
        string F(string name) => Folder.File(name);
        string[] av = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2"];
        string[] h264Aac = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2"];
        string[] tone = ["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "2"];
        FixtureSet.MakeAll(
            "the MP4 fixtures",
            () => MediaTools.Ffmpeg([.. av, .. h264Aac, "-f", "mp4", "-y", F(H264Aac)]),
            () => MediaTools.Ffmpeg([.. av, .. h264Aac, "-movflags", "+faststart", "-f", "mp4", "-y", F(H264AacFaststart)]),
            () => MediaTools.Ffmpeg([.. av, .. h264Aac, "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", "-y", F(H264AacFragmented)]),
            () => MediaTools.Ffmpeg([.. av, .. h264Aac, "-movflags", "frag_keyframe+empty_moov", "-f", "mp4", "-y", F(H264AacFragmentedOffsets)]),
            () => MediaTools.Ffmpeg([.. av, .. h264Aac, "-f", "ismv", "-y", F(H264AacIsmv)]),
            () => MediaTools.Ffmpeg([.. av[..4], "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-movflags", "negative_cts_offsets", "-f", "mp4", "-y", F(H264NegativeCts)]),
            () => MediaTools.Ffmpeg([.. av, .. h264Aac, "-f", "mov", "-y", F(H264AacMov)]),
            () => MediaTools.Ffmpeg([
                "-f", "lavfi", "-i", "testsrc=size=192x108:rate=25", .. tone, "-c:v", "libx265", "-preset", "ultrafast",
                "-x265-params", "log-level=error:keyint=25:bframes=2", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4", "-y", F(H265Aac)]),
            () => MediaTools.Ffmpeg([.. tone, "-c:a", "libopus", "-b:a", "64k", "-f", "mp4", "-y", F(Opus)]),
            () => MediaTools.Ffmpeg(["-f", "lavfi", "-i", "sine=frequency=550:sample_rate=44100", "-t", "2", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp4", "-y", F(Mp3)]),
            () => MediaTools.Ffmpeg(["-f", "lavfi", "-i", "sine=frequency=550:sample_rate=44100", "-t", "2", "-c:a", "aac", "-f", "ipod", "-y", F(AacM4a)]),
            () => MediaTools.Ffmpeg([
                "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", .. tone, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                "-b:v", "200k", "-g", "25", "-c:a", "ac3", "-f", "mp4", "-y", F(Vp9Ac3)]));

        return All.ToDictionary(n => n, F);
    }
}
