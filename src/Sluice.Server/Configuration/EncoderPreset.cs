using System.Collections.Immutable;
namespace Sluice.Server.Configuration;

/// <summary>
/// An ffserver preset file (AVPresetVideo / AVPresetAudio): <c>NAME.ffpreset</c> or <c>ENCODER-NAME.ffpreset</c>,
/// looked for as ffserver 3.4 did in <c>$FFMPEG_DATADIR</c>, <c>$HOME/.ffmpeg</c> and ffmpeg's data folder
/// (<c>/usr/share/ffmpeg</c> on Debian, which ships libvpx's 360p, 720p, 1080p ones), each folder trying the plain
/// name first. Its <c>key=value</c> lines (<c>#</c> starts a comment) are encoder options, but <c>vcodec</c> and
/// <c>acodec</c>, which name the codec: the parser lets them choose it for a stream that names none (as ffserver 3.4
/// did, <see cref="ConfigParser"/>'s PresetCodecs), and a <c>scodec</c> line ends the file, as in 3.4.
/// </summary>
internal static class EncoderPreset
{
    /// <summary>ffmpeg's data folder, where Debian's ffmpeg keeps its presets.</summary>
    public const string DataFolder = "/usr/share/ffmpeg";

    /// <summary>The folders searched, in order, from the environment given (null: the process's).</summary>
    public static IEnumerable<string> Folders(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("FFMPEG_DATADIR") is { Length: > 0 } data)
        {
            yield return data;
        }

        if (environment("HOME") is { Length: > 0 } home)
        {
            yield return Path.Combine(home, ".ffmpeg");
        }

        yield return DataFolder;
    }

    /// <summary>The lines that name a codec rather than set an option.</summary>
    public static bool IsCodecLine(string key) => key is "vcodec" or "acodec";

    /// <summary>The preset file for <paramref name="encoder"/> (null: no encoder is known yet, only NAME.ffpreset), or null when no folder has one.</summary>
    public static string? Find(string preset, string? encoder, IEnumerable<string> folders)
    {
        foreach (var folder in folders)
        {
            foreach (var name in encoder is null ? (string[])[$"{preset}.ffpreset"] : [$"{preset}.ffpreset", $"{encoder}-{preset}.ffpreset"])
            {
                var path = Path.Combine(folder, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The lines of a preset file, each located at its line of the file, the codec lines (<see cref="IsCodecLine"/>)
    /// included; a line that is not <c>key=value</c>, or a <c>scodec</c> line, makes <paramref name="error"/> (ffserver
    /// 3.4 stopped reading the file there too).
    /// </summary>
    public static ImmutableArray<AvOption> Read(string path, out string? error)
    {
        error = null;
        var options = ImmutableArray.CreateBuilder<AvOption>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == line.Length - 1)
            {
                error = $"{path}:{i + 1}: invalid line '{line}' (a preset line is key=value)";
                break;
            }

            var key = line[..equals].Trim();
            if (key == "scodec")
            {
                error = $"{path}:{i + 1}: '{line}' names a subtitle codec, and Sluice serves no subtitles (ffserver 3.4 said \"Subtitles preset found.\" and stopped reading the file here too)";
                break;
            }

            options.Add(new AvOption(key, line[(equals + 1)..].Trim(), new ConfigLocation(path, i + 1)));
        }

        return options.ToImmutable();
    }
}
