using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>How one stream is encoded when its feed does not already carry what it asks for.</summary>
internal sealed record StreamEncoding(EncoderSpec? Video, EncoderSpec? Audio)
{
    public static readonly StreamEncoding None = new(null, null);
}

/// <summary>
/// Checks at start-up, with the real ffmpeg, every encoder the configuration asks for: that ffmpeg has it,
/// that it makes something the stream's Format carries, which AVOptions it has (an option it lacks is mapped
/// to its equivalent or dropped with a warning naming the line), and that a short test encode with the
/// stream's settings succeeds. A value ffmpeg rejects stops the server with the config line and ffmpeg's own
/// message, instead of failing later in front of a viewer.
/// </summary>
internal static partial class EncoderCheck
{
    public sealed record Result(
        ImmutableDictionary<string, StreamEncoding> Streams,
        ImmutableArray<ConfigDiagnostic> Errors,
        ImmutableArray<ConfigDiagnostic> Warnings)
    {
        public bool Succeeded => Errors.IsEmpty;

        public StreamEncoding For(string stream) => Streams.GetValueOrDefault(stream, StreamEncoding.None);
    }

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);
    private static readonly ConcurrentDictionary<string, Task<EncoderInfo?>> Encoders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Task<string?>> TestEncodes = new(StringComparer.Ordinal);
    private static readonly Lazy<Task<HashSet<string>>> GenericOptions = new(LoadGenericOptionsAsync);

    /// <summary>The ffmpeg executable encoders run: "ffmpeg" from PATH.</summary>
    public const string Ffmpeg = "ffmpeg";

    /// <summary>What <c>ffmpeg -h encoder=NAME</c> says about an encoder.</summary>
    private sealed record EncoderInfo(MediaKind Kind, ImmutableHashSet<string> Options);

    public static async Task<Result> RunAsync(ServerConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<ConfigDiagnostic>();
        var warnings = new List<ConfigDiagnostic>();
        var streams = ImmutableDictionary.CreateBuilder<string, StreamEncoding>(StringComparer.Ordinal);
        var tests = new List<(StreamConfig Stream, StreamEncoding Encoding, Task<string?> Failure)>();
        bool? haveFfmpeg = null;

        foreach (var stream in config.Streams.Where(s => !s.IsStatus && s.Feed is not null))
        {
            var format = OutputFormat.Find(stream.Format);
            var video = stream.NoVideo ? null : await SpecAsync(stream, format, MediaKind.Video, stream.Video).ConfigureAwait(false);
            var audio = stream.NoAudio ? null : await SpecAsync(stream, format, MediaKind.Audio, stream.Audio).ConfigureAwait(false);
            if (video is null && audio is null)
            {
                continue;
            }

            var encoding = new StreamEncoding(video, audio);
            streams[stream.Name] = encoding;
            tests.Add((stream, encoding, TestEncodes.GetOrAdd(TestKey(encoding), _ => TestEncodeAsync(encoding))));
        }

        foreach (var (stream, encoding, failure) in tests)
        {
            if (await failure.WaitAsync(cancellationToken).ConfigureAwait(false) is { } message)
            {
                errors.Add(new ConfigDiagnostic(Blame(stream, encoding, message), $"<Stream {stream.Name}>: ffmpeg refuses these settings: {message}"));
            }
        }

        return new Result(streams.ToImmutable(), [.. errors], [.. warnings]);

        async Task<EncoderSpec?> SpecAsync(StreamConfig stream, OutputFormat? format, MediaKind kind, CodecSettings settings)
        {
            if (settings.Codec is null || EncoderSpec.IsCopy(settings.Codec))
            {
                return null;
            }

            string directive = kind == MediaKind.Video ? "VideoCodec" : "AudioCodec";
            var location = settings.CodecLocation ?? stream.Location;
            haveFfmpeg ??= await FfmpegExistsAsync().ConfigureAwait(false);
            if (haveFfmpeg == false)
            {
                errors.Add(new ConfigDiagnostic(location, $"{directive} {settings.Codec}: encoding needs ffmpeg, but '{Ffmpeg}' was not found on PATH; install ffmpeg or write '{directive} copy'"));
                return null;
            }

            string encoder = EncoderSpec.EncoderName(settings.Codec);
            var info = await Encoders.GetOrAdd(encoder, LoadEncoderAsync).ConfigureAwait(false);
            string renamed = encoder == settings.Codec ? "" : $" (ffmpeg's {encoder})";
            if (info is null)
            {
                errors.Add(new ConfigDiagnostic(location, $"{directive} {settings.Codec}: ffmpeg has no encoder '{encoder}' (ffmpeg: \"Codec '{encoder}' is not recognized by FFmpeg.\"); `ffmpeg -encoders` lists the ones it has"));
                return null;
            }

            if (info.Kind != kind)
            {
                errors.Add(new ConfigDiagnostic(location, $"{directive} {settings.Codec}{renamed} is an {info.Kind.ToString().ToLowerInvariant()} encoder, not a {kind.ToString().ToLowerInvariant()} one"));
                return null;
            }

            var codec = StreamCodecCheck.CodecOfEncoder(encoder);
            if (codec == CodecId.Unknown)
            {
                errors.Add(new ConfigDiagnostic(location, $"{directive} {settings.Codec}{renamed}: Sluice cannot carry what this encoder makes; use one of libvpx, libvpx-vp9, libx264, libx265, mjpeg, libtheora, flv, mpeg4, mpeg1video, mpeg2video, h263, msmpeg4, wmv2, libvorbis, libopus, aac, libmp3lame, mp2, wmav2, flac"));
                return null;
            }

            if (format is not null && !format.CanCarry(codec))
            {
                errors.Add(new ConfigDiagnostic(location, $"{directive} {settings.Codec}{renamed} makes {CodecIds.FfmpegName(codec)}, which Format {format.Name} cannot carry (it carries {string.Join(", ", format.Codecs.Where(c => CodecIds.KindOf(c) == kind).Select(CodecIds.FfmpegName))})"));
                return null;
            }

            var generic = await GenericOptions.Value.ConfigureAwait(false);
            var options = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
            foreach (var option in settings.Options)
            {
                if (info.Options.Contains(option.Name) || generic.Contains(option.Name))
                {
                    options.Add(new(option.Name, option.Value));
                }
                else if (LibvpxPreset.IsLibvpx(encoder) && option.Name == "preset")
                {
                    // The parser has already said how this maps (ffserver refused the line).
                    if (LibvpxPreset.Map(option.Value) is { } mapped)
                    {
                        options.Add(new("deadline", mapped.Deadline));
                        options.Add(new("cpu-used", mapped.CpuUsed.ToString(CultureInfo.InvariantCulture)));
                    }
                }
                else
                {
                    string directiveName = kind == MediaKind.Video ? "AVOptionVideo" : "AVOptionAudio";
                    warnings.Add(new ConfigDiagnostic(option.Location, $"{directiveName} {option.Name} {option.Value}: encoder {encoder} has no option '{option.Name}' (`ffmpeg -h encoder={encoder}` lists its options); Sluice leaves it out"));
                }
            }

            return new EncoderSpec
            {
                Kind = kind,
                Encoder = encoder,
                Codec = codec,
                Settings = settings,
                Options = options.ToImmutable(),
                Location = location,
            };
        }
    }

    /// <summary>The config line a test-encode failure belongs to: an option's line when ffmpeg names it, else the codec's.</summary>
    private static ConfigLocation Blame(StreamConfig stream, StreamEncoding encoding, string message)
    {
        foreach (var spec in new[] { encoding.Video, encoding.Audio })
        {
            if (spec is null)
            {
                continue;
            }

            foreach (var option in spec.Settings.Options)
            {
                if (message.Contains($"'{option.Name}'", StringComparison.Ordinal) || message.Contains($"-{option.Name}", StringComparison.Ordinal)
                    || message.Contains($" {option.Name} ", StringComparison.Ordinal) || message.Contains(option.Value, StringComparison.Ordinal))
                {
                    return option.Location;
                }
            }
        }

        foreach (var spec in new[] { encoding.Video, encoding.Audio })
        {
            if (spec?.Location is { } location && message.Contains(spec.Encoder, StringComparison.OrdinalIgnoreCase))
            {
                return location;
            }
        }

        return encoding.Video?.Location ?? encoding.Audio?.Location ?? stream.Location;
    }

    private static string TestKey(StreamEncoding encoding) =>
        string.Join('\u0001', TestArguments(encoding));

    /// <summary>A fraction of a second of test pattern and tone through the stream's encoders, to nowhere.</summary>
    private static List<string> TestArguments(StreamEncoding encoding)
    {
        var args = new List<string>
        {
            "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc=size=640x480:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", "0.3",
        };
        if (encoding.Video is { } video)
        {
            args.AddRange(["-map", "0:v:0", .. video.Arguments(0)]);
        }

        if (encoding.Audio is { } audio)
        {
            args.AddRange(["-map", "1:a:0", .. audio.Arguments(0)]);
        }

        args.AddRange(["-f", "matroska", "-y", "/dev/null"]);
        return args;
    }

    private static async Task<string?> TestEncodeAsync(StreamEncoding encoding)
    {
        var (exitCode, _, stderr) = await RunFfmpegAsync(TestArguments(encoding)).ConfigureAwait(false);
        if (exitCode == 0)
        {
            return null;
        }

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? $"ffmpeg exited with code {exitCode}" : string.Join(" / ", lines.TakeLast(3));
    }

    private static async Task<bool> FfmpegExistsAsync()
    {
        try
        {
            var (exitCode, _, _) = await RunFfmpegAsync(["-hide_banner", "-version"]).ConfigureAwait(false);
            return exitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static async Task<EncoderInfo?> LoadEncoderAsync(string encoder)
    {
        var (_, stdout, _) = await RunFfmpegAsync(["-hide_banner", "-h", $"encoder={encoder}"]).ConfigureAwait(false);
        if (!stdout.StartsWith("Encoder ", StringComparison.Ordinal))
        {
            return null;
        }

        var kind = stdout.Contains("Supported pixel formats", StringComparison.Ordinal) ? MediaKind.Video
            : stdout.Contains("Supported sample", StringComparison.Ordinal) || stdout.Contains("channel layouts", StringComparison.Ordinal) ? MediaKind.Audio
            : MediaKind.Video;
        var options = OptionLine().Matches(stdout).Select(m => m.Groups[1].Value).ToImmutableHashSet(StringComparer.Ordinal);
        return new EncoderInfo(kind, options);
    }

    /// <summary>The options every encoder takes (ffmpeg -h full, "AVCodecContext AVOptions").</summary>
    private static async Task<HashSet<string>> LoadGenericOptionsAsync()
    {
        var (_, stdout, _) = await RunFfmpegAsync(["-hide_banner", "-h", "full"]).ConfigureAwait(false);
        int start = stdout.IndexOf("AVCodecContext AVOptions:", StringComparison.Ordinal);
        if (start < 0)
        {
            return [];
        }

        int end = stdout.IndexOf(" AVOptions:", start + 25, StringComparison.Ordinal);
        var section = end < 0 ? stdout[start..] : stdout[start..end];
        return [.. OptionLine().Matches(section).Select(m => m.Groups[1].Value)];
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunFfmpegAsync(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(Ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Ffmpeg}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, "", $"ffmpeg did not finish within {ToolTimeout.TotalSeconds:0} s");
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    [GeneratedRegex(@"^\s{2}-([A-Za-z0-9_-]+)\s+<", RegexOptions.Multiline)]
    private static partial Regex OptionLine();
}
