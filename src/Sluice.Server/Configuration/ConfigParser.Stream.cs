using System.Globalization;

namespace Sluice.Server.Configuration;

public static partial class ConfigParser
{
    /// <summary>&lt;Stream name&gt; ... &lt;/Stream&gt; and &lt;Redirect name&gt; URL u &lt;/Redirect&gt;.</summary>
    private sealed partial class Session
    {
        /// <summary>Formats Sluice serves: the containers it writes, and the ones planned (hls, dash).</summary>
        private static readonly string[] ServedFormats =
            [.. Sluice.Media.Formats.OutputFormat.Names, .. new[] { "mpegts", "flv", "mp4", "hls", "dash", "status" }.Except(Sluice.Media.Formats.OutputFormat.Names)];

        /// <summary>Formats ffserver could serve that Sluice does not: accepted with a warning.</summary>
        private static readonly string[] UnservedFormats =
        [
            .. new[]
            {
                "mpeg", "mpeg1video", "mpeg2video", "vob", "asf", "asf_stream", "rm", "swf", "avi", "mp2", "mp3", "wav",
                "jpeg", "singlejpeg", "mjpeg", "nut", "mov", "mp4", "3gp", "ipod", "rtp", "rtsp", "ffm", "h264", "adts",
                "aac", "gif", "dv", "mxf", "wtv", "sdp",
            }.Except(ServedFormats),
        ];

        private static readonly (string Extension, string Format)[] FormatsByExtension =
        [
            (".webm", "webm"), (".mkv", "matroska"), (".ts", "mpegts"), (".flv", "flv"), (".ogg", "ogg"), (".ogv", "ogg"),
             (".oga", "ogg"), (".opus", "ogg"), (".mp3", "mp3"), (".mp4", "mp4"), (".m4v", "mp4"), (".aac", "adts"), (".jpg", "jpeg"), (".mjpg", "mpjpeg"), (".mjpeg", "mpjpeg"), (".m3u8", "hls"), (".mpd", "dash"),
        ];

        private StreamConfig? _stream;
        private bool _streamFormatSet;
        private int _streamFeedLine;
        private int _streamDefaultsLine;
        private readonly List<int> _streamFeedLines = [];
        private readonly Dictionary<(bool Video, string Name), (string Value, int Line)> _streamOptions = [];

        private string? _redirectName;
        private string? _redirectUrl;
        private ConfigLocation _redirectLocation;

        private void BeginStream(string name)
        {
            _stream = new StreamConfig { Name = name, Location = Here, UseDefaults = _useDefaults };
            _streamFormatSet = false;
            _streamFeedLine = 0;
            _streamDefaultsLine = 0;
            _streamOptions.Clear();
        }

