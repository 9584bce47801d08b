namespace Sluice.Media.Tests.Formats;

/// <summary>
/// Short sources for the Ogg, multipart JPEG and MP3 writers, made by the real ffmpeg when a test first asks for one
/// (each at most 2.5 s and small pictures) and demuxed by <see cref="Sluice.Media.Formats.Matroska.MatroskaDemuxer"/>.
/// </summary>
internal static class MuxerSources
{
    /// <summary>Vorbis 44.1 kHz mono WebM.</summary>
    public const string Vorbis = "vorbis.webm";

    /// <summary>Opus 48 kHz stereo WebM (CodecDelay, a first packet before time 0).</summary>
    public const string Opus = "opus.webm";

    /// <summary>Theora 160x120 at 25 fps with a keyframe every 12 frames, and Vorbis 22.05 kHz stereo, in Matroska.</summary>
    public const string TheoraVorbis = "theora-vorbis.mkv";

    /// <summary>Theora of noise at high quality: frames larger than one Ogg page holds.</summary>
    public const string TheoraLarge = "theora-large.mkv";

    /// <summary>MJPEG 160x120 at 10 fps in Matroska.</summary>
    public const string Mjpeg = "mjpeg.mkv";

    /// <summary>MP3 (MPEG-1 layer III) 44.1 kHz stereo in Matroska.</summary>
    public const string Mp3 = "mp3.mkv";

    /// <summary>MP3 (MPEG-2 layer III) 22.05 kHz mono in Matroska, ffserver's default audio.</summary>
    public const string Mp3Low = "mp3-22050.mkv";

    private static readonly Dictionary<string, string[]> Arguments = new()
    {
        [Vorbis] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2.5", "-c:a", "libvorbis", "-f", "webm"],
        [Opus] = ["-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "2.5", "-ac", "2", "-c:a", "libopus", "-b:a", "64k", "-f", "webm"],
        [TheoraVorbis] = [
            "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=22050",
            "-t", "2.5", "-c:v", "libtheora", "-g", "12", "-c:a", "libvorbis", "-ac", "2", "-f", "matroska"],
        [TheoraLarge] = [
            "-f", "lavfi", "-i", "nullsrc=size=320x240:rate=5,geq=lum=random(1)*255:cb=128:cr=128", "-t", "1.2",
            "-c:v", "libtheora", "-q:v", "10", "-g", "3", "-f", "matroska"],
        [Mjpeg] = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "2", "-c:v", "mjpeg", "-q:v", "5", "-f", "matroska"],
        [Mp3] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-f", "matroska"],
        [Mp3Low] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", "2", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "matroska"],
    };

    private static readonly TempFolder Folder = new("sluice-muxer-sources");

    private static readonly FixtureCache<string> Files = new(name => Create(name, Arguments[name]));

    public static string Directory => Folder.Path;

    public static string PathOf(string name) => Files.Get(name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>A file in the same temporary folder for a test's output.</summary>
    public static string Output(string name) => Folder.File(name);

    private static string Create(string name, string[] arguments)
    {
        string path = Folder.File(name);
        MediaTools.Ffmpeg([.. arguments, "-y", path]);
        return path;
    }
}
