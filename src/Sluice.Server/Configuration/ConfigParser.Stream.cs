using Sluice.Media.Formats;

namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>&lt;Stream name&gt; ... &lt;/Stream&gt;: the directives with code of their own, and what a stream gets when it ends.</summary>
    private sealed partial class Session
    {
        /// <summary>The Format of a status page: not a container, so not one of <see cref="OutputFormat"/>'s.</summary>
        private const string StatusFormat = "status";

        /// <summary>Formats Sluice serves: the containers it writes (<see cref="OutputFormat"/>'s names), and status pages.</summary>
        private static readonly string[] ServedFormats = [.. OutputFormat.Names, StatusFormat];

        /// <summary>Formats ffserver could serve that Sluice does not: refused with the format to use instead.</summary>
        private static readonly string[] UnservedFormats =
        [
            .. new[]
            {
                "mpeg", "mpeg1video", "mpeg2video", "vob", "asf", "asf_stream", "rm", "swf", "avi", "mp2", "mp3", "wav",
                "jpeg", "singlejpeg", "mjpeg", "nut", "mov", "mp4", "3gp", "ipod", "rtp", "rtsp", "ffm", "h264", "adts",
                "aac", "gif", "dv", "mxf", "wtv", "sdp",
            }.Except(ServedFormats),
        ];

        /// <summary>Formats ffserver served to RTSP clients (and by multicast): read, and the stream skipped until RTSP is served.</summary>
        private static readonly string[] RtspFormats = ["rtp", "rtsp"];

        private StreamConfig? _stream;
        private bool _streamFormatSet;

        /// <summary>False once the stream is known not to be served (Format rtp or rtsp): it is read and validated, then left out.</summary>
        private bool _streamServed;

        private int _streamDefaultsLine;
        private readonly Dictionary<(bool Video, string Name), (string Value, int Line)> _streamOptions = [];

        private void BeginStream(string name)
        {
            _stream = new StreamConfig { Name = name, Location = Here, UseDefaults = _useDefaults };
            _streamFormatSet = false;
            _streamServed = true;
            _streamDefaultsLine = 0;
            _streamOptions.Clear();
        }

        /// <summary>The stream directives with code of their own; the others are read by the table.</summary>
        private void StreamDirective(string name, List<string> args)
        {
            var s = _stream!;
            switch (name)
            {
                case "Format":
                    Format(s, args[0]);
                    break;
                case "Metadata":
                    _stream = s with { Metadata = s.Metadata.SetItem(args[0], string.Join(" ", args.Skip(1))) };
                    break;
                case "UseDefaults" or "NoDefaults":
                    if (_streamDefaultsLine != 0)
                    {
                        Warn($"UseDefaults/NoDefaults already given on line {_streamDefaultsLine}; this one ({name}) wins");
                    }

                    _streamDefaultsLine = _line;
                    _stream = s with { UseDefaults = name == "UseDefaults" };
                    break;
                case "ACL":
                    if (AclRule(args) is { } rule)
                    {
                        _stream = s with { Acl = s.Acl.Add(rule) };
                    }

                    break;
                case "AVOptionVideo" or "AVOptionAudio":
                    AvOption(name, args[0], args[1]);
                    break;
            }
        }

        private void Format(StreamConfig s, string arg)
        {
            var format = arg.ToLowerInvariant();
            _streamFormatSet = true;
            if (RtspFormats.Contains(format))
            {
                _stream = s with { Format = format };
                _streamServed = false;
                Warn($"Format {format}: RTSP/RTP is not served yet, so <Stream {s.Name}> is skipped (the other streams are served)");
            }
            else if (ServedFormats.Contains(format))
            {
                _stream = s with { Format = format };
            }
            else if (UnservedFormats.Contains(format))
            {
                _stream = s with { Format = format };
                Error($"Format {format} is one no player of today plays, and Sluice does not write it; use Format {Replacement(format)} instead");
            }
            else
            {
                var nearest = ConfigDirectives.Nearest(format, ServedFormats.Concat(UnservedFormats));
                var hint = nearest is null ? "" : $"did you mean '{nearest}'? ";
                Error($"unknown Format '{arg}'; {hint}Sluice serves {string.Join(", ", ServedFormats)}");
            }
        }

        private void AvOption(string directive, string option, string value)
        {
            var video = directive == "AVOptionVideo";
            if (_streamOptions.TryGetValue((video, option), out var previous) && value is not ['+' or '-', ..])
            {
                Error($"{directive} {option} is already set to '{previous.Value}' on line {previous.Line}; keep one of them");
                return;
            }

            _streamOptions[(video, option)] = (value, _line);
            var s = _stream!;
            var entry = new AvOption(option, value, Here);
            _stream = video
                ? s with { Video = s.Video with { Options = s.Video.Options.Add(entry) } }
                : s with { Audio = s.Audio with { Options = s.Audio.Options.Add(entry) } };
        }

        /// <summary>What serves the viewers of an ffserver format Sluice does not write.</summary>
        private static string Replacement(string format) => format switch
        {
            "vob" or "mpeg1video" or "mpeg2video" or "h264" or "rtp" or "rtsp" or "sdp" or "dv" or "mxf" or "wtv" => "mpegts (or hls for browsers)",
            "asf_stream" or "rm" or "avi" or "nut" or "mov" or "3gp" or "ipod" or "gif" => "mp4 or webm",
            "singlejpeg" => "jpeg (one picture) or mjpeg or mpjpeg (moving pictures)",
            "wav" => "mp3 or ogg",
            "aac" => "adts",
            "ffm" => "matroska",
            _ => "webm",
        };

        private void EndStream()
        {
            var s = _stream!;
            _stream = null;

            if (!_streamFormatSet && OutputFormat.ForFileName(s.Name) is { } guessed)
            {
                s = s with { Format = guessed.Name };
            }

            var written = Written;
            var readsFile = ConfigValidator.ReadsFile(s, written);
            if (readsFile)
            {
                // ffserver re-streamed the file when the stream had no Feed; ReadOnlyFile reads it as File does.
                var last = written.All("File").Concat(written.All("ReadOnlyFile")).MaxBy(f => f.Line)!;
                s = s with { SourceFile = SourceFilePath(last.Text) };
            }
            else
            {
                foreach (var directive in new[] { "File", "ReadOnlyFile" })
                {
                    foreach (var file in written.All(directive))
                    {
                        Warn(file.Line, $"{directive} inside <Stream> is not read when the stream has a Feed: the stream reads its Feed, as ffserver 3.4 did");
                    }
                }

                if (written.LastLine("NoLoop") is var noLoop and not 0)
                {
                    Warn(noLoop, $"NoLoop has no effect in <Stream {s.Name}>: it reads a Feed, and only a stream that plays a File loops");
                }
            }

            // ffserver 3.4 filled in codec defaults only for a stream that reads a feed (none for a file stream).
            var served = _streamServed;
            if (!served)
            {
                _skipped.Add(new SkippedStream(s.Name, $"Format {s.Format}: RTSP/RTP is not served yet", s.Location));
            }

            if (!s.IsStatus && served)
            {
                s = PresetCodecs(s);
                s = readsFile ? s : ApplyDefaults(s);
            }

            _streams.Add((s, written, served));
        }

        /// <summary>A stream's File as a full path: a relative one is taken from the folder of the config file it is in.</summary>
        private string SourceFilePath(string path)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(Here.File));
            return Path.GetFullPath(folder is null ? path : Path.Combine(folder, path));
        }

        /// <summary>
        /// ffserver's UseDefaults: a stream that configures audio or video but leaves out a bitrate, rate or
        /// size gets ffserver's value, with a warning each (with NoDefaults, the stream's validator asks for the
        /// essential ones).
        /// </summary>
        private StreamConfig ApplyDefaults(StreamConfig s)
        {
            if (!s.UseDefaults)
            {
                return s;
            }

            var line = s.Location.Line;
            var audio = s.Audio;
            var video = s.Video;
            if (!s.NoAudio && audio.IsSet)
            {
                audio = Default(audio, audio.BitRate, "AudioBitRate", "64 kbit/s", a => a with { BitRate = 64 });
                audio = Default(audio, audio.SampleRate, "AudioSampleRate", "22050 Hz", a => a with { SampleRate = 22050 });
                audio = Default(audio, audio.Channels, "AudioChannels", "1 channel", a => a with { Channels = 1 });
            }

            if (!s.NoVideo && video.IsSet)
            {
                video = Default(video, video.BitRate, "VideoBitRate", "64 kbit/s", v => v with { BitRate = 64 });
                video = Default(video, video.FrameRate, "VideoFrameRate", "5 fps", v => v with { FrameRate = 5 });
                video = Default(video, video.Width, "VideoSize", "160x128", v => v with { Width = 160, Height = 128 });
            }

            return s with { Audio = audio, Video = video };

            CodecSettings Default<T>(CodecSettings codec, T? value, string directive, string fallback, Func<CodecSettings, CodecSettings> apply)
                where T : struct
            {
                if (value is not null)
                {
                    return codec;
                }

                Warn(line, $"<Stream {s.Name}> sets no {directive}; using ffserver's default {fallback} (add {directive}, or NoDefaults to turn defaults off)");
                return apply(codec);
            }
        }
    }
}