        private void StreamDirective(string name, List<string> args)
        {
            var s = _stream!;
            var arg = args.Count > 0 ? args[0] : "";
            switch (name)
            {
                case "Feed":
                    _stream = s with { Feed = arg };
                    _streamFeedLine = _line;
                    break;
                case "Format":
                    Format(s, arg);
                    break;
                case "Author" or "Comment" or "Copyright" or "Title":
                    _stream = s with { Metadata = s.Metadata.SetItem(name.ToLowerInvariant(), string.Join(" ", args)) };
                    break;
                case "Metadata":
                    _stream = s with { Metadata = s.Metadata.SetItem(arg, string.Join(" ", args.Skip(1))) };
                    break;
                case "Preroll":
                    if (Seconds(name, arg) is { } preroll)
                    {
                        _stream = s with { Preroll = preroll };
                    }

                    break;
                case "MaxClients":
                    if (Limit(name, arg) is { } maxClients)
                    {
                        _stream = s with { MaxClients = maxClients };
                    }

                    break;
                case "MaxTime":
                    if (Seconds(name, arg) is { } maxTime)
                    {
                        _stream = s with { MaxTime = maxTime };
                    }

                    break;
                case "OnDemand":
                    if (args.Count == 0)
                    {
                        _stream = s with { OnDemand = StreamConfig.DefaultOnDemandLinger };
                    }
                    else if (Seconds(name, arg) is { } linger)
                    {
                        _stream = s with { OnDemand = linger };
                    }

                    break;
                case "HLS" or "HLSFormat" or "HLSSegmentDuration" or "HLSPartDuration" or "HLSListSize":
                    HlsDirective(s, name, arg);
                    break;
                case "StartSendOnKey":
                    _stream = s with { StartSendOnKey = true };
                    break;
                case "NoVideo":
                    _stream = s with { NoVideo = true };
                    break;
                case "NoAudio":
                    _stream = s with { NoAudio = true };
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
                case "VideoCodec":
                    _stream = s with { Video = s.Video with { Codec = arg, CodecLocation = Here } };
                    break;
                case "AudioCodec":
                    _stream = s with { Audio = s.Audio with { Codec = arg, CodecLocation = Here } };
                    break;
                case "VideoBitRate":
                    if (Kbps(name, arg) is { } vb)
                    {
                        _stream = s with { Video = s.Video with { BitRate = vb } };
                    }

                    break;
                case "AudioBitRate":
                    if (ConfigValues.Double(arg, 0.001, 10_000_000) is { } ab)
                    {
                        _stream = s with { Audio = s.Audio with { BitRate = Math.Max(1, (long)Math.Round(ab)) } };
                    }
                    else
                    {
                        Error($"invalid AudioBitRate '{arg}': expected a positive number of kbit/s, e.g. 128");
                    }

                    break;
                case "VideoBitRateTolerance":
                    if (Kbps(name, arg) is { } bt)
                    {
                        _stream = s with { Video = s.Video with { BitRateTolerance = bt } };
                    }

                    break;
                case "VideoBufferSize":
                    if (ConfigValues.Long(arg, 1, 10_000_000) is { } buffer)
                    {
                        _stream = s with { Video = s.Video with { BufferSize = buffer } };
                    }
                    else
                    {
                        Error($"invalid VideoBufferSize '{arg}': expected a positive whole number of KiB, e.g. 40");
                    }

                    break;
                case "VideoBitRateRange":
                    var dash = arg.IndexOf('-', StringComparison.Ordinal);
                    if (dash > 0 && ConfigValues.Long(arg[..dash], 0, 10_000_000) is { } min
                        && ConfigValues.Long(arg[(dash + 1)..], 0, 10_000_000) is { } max && min <= max)
                    {
                        _stream = s with { Video = s.Video with { BitRateRangeMin = min, BitRateRangeMax = max } };
                    }
                    else
                    {
                        Error($"invalid VideoBitRateRange '{arg}': expected <min>-<max> in kbit/s with min <= max, e.g. 200-600");
                    }

                    break;
                case "VideoSize":
                    if (ConfigValues.VideoSize(arg) is { } size)
                    {
                        if (size.Width % 2 != 0 || size.Height % 2 != 0)
                        {
                            Warn($"VideoSize {arg} is not a multiple of 2; most encoders (yuv420p) will refuse it");
                        }

                        _stream = s with { Video = s.Video with { Width = size.Width, Height = size.Height } };
                    }
                    else
                    {
                        Error($"invalid VideoSize '{arg}': expected <width>x<height> (e.g. 320x240) or a name such as sqcif, qcif, cif, 4cif, qvga, vga, svga, xga, hd480, hd720, hd1080");
                    }

                    break;
                case "VideoFrameRate":
                    if (ConfigValues.FrameRate(arg) is { } fps)
                    {
                        _stream = s with { Video = s.Video with { FrameRate = fps } };
                    }
                    else
                    {
                        Error($"invalid VideoFrameRate '{arg}': expected a positive number or fraction of frames per second, e.g. 25, 29.97, 30000/1001 or ntsc");
                    }

                    break;
                case "PixelFormat":
                    if (arg.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                    {
                        _stream = s with { Video = s.Video with { PixelFormat = arg } };
                    }
                    else
                    {
                        Error($"invalid PixelFormat '{arg}': expected an ffmpeg pixel format name such as yuv420p");
                    }

                    break;
                case "VideoGopSize":
                    if (ConfigValues.Int(arg, 1, 100_000) is { } gop)
                    {
                        _stream = s with { Video = s.Video with { GopSize = gop } };
                    }
                    else
                    {
                        Error($"invalid VideoGopSize '{arg}': expected a positive whole number of frames, e.g. 30");
                    }

                    break;
                case "VideoIntraOnly":
                    _stream = s with { Video = s.Video with { IntraOnly = true } };
                    break;
                case "VideoQMin" or "VideoQMax":
                    if (ConfigValues.Int(arg, 0, 69) is { } q)
                    {
                        _stream = s with { Video = name == "VideoQMin" ? s.Video with { QMin = q } : s.Video with { QMax = q } };
                    }
                    else
                    {
                        Error($"invalid {name} '{arg}': expected a whole number from 0 to 69");
                    }

                    break;
                case "AudioChannels":
                    if (ConfigValues.Int(arg, 1, 64) is { } channels)
                    {
                        _stream = s with { Audio = s.Audio with { Channels = channels } };
                    }
                    else
                    {
                        Error($"invalid AudioChannels '{arg}': expected a whole number from 1 to 64");
                    }

                    break;
                case "AudioSampleRate":
                    if (ConfigValues.Int(arg, 1000, 768_000) is { } rate)
                    {
                        _stream = s with { Audio = s.Audio with { SampleRate = rate } };
                    }
                    else
                    {
                        Error($"invalid AudioSampleRate '{arg}': expected a sample rate in Hz from 1000 to 768000, e.g. 44100");
                    }

                    break;
                case "AVOptionVideo" or "AVOptionAudio":
                    AvOption(name, args[0], args[1]);
                    break;
                case "AVPresetVideo":
                    _stream = s with { Video = s.Video with { Preset = arg } };
                    break;
                case "AVPresetAudio":
                    _stream = s with { Audio = s.Audio with { Preset = arg } };
                    break;
                case "MulticastAddress":
                    if (ConfigValues.Address(arg) is null)
                    {
                        Error($"invalid address '{arg}' for MulticastAddress: expected an IPv4 or IPv6 address");
                    }

                    break;
                case "MulticastPort":
                    Port(name, arg);
                    break;
                case "MulticastTTL" or "Qscale":
                    if (ConfigValues.Int(arg, int.MinValue, int.MaxValue) is null)
                    {
                        Error($"invalid {name} '{arg}': expected a whole number");
                    }

                    break;
            }
        }

        private void Format(StreamConfig s, string arg)
        {
            var format = arg.ToLowerInvariant();
            _streamFormatSet = true;
            if (ServedFormats.Contains(format))
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
            "mpeg" or "vob" or "mpeg1video" or "mpeg2video" or "h264" or "rtp" or "rtsp" or "sdp" or "dv" or "mxf" or "wtv" => "mpegts (or hls for browsers)",
            "asf" or "asf_stream" or "rm" or "swf" or "avi" or "nut" or "mov" or "3gp" or "ipod" or "gif" => "mp4 or webm",
            "singlejpeg" or "mjpeg" => "jpeg (one picture) or mpjpeg (moving pictures)",
            "mp2" or "wav" => "mp3 or ogg",
            "aac" => "adts",
            "ffm" => "matroska",
            _ => "webm",
        };

        private void HlsDirective(StreamConfig s, string name, string arg)
        {
            switch (name)
            {
                case "HLS" when arg.Equals("on", StringComparison.OrdinalIgnoreCase) || arg.Equals("off", StringComparison.OrdinalIgnoreCase):
                    _stream = s with { Hls = s.Hls with { Enabled = arg.Equals("on", StringComparison.OrdinalIgnoreCase) } };
                    break;
                case "HLS":
                    Error($"invalid HLS '{arg}': write HLS on or HLS off");
                    break;
                case "HLSFormat" when arg.ToLowerInvariant() is "fmp4" or "ts":
                    _stream = s with { Hls = s.Hls with { SegmentFormat = arg.ToLowerInvariant() } };
                    break;
                case "HLSFormat":
                    Error($"invalid HLSFormat '{arg}': write fmp4 (CMAF, low latency, also used by DASH) or ts (MPEG-TS, the widest reach)");
                    break;
                case "HLSSegmentDuration":
                    if (ConfigValues.Double(arg, 0.5, 60) is { } segment)
                    {
                        _stream = s with { Hls = s.Hls with { SegmentDuration = segment } };
                    }
                    else
                    {
                        Error($"invalid HLSSegmentDuration '{arg}': expected seconds from 0.5 to 60 (segments are cut at the first keyframe after it)");
                    }

                    break;
                case "HLSPartDuration":
                    if (ConfigValues.Double(arg, 0.1, 5) is { } part)
                    {
                        _stream = s with { Hls = s.Hls with { PartDuration = part } };
                    }
                    else
                    {
                        Error($"invalid HLSPartDuration '{arg}': expected seconds from 0.1 to 5");
                    }

                    break;
                default:
                    if (ConfigValues.Int(arg, 3, 1000) is { } count)
                    {
                        _stream = s with { Hls = s.Hls with { ListSize = count } };
                    }
                    else
                    {
                        Error($"invalid HLSListSize '{arg}': expected a whole number of segments from 3 to 1000");
                    }

                    break;
            }
        }

        private double? Seconds(string name, string text)
        {
            var value = ConfigValues.Double(text, 0, 1_000_000_000);
            if (value is null)
            {
                Error($"invalid {name} '{text}': expected a number of seconds, 0 or more");
            }

            return value;
        }

        private long? Kbps(string name, string text)
        {
            var value = ConfigValues.Long(text, 1, 10_000_000);
            if (value is null)
            {
                Error($"invalid {name} '{text}': expected a positive whole number of kbit/s, e.g. 512");
            }

            return value;
        }

        private void EndStream()
        {
            var s = _stream!;
            _stream = null;

            if (!_streamFormatSet)
            {
                foreach (var (extension, format) in FormatsByExtension)
                {
                    if (s.Name.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
                    {
                        s = s with { Format = format };
                        break;
                    }
                }
            }

            CheckPresetOptions(s.Video, "AVOptionVideo");
            CheckPresetOptions(s.Audio, "AVOptionAudio");

            if (s.Video.QMin is { } qmin && s.Video.QMax is { } qmax && qmin > qmax)
            {
                Error(s.Location.Line, $"<Stream {s.Name}> has VideoQMin {qmin} above VideoQMax {qmax}; swap them");
            }

            if (!s.IsStatus)
            {
                s = ApplyDefaults(s);
            }

            _streams.Add(s);
            _streamFeedLines.Add(_streamFeedLine);
        }

        private void CheckPresetOptions(CodecSettings codec, string directive)
        {
            if (!LibvpxPreset.IsLibvpx(codec.Codec))
            {
                return;
            }

            foreach (var option in codec.Options.Where(o => o.Name == "preset"))
            {
                var prefix = $"{directive} preset {option.Value}: {codec.Codec} has no 'preset' option (ffserver 3.4 refused this line with \"Option not found: 'preset'\")";
                Warn(option.Location.Line, LibvpxPreset.Map(option.Value) is { } mapped
                    ? $"{prefix}; Sluice keeps it and, when it encodes this stream, passes -deadline {mapped.Deadline} -cpu-used {mapped.CpuUsed.ToString(CultureInfo.InvariantCulture)} to {codec.Codec} instead"
                    : $"{prefix}; '{option.Value}' is not an x264 preset name either, so Sluice ignores it when it encodes this stream");
            }
        }

        /// <summary>
        /// ffserver's UseDefaults: a stream that configures audio or video but leaves out a bitrate, rate or
        /// size gets ffserver's value, with a warning each; with NoDefaults the essential ones are errors.
        /// </summary>
        private StreamConfig ApplyDefaults(StreamConfig s)
        {
            var line = s.Location.Line;
            var audio = s.Audio;
            var video = s.Video;
            if (!s.NoAudio && audio.IsSet)
            {
                if (s.UseDefaults)
                {
                    audio = Default(audio, audio.BitRate, "AudioBitRate", "64 kbit/s", a => a with { BitRate = 64 });
                    audio = Default(audio, audio.SampleRate, "AudioSampleRate", "22050 Hz", a => a with { SampleRate = 22050 });
                    audio = Default(audio, audio.Channels, "AudioChannels", "1 channel", a => a with { Channels = 1 });
                }
                else
                {
                    Require(audio.BitRate, "AudioBitRate <kbit/s>");
                    Require(audio.SampleRate, "AudioSampleRate <Hz>");
                }
            }

            if (!s.NoVideo && video.IsSet)
            {
                if (s.UseDefaults)
                {
                    video = Default(video, video.BitRate, "VideoBitRate", "64 kbit/s", v => v with { BitRate = 64 });
                    video = Default(video, video.FrameRate, "VideoFrameRate", "5 fps", v => v with { FrameRate = 5 });
                    video = Default(video, video.Width, "VideoSize", "160x128", v => v with { Width = 160, Height = 128 });
                }
                else
                {
                    Require(video.Width, "VideoSize <width>x<height>");
                }
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

            void Require<T>(T? value, string usage)
                where T : struct
            {
                if (value is null)
                {
                    Error(line, $"<Stream {s.Name}> has NoDefaults but no {usage.Split(' ')[0]}; add {usage} or remove NoDefaults");
                }
            }
        }

        private void ValidateStreams()
        {
            var feedNames = _feeds.Select(f => f.Name).ToList();
            var defined = feedNames.Count == 0 ? "(none)" : string.Join(", ", feedNames);
            for (var i = 0; i < _streams.Count; i++)
            {
                var s = _streams[i];
                if (s.Feed is null)
                {
                    if (!s.IsStatus)
                    {
                        Error(s.Location.Line, $"<Stream {s.Name}> has no Feed; add 'Feed <name>' naming one of the defined feeds: {defined} (only a 'Format status' stream needs no feed)");
                    }

                    continue;
                }

                if (feedNames.Contains(s.Feed, StringComparer.Ordinal))
                {
                    continue;
                }

                var caseMatch = feedNames.FirstOrDefault(f => string.Equals(f, s.Feed, StringComparison.OrdinalIgnoreCase));
                var nearest = caseMatch ?? ConfigDirectives.Nearest(s.Feed, feedNames);
                var hint = caseMatch is not null
                    ? $"; feed names are case-sensitive, did you mean '{caseMatch}'?"
                    : nearest is not null ? $"; did you mean '{nearest}'?" : "";
                Error(_streamFeedLines[i], $"<Stream {s.Name}> reads Feed {s.Feed}, but no <Feed {s.Feed}> is defined; defined feeds: {defined}{hint}");
            }
        }

        private void BeginRedirect(string name)
        {
            (_redirectName, _redirectUrl, _redirectLocation) = (name, null, Here);
        }

        private void RedirectDirective(string name, List<string> args)
        {
            if (name != "URL")
            {
                return;
            }

            var url = args[0];
            if ((Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "rtsp" or "rtmp")
                || (url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal)))
            {
                _redirectUrl = url;
            }
            else
            {
                Error($"invalid URL '{url}' for <Redirect {_redirectName}>: expected an absolute http(s) URL such as http://example.com/live.webm or a path starting with /");
                _redirectUrl = "";
            }
        }

        private void EndRedirect()
        {
            if (_redirectUrl is null)
            {
                Error(_redirectLocation.Line, $"<Redirect {_redirectName}> has no URL; add 'URL <url>' inside it");
            }
            else if (_redirectUrl.Length > 0)
            {
                _redirects.Add(new RedirectConfig { Name = _redirectName!, Url = _redirectUrl, Location = _redirectLocation });
            }
        }
    }
}
