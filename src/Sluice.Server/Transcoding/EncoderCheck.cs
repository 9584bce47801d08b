using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Processes;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>How one stream is encoded when its feed does not already carry what it asks for.</summary>
internal sealed record StreamEncoding(EncoderSpec? Video, EncoderSpec? Audio)
{
    /// <summary>The encoder a stream that names no video codec gets when its Format cannot carry the feed's (checked at start-up).</summary>
    public EncoderSpec? VideoFallback { get; init; }

    /// <summary>The same for audio.</summary>
    public EncoderSpec? AudioFallback { get; init; }

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

        /// <summary>How many streams' test encodes ffmpeg refused; the other errors are Sluice's own refusals.</summary>
        public int FfmpegRefusals { get; init; }

        /// <summary>Why the server does not start, in one line: whose refusal each error is.</summary>
        public string Summary
        {
            get
            {
                int own = Errors.Length - FfmpegRefusals;
                var parts = new List<string>();
                if (FfmpegRefusals > 0)
                {
                    parts.Add($"ffmpeg refuses the encoder settings of {FfmpegRefusals} stream(s)");
                }

                if (own > 0)
                {
                    parts.Add($"Sluice refuses {own} encoder setting(s) it cannot run (each line above says why: no ffmpeg, an encoder ffmpeg lacks or of the wrong kind, or a codec the stream's Format cannot carry)");
                }

                return string.Join("; ", parts);
            }
        }
    }

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    /// <summary>ffmpeg's names of On2 VP6, which its swf muxer would carry: decoders only, no encoder.</summary>
    private static bool IsVp6(string codec) => codec.ToLowerInvariant() is "vp6" or "vp6f" or "vp6a";

    /// <summary>
    /// Why a VP6 stream cannot be served: ffmpeg 5.1 has vp6, vp6f and vp6a decoders and no encoder (`ffmpeg -encoders`
    /// lists none; the test encode said only "Unknown encoder 'vp6f'"), and VideoCodec copy has no VP6 to copy, as
    /// no feed reader of Sluice's reads VP6 (FLV and RTMP skip its video tags, Matroska's VP6F FourCC is no codec).
    /// </summary>
    private static string Vp6Refusal(string codec, OutputFormat format)
    {
        string instead = format.Name == "swf"
            ? "Format swf carries flv (Sorenson H.263, its default: leave VideoCodec out) or mjpeg"
            : $"leave VideoCodec out for Format {format.Name}'s default, {format.MuxedByFfmpeg!.VideoEncoder}";
        return $"VideoCodec {codec}: ffmpeg has no VP6 encoder (its vp6, vp6f and vp6a are decoders), and no feed brings VP6 for 'VideoCodec copy' (Sluice's FLV, RTMP and Matroska readers do not read it); {instead}";
    }
    private static readonly ConcurrentDictionary<string, Task<EncoderInfo?>> Encoders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Task<string?>> TestEncodes = new(StringComparer.Ordinal);
    private static Task<HashSet<string>>? _genericOptions;

    /// <summary>The ffmpeg executable encoders run: "ffmpeg" from PATH.</summary>
    public const string Ffmpeg = "ffmpeg";

    /// <summary>What <c>ffmpeg -h encoder=NAME</c> says about an encoder.</summary>
    private sealed record EncoderInfo(MediaKind Kind, ImmutableHashSet<string> Options);

    /// <param name="time">The server's clock: each ffmpeg the check runs gets <see cref="ToolTimeout"/> on it.</param>
    public static async Task<Result> RunAsync(ServerConfig config, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(time);
        var errors = new List<ConfigDiagnostic>();
        var warnings = new List<ConfigDiagnostic>();
        var streams = ImmutableDictionary.CreateBuilder<string, StreamEncoding>(StringComparer.Ordinal);
        var tests = new List<(StreamConfig Stream, StreamEncoding Encoding, Task<string?> Failure)>();
        bool? haveFfmpeg = null;
        int ffmpegRefusals = 0;

        var optional = new List<(StreamConfig Stream, StreamEncoding Encoding, Task<string?> Failure)>();
        foreach (var stream in config.Streams.Where(s => !s.IsStatus && (s.Feed is not null || s.SourceFile is not null)))
        {
            var format = OutputFormat.Find(stream.Format);
            if (format?.MuxedByFfmpeg is { } muxing)
            {
                if (!stream.NoVideo && stream.Video.Codec is { } vp6 && IsVp6(vp6))
                {
                    errors.Add(new ConfigDiagnostic(stream.Video.CodecLocation ?? stream.Location, Vp6Refusal(vp6, format)));
                    continue;
                }

                // The stream's own ffmpeg encodes it as it writes the container: its command line is what is tried.
                if (!stream.NoVideo && !EncoderSpec.IsCopy(stream.Video.Codec)
                    && Mpeg1FrameRates.Applies(stream.Video.Codec is { } named ? EncoderNames.Of(named) : muxing.VideoEncoder)
                    && Mpeg1FrameRates.RoundingWarning(stream.Name, stream.Video.FrameRate) is { } rounded)
                {
                    warnings.Add(new ConfigDiagnostic(stream.Video.CodecLocation ?? stream.Location, rounded));
                }

                // Its preset files are read as an encoder's are: a missing or broken one is said at the preset's line.
                foreach (var (kind, settings, formatDefault) in new[] { (MediaKind.Video, stream.Video, muxing.VideoEncoder), (MediaKind.Audio, stream.Audio, muxing.AudioEncoder) })
                {
                    if (!(kind == MediaKind.Video ? stream.NoVideo : stream.NoAudio) && !EncoderSpec.IsCopy(settings.Codec))
                    {
                        _ = PresetOptions(settings, kind, settings.Codec is { } codec ? EncoderNames.Of(codec) : formatDefault, warnings);
                    }
                }

                var arguments = FfmpegMuxArguments.Test(stream, muxing);
                if (arguments.Count > 0)
                {
                    tests.Add((stream, StreamEncoding.None, TestEncodes.GetOrAdd(string.Join('\u0001', arguments), _ => TestEncodeAsync(arguments, time))));
                }

                continue;
            }

            var video = stream.NoVideo ? null : await SpecAsync(stream, format, MediaKind.Video, stream.Video, null, errors, warnings).ConfigureAwait(false);
            var audio = stream.NoAudio ? null : await SpecAsync(stream, format, MediaKind.Audio, stream.Audio, null, errors, warnings).ConfigureAwait(false);
            var (videoFallback, videoAlways) = stream.NoVideo || video is not null ? default : await FallbackAsync(stream, format, MediaKind.Video, stream.Video).ConfigureAwait(false);
            var (audioFallback, audioAlways) = stream.NoAudio || audio is not null ? default : await FallbackAsync(stream, format, MediaKind.Audio, stream.Audio).ConfigureAwait(false);
            if (video is null && audio is null && videoFallback is null && audioFallback is null)
            {
                continue;
            }

            streams[stream.Name] = new StreamEncoding(video, audio) { VideoFallback = videoFallback, AudioFallback = audioFallback };
            // What the stream's viewers get encoded whatever the feed, tried together as one ffmpeg would run them.
            var required = new StreamEncoding(video ?? (videoAlways ? videoFallback : null), audio ?? (audioAlways ? audioFallback : null));
            if (required.Video is not null || required.Audio is not null)
            {
                tests.Add((stream, required, TestEncodes.GetOrAdd(TestKey(required), _ => TestEncodeAsync(required, time))));
            }

            // What only some feeds make it encode (H.264 into WebM): tried too, and a refusal is a warning.
            var possible = new StreamEncoding(videoAlways ? null : videoFallback, audioAlways ? null : audioFallback);
            if (possible.Video is not null || possible.Audio is not null)
            {
                optional.Add((stream, possible, TestEncodes.GetOrAdd(TestKey(possible), _ => TestEncodeAsync(possible, time))));
            }
        }

        foreach (var (stream, encoding, failure) in tests)
        {
            if (await failure.WaitAsync(cancellationToken).ConfigureAwait(false) is { } message)
            {
                ffmpegRefusals++;
                errors.Add(new ConfigDiagnostic(Blame(stream, encoding, message), $"<Stream {stream.Name}>: ffmpeg refuses these settings: {message}"));
            }
        }

        foreach (var (stream, encoding, failure) in optional)
        {
            if (await failure.WaitAsync(cancellationToken).ConfigureAwait(false) is { } message)
            {
                string encoders = string.Join(" and ", new[] { encoding.Video, encoding.Audio }.OfType<EncoderSpec>().Select(e => e.Encoder));
                warnings.Add(new ConfigDiagnostic(Blame(stream, encoding, message), $"<Stream {stream.Name}>: a feed whose codecs Format {stream.Format} cannot carry is encoded with {encoders}, and ffmpeg refuses these settings: {message}; such a feed's viewers would get nothing"));
            }
        }

        return new Result(streams.ToImmutable(), [.. errors], [.. warnings]) { FfmpegRefusals = ffmpegRefusals };

        // The encoder Sluice chooses for a stream that names no codec of this kind, when its Format cannot carry
        // every codec common feeds bring (H.264, VP8; AAC, Vorbis, Opus). Always: it carries none of them, so every
        // session encodes (MJPEG for mpjpeg, Theora for Ogg video), and it is checked like a named one; otherwise only
        // some feeds need it (libvpx for WebM from H.264), and what fails is a warning, not a refusal.
        async Task<(EncoderSpec? Spec, bool Always)> FallbackAsync(StreamConfig stream, OutputFormat? format, MediaKind kind, CodecSettings settings)
        {
            if (format is null || CommonCodecs(kind).All(format.CanCarry) || EncoderSpec.FormatDefault(format, kind, settings) is not { } chosen)
            {
                return default;
            }

            bool always = AlwaysEncodes(format, kind);
            var spec = always
                ? await SpecAsync(stream, format, kind, settings, chosen.Encoder, errors, warnings).ConfigureAwait(false)
                : await SpecAsync(stream, format, kind, settings, chosen.Encoder, warnings, null).ConfigureAwait(false);
            return (spec, always);
        }

        // A named encoder (chosen null) or the one Sluice chose for the Format. What Sluice cannot use goes to
        // refusals; where Sluice's defaults differ from ffserver's goes to notes (none: not said).
        async Task<EncoderSpec?> SpecAsync(StreamConfig stream, OutputFormat? format, MediaKind kind, CodecSettings settings, string? chosen,
            List<ConfigDiagnostic> refusals, List<ConfigDiagnostic>? notes)
        {
            if (chosen is null && (settings.Codec is null || EncoderSpec.IsCopy(settings.Codec)))
            {
                return null;
            }

            string directive = kind == MediaKind.Video ? "VideoCodec" : "AudioCodec";
            var location = chosen is null ? settings.CodecLocation ?? stream.Location : stream.Location;
            string encoder = chosen ?? EncoderNames.Of(settings.Codec!);
            string renamed = chosen is not null || encoder == settings.Codec ? "" : $" (ffmpeg's {encoder})";
            // How the messages name the encoder: by its directive, or by the Format that needs it.
            string named = chosen is null ? $"{directive} {settings.Codec}" : $"Format {format!.Name} (no {directive}) needs {encoder}";
            haveFfmpeg ??= await FfmpegExistsAsync(time).ConfigureAwait(false);
            if (haveFfmpeg == false)
            {
                string instead = chosen is null ? $"write '{directive} copy'" : "feed it only codecs its Format carries";
                refusals.Add(new ConfigDiagnostic(location, $"{named}: encoding needs ffmpeg, but '{Ffmpeg}' was not found on PATH; install ffmpeg or {instead}"));
                return null;
            }

            var info = await Encoders.GetOrAdd(encoder, name => LoadEncoderAsync(name, time)).ConfigureAwait(false);
            if (info is null)
            {
                refusals.Add(new ConfigDiagnostic(location, $"{named}: ffmpeg has no encoder '{encoder}' (ffmpeg: \"Codec '{encoder}' is not recognized by FFmpeg.\"); `ffmpeg -encoders` lists the ones it has"));
                return null;
            }

            if (info.Kind != kind)
            {
                refusals.Add(new ConfigDiagnostic(location, $"{named}{renamed} is an {info.Kind.ToString().ToLowerInvariant()} encoder, not a {kind.ToString().ToLowerInvariant()} one"));
                return null;
            }

            var codec = StreamCodecCheck.CodecOfEncoder(encoder);
            if (codec == CodecId.Unknown)
            {
                refusals.Add(new ConfigDiagnostic(location, $"{named}{renamed}: Sluice cannot carry what this encoder makes; use one of libvpx, libvpx-vp9, libx264, libx265, mjpeg, libtheora, flv, mpeg4, mpeg1video, mpeg2video, h263, msmpeg4, wmv2, libvorbis, libopus, aac, libmp3lame, mp2, wmav2, flac"));
                return null;
            }

            if (format is not null && !format.CanCarry(codec))
            {
                refusals.Add(new ConfigDiagnostic(location, $"{named}{renamed} makes {CodecIds.FfmpegName(codec)}, which Format {format.Name} cannot carry (it carries {string.Join(", ", format.Codecs.Where(c => CodecIds.KindOf(c) == kind).Select(CodecIds.FfmpegName))})"));
                return null;
            }

            if (kind == MediaKind.Video && Mpeg1FrameRates.Applies(encoder) && Mpeg1FrameRates.RoundingWarning(stream.Name, settings.FrameRate) is { } rounded)
            {
                warnings.Add(new ConfigDiagnostic(location, rounded));
            }

            var generic = await GenericOptionsAsync(time).ConfigureAwait(false);
            var options = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
            string optionDirective = kind == MediaKind.Video ? "AVOptionVideo" : "AVOptionAudio";
            foreach (var (option, from) in PresetOptions(settings, kind, encoder, warnings).Select(o => (o, "preset file")).Concat(settings.Options.Select(o => (o, optionDirective))))
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
                    string line = from == optionDirective ? $"{optionDirective} {option.Name} {option.Value}" : $"preset option {option.Name}={option.Value}";
                    warnings.Add(new ConfigDiagnostic(option.Location, $"{line}: encoder {encoder} has no option '{option.Name}' (`ffmpeg -h encoder={encoder}` lists its options); Sluice leaves it out"));
                }
            }

            var spec = new EncoderSpec
            {
                Kind = kind,
                Encoder = encoder,
                Codec = codec,
                Settings = settings,
                Options = options.ToImmutable(),
                Location = chosen is null ? location : null,
            };
            return EncoderDefaults.Apply(stream, spec, notes);
        }
    }

    /// <summary>The codecs of this kind common feeds bring: H.264 and VP8; AAC, Vorbis and Opus.</summary>
    private static CodecId[] CommonCodecs(MediaKind kind) =>
        kind == MediaKind.Video ? [CodecId.H264, CodecId.VP8] : [CodecId.AAC, CodecId.Vorbis, CodecId.Opus];

    /// <summary>Whether a stream of this Format encodes this kind whatever a common feed brings (H.264, VP8; AAC, Vorbis, Opus).</summary>
    public static bool AlwaysEncodes(OutputFormat format, MediaKind kind) => !CommonCodecs(kind).Any(format.CanCarry);

    /// <summary>
    /// The options of the stream's AVPresetVideo/AVPresetAudio file. A missing or broken file is a warning at the
    /// preset's line, as ffserver 3.4 logged it and started without it.
    /// </summary>
    private static IEnumerable<AvOption> PresetOptions(CodecSettings settings, MediaKind kind, string encoder, List<ConfigDiagnostic> warnings)
    {
        if (settings.Preset is not { } preset)
        {
            return [];
        }

        string directive = kind == MediaKind.Video ? "AVPresetVideo" : "AVPresetAudio";
        var at = settings.PresetLocation ?? settings.CodecLocation ?? default;
        var folders = EncoderPreset.Folders().ToList();
        if (EncoderPreset.Find(preset, encoder, folders) is not { } path)
        {
            warnings.Add(new ConfigDiagnostic(at, $"{directive} {preset}: no preset file {preset}.ffpreset or {encoder}-{preset}.ffpreset in {string.Join(", ", folders)}; ffserver 3.4 said \"File for preset '{preset}' not found\" and started without it, and so does Sluice"));
            return [];
        }

        var options = EncoderPreset.Read(path, out var error);
        if (error is not null)
        {
            warnings.Add(new ConfigDiagnostic(at, $"{directive} {preset}: {error}; Sluice uses the lines before it"));
        }

        // The codec lines chose the codec when the config was read.
        return options.Where(o => !EncoderPreset.IsCodecLine(o.Name));
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

    private static async Task<string?> TestEncodeAsync(StreamEncoding encoding, TimeProvider time) =>
        await TestEncodeAsync(TestArguments(encoding), time).ConfigureAwait(false);

    private static async Task<string?> TestEncodeAsync(List<string> arguments, TimeProvider time)
    {
        var (exitCode, _, stderr) = await RunFfmpegAsync(arguments, time).ConfigureAwait(false);
        if (exitCode == 0)
        {
            return null;
        }

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? $"ffmpeg exited with code {exitCode}" : string.Join(" / ", lines.TakeLast(3));
    }

    private static async Task<bool> FfmpegExistsAsync(TimeProvider time)
    {
        try
        {
            var (exitCode, _, _) = await RunFfmpegAsync(["-hide_banner", "-version"], time).ConfigureAwait(false);
            return exitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static async Task<EncoderInfo?> LoadEncoderAsync(string encoder, TimeProvider time)
    {
        var (_, stdout, _) = await RunFfmpegAsync(["-hide_banner", "-h", $"encoder={encoder}"], time).ConfigureAwait(false);
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

    /// <summary>The options every encoder takes, read once.</summary>
    private static Task<HashSet<string>> GenericOptionsAsync(TimeProvider time)
    {
        if (Volatile.Read(ref _genericOptions) is { } loaded)
        {
            return loaded;
        }

        var loading = LoadGenericOptionsAsync(time);
        return Interlocked.CompareExchange(ref _genericOptions, loading, null) ?? loading;
    }

    /// <summary>The options every encoder takes (ffmpeg -h full, "AVCodecContext AVOptions").</summary>
    private static async Task<HashSet<string>> LoadGenericOptionsAsync(TimeProvider time)
    {
        var (_, stdout, _) = await RunFfmpegAsync(["-hide_banner", "-h", "full"], time).ConfigureAwait(false);
        int start = stdout.IndexOf("AVCodecContext AVOptions:", StringComparison.Ordinal);
        if (start < 0)
        {
            return [];
        }

        int end = stdout.IndexOf(" AVOptions:", start + 25, StringComparison.Ordinal);
        var section = end < 0 ? stdout[start..] : stdout[start..end];
        return [.. OptionLine().Matches(section).Select(m => m.Groups[1].Value)];
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunFfmpegAsync(IEnumerable<string> arguments, TimeProvider time)
    {
        var info = ChildProcess.Piped(Ffmpeg, arguments);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {Ffmpeg}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout, time);
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
