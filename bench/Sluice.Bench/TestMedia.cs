using System.Diagnostics;

namespace Sluice.Bench;

/// <summary>
/// The input files, made by ffmpeg on first use into a temporary folder and reused by later runs (nothing is
/// committed). Each file has a recipe: ffmpeg arguments, possibly reading another file of the folder.
/// </summary>
public static class TestMedia
{
    /// <summary>Length of the demux and mux inputs, in seconds.</summary>
    public const int ClipSeconds = 25;

    /// <summary>Length of the end-to-end remux input: ~200 MB at the ~19 Mbit/s x264 ultrafast gives 1280x720 testsrc2 at -b:v 20M.</summary>
    public const int RemuxSeconds = 84;

    private const string Lavfi720p = "-f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000";
    private const string Sine = "-f lavfi -i sine=frequency=440:sample_rate=48000";

    private static readonly Dictionary<string, string> Recipes = new()
    {
        // H.264 (no B-frames) + AAC, then the same packets copied into the other containers.
        ["av.mkv"] = $"{Lavfi720p} -t {ClipSeconds} -c:v libx264 -preset veryfast -bf 0 -g 60 -b:v 3M -pix_fmt yuv420p -c:a aac -b:a 128k -ac 2 -f matroska",
        ["av.ts"] = "-i {av.mkv} -c copy -f mpegts",
        ["av.flv"] = "-i {av.mkv} -c copy -f flv",
        ["aac.mkv"] = "-i {av.mkv} -map 0:a -c copy -f matroska",
        ["opus.webm"] = $"{Sine} -t {ClipSeconds} -ac 2 -c:a libopus -b:a 96k -f webm",
        ["vorbis.webm"] = $"{Sine} -t {ClipSeconds} -ac 2 -c:a libvorbis -b:a 128k -f webm",
        ["mp3.mkv"] = $"-f lavfi -i sine=frequency=440:sample_rate=44100 -t {ClipSeconds} -ac 2 -c:a libmp3lame -b:a 128k -f matroska",
        ["remux.ts"] = $"{Lavfi720p} -t {RemuxSeconds} -c:v libx264 -preset ultrafast -bf 0 -g 60 -b:v 20M -pix_fmt yuv420p -c:a aac -b:a 128k -ac 2 -f mpegts",
    };

    private static readonly Lock Gate = new();

    /// <summary>SLUICE_BENCH_MEDIA, else a fixed folder under the system's temporary folder.</summary>
    public static string Folder { get; set; } =
        Environment.GetEnvironmentVariable("SLUICE_BENCH_MEDIA") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Path.GetTempPath(), "sluice-bench-media");

    /// <summary>The path of <paramref name="name"/>, made first when it is not there yet.</summary>
    public static string PathOf(string name)
    {
        lock (Gate)
        {
            string path = Path.Combine(Folder, name);
            if (File.Exists(path))
            {
                return path;
            }

            if (!Recipes.TryGetValue(name, out string? recipe))
            {
                throw new ArgumentException($"no recipe for test file {name} (known: {string.Join(", ", Recipes.Keys)})", nameof(name));
            }

            Directory.CreateDirectory(Folder);
            foreach (string other in Recipes.Keys)
            {
                string token = "{" + other + "}";
                if (recipe.Contains(token, StringComparison.Ordinal))
                {
                    recipe = recipe.Replace(token, PathOf(other), StringComparison.Ordinal);
                }
            }

            string partial = path + ".part";
            Console.Error.WriteLine($"[bench] making {name} with ffmpeg");
            var watch = Stopwatch.StartNew();
            Ffmpeg.Run($"-hide_banner -v error {recipe} -y {partial}");
            File.Move(partial, path, overwrite: true);
            Console.Error.WriteLine($"[bench] {name}: {new FileInfo(path).Length / 1e6:F1} MB in {watch.Elapsed.TotalSeconds:F1} s");
            return path;
        }
    }

    public static byte[] Read(string name) => File.ReadAllBytes(PathOf(name));
}

public static class Ffmpeg
{
    /// <summary>Runs ffmpeg with <paramref name="arguments"/> (split on spaces: no argument has one); throws on failure.</summary>
    public static TimeSpan Run(string arguments)
    {
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string argument in arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            info.ArgumentList.Add(argument);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("ffmpeg did not start: is it installed?");
        process.StandardInput.Close();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        watch.Stop();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg {arguments} exited with {process.ExitCode}: {errors.Trim()}");
        }

        return watch.Elapsed;
    }

    public static string Version()
    {
        var info = new ProcessStartInfo("ffmpeg", "-version") { RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        string first = process.StandardOutput.ReadLine() ?? "";
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return string.Join(' ', first.Split(' ').Take(3));
    }
}
