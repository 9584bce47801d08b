namespace Sluice.Media.Tests.Formats.MpegTs;

/// <summary>
/// MPEG-TS streams the real ffmpeg writes at test time (2-3 s, small pictures), made once per test run on first use.
/// One table of cases drives the reader, writer, chunking and mutation tests.
/// </summary>
internal static class TsFixtures
{
    /// <summary>Number of seconds to 2^33 ticks of 90 kHz, less 2.2 s: with the muxer's 1.4 s start, times wrap about 0.8 s into the stream.</summary>
    public const double WrapOffsetSeconds = 95441.5;

    public sealed record Case(string Name, string[] Arguments, string[] Codecs);

    public static readonly Case[] All =
    [
        new("h264-aac", ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2"], ["h264", "aac"]),
        new("h265-aac", ["-f", "lavfi", "-i", "testsrc=size=322x182:rate=25", "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000",
            "-t", "2", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "1"], ["hevc", "aac"]),
        new("h264-mp3", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
            "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame", "-b:a", "64k"], ["h264", "mp3"]),
        new("mpeg4-mp2", ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "2", "-c:v", "mpeg4", "-g", "25", "-c:a", "mp2", "-ac", "2"], ["mpeg4", "mp2"]),
        new("mpeg2video-mp2", ["-f", "lavfi", "-i", "testsrc=size=176x144:rate=25", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
            "-t", "2", "-c:v", "mpeg2video", "-g", "12", "-c:a", "mp2", "-ac", "1"], ["mpeg2video", "mp2"]),
        new("opus", ["-f", "lavfi", "-i", "sine=frequency=550:sample_rate=48000", "-t", "2", "-c:a", "libopus", "-b:a", "48k", "-ac", "2"], ["opus"]),
        new("aac-only", ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", "2", "-c:a", "aac", "-ac", "1"], ["aac"]),
        new("h264-aac-wrap", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "3", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
            "-output_ts_offset", WrapOffsetSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], ["h264", "aac"]),
    ];

    public static TheoryData<string> Names => new(All.Select(c => c.Name));

    public static Case Get(string name) => All.Single(c => c.Name == name);

    private static readonly FixtureCache<string> Made = new(Make);

    private static readonly TempFolder Folder = new("sluice-ts-tests");

    public static string TempFile(string name) => Folder.File(name);

    public static string Path_(string name) => Made.Get(name);

    private static string Make(string name)
    {
        string path = TempFile(name + ".ts");
        MediaTools.Ffmpeg([.. Get(name).Arguments, "-f", "mpegts", "-y", path]);
        return path;
    }

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path_(name));
}
