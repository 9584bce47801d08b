using System.Collections.Immutable;

namespace Sluice.Server.Configuration;

/// <summary>A problem found in a config file, at a line.</summary>
internal sealed record ConfigDiagnostic(ConfigLocation Location, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>The outcome of parsing: a config when there were no errors, plus every error and warning.</summary>
internal sealed record ConfigParseResult(
    ServerConfig? Config,
    ImmutableArray<ConfigDiagnostic> Errors,
    ImmutableArray<ConfigDiagnostic> Warnings)
{
    public bool Succeeded => Config is not null && Errors.IsEmpty;
}

/// <summary>Reads ffserver.conf (the language of ffserver 3.4).</summary>
internal static partial class ConfigParser
{
    public static ConfigParseResult ParseFile(string path) => Parse(File.ReadAllText(path), path);

    /// <param name="presetFolders">Where AVPresetVideo/AVPresetAudio files are looked for (null: <see cref="EncoderPreset.Folders"/>).</param>
    public static ConfigParseResult Parse(string text, string file, IReadOnlyList<string>? presetFolders = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        return new Session(file, presetFolders).Run(text);
    }

    /// <summary>One parse: the state of the file being read, and everything found so far.</summary>
    private sealed partial class Session(string file, IReadOnlyList<string>? presetFolders)
    {
        private readonly ConfigDiagnostics _diagnostics = new(file);
        private readonly List<(FeedConfig Feed, SectionDirectives Written)> _feeds = [];

        /// <summary>Every stream read; one not <c>Served</c> (RTP, a file with no feed) is validated, warned about and left out of the config.</summary>
        private readonly List<(StreamConfig Stream, SectionDirectives Written, bool Served)> _streams = [];
        private readonly List<SkippedStream> _skipped = [];

        private readonly List<RedirectConfig> _redirects = [];

        /// <summary>The table directives written outside any section.</summary>
        private readonly SectionDirectives _globalWritten = new();

        /// <summary>Those of the section being read; null outside any.</summary>
        private SectionDirectives? _sectionWritten;

        /// <summary>Every feed, stream and redirect name: each is a URL, so they share one namespace.</summary>
        private readonly Dictionary<string, (string Kind, int Line)> _names = new(StringComparer.Ordinal);

        private int _line;

        /// <summary>The comment that ends the line being read ("# port"), or null when it has none.</summary>
        private string? _comment;

        private ConfigSection _section = ConfigSection.Global;
        private string _sectionName = "";
        private int _sectionLine;
        private bool _discardSection;

        public ConfigParseResult Run(string text)
        {
            var lines = text.Split('\n');
            var tokens = new List<string>();
            for (var i = 0; i < lines.Length; i++)
            {
                _line = i + 1;
                var line = lines[i].TrimEnd('\r');
                if (i == 0)
                {
                    line = line.TrimStart('\uFEFF');
                }

                line = line.Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                tokens.Clear();
                if (!Tokenize(line, tokens))
                {
                    continue;
                }

                var command = tokens[0];
                var args = tokens.GetRange(1, tokens.Count - 1);
                if (command.StartsWith("</", StringComparison.Ordinal))
                {
                    CloseSection(command, args);
                }
                else if (command.StartsWith('<'))
                {
                    OpenSection(command, args);
                }
                else
                {
                    Directive(command, args);
                }
            }

            if (_section != ConfigSection.Global)
            {
                _line = _sectionLine;
                Error($"<{_section} {_sectionName}> is never closed; add </{_section}> after its last directive");
                FinishSection();
            }

            Validate();

            var errors = _diagnostics.Errors.OrderBy(d => d.Location.Line).ToImmutableArray();
            var warnings = _diagnostics.MergedWarnings().OrderBy(d => d.Location.Line).ToImmutableArray();
            var config = errors.IsEmpty ? BuildConfig() : null;
            return new ConfigParseResult(config, errors, warnings);
        }

        private ConfigLocation Here => new(file, _line);

        /// <summary>Where the table directives of the section being read (or of the lines outside any) were written.</summary>
        private SectionDirectives Written => _sectionWritten ?? _globalWritten;

        private void Error(string message) => _diagnostics.Error(_line, message);

        private void Error(int line, string message) => _diagnostics.Error(line, message);

        private void Warn(string message) => _diagnostics.Warn(_line, message);

        private void Warn(int line, string message) => _diagnostics.Warn(line, message);

        /// <summary>
        /// Splits a line into words as ffserver did: whitespace separates, '...' or "..." quotes. A word that begins
        /// with '#' (outside quotes) starts a comment that runs to the end of the line (<see cref="_comment"/>); a
        /// '#' inside a word or a quoted value is part of it. ffserver 3.4 had no such rule: each directive read the
        /// words it needed and ignored the rest of the line, so a comment after a complete line was ignored there
        /// too, and the directives that read further are listed in the table (<see cref="DirectiveInfo.Ffserver34"/>).
        /// </summary>
        private bool Tokenize(string line, List<string> tokens)
        {
            var i = 0;
            _comment = null;
            while (true)
            {
                while (i < line.Length && char.IsWhiteSpace(line[i]))
                {
                    i++;
                }

                if (i >= line.Length)
                {
                    return true;
                }

                var c = line[i];
                if (c == '#')
                {
                    _comment = line[i..].TrimEnd();
                    return true;
                }

                if (c is '"' or '\'')
                {
                    var end = line.IndexOf(c, i + 1);
                    if (end < 0)
                    {
                        Error($"unterminated quote: {c} at column {i + 1} has no closing {c}");
                        return false;
                    }

                    tokens.Add(line[(i + 1)..end]);
                    i = end + 1;
                }
                else
                {
                    var start = i;
                    while (i < line.Length && !char.IsWhiteSpace(line[i]))
                    {
                        i++;
                    }

                    tokens.Add(line[start..i]);
                }
            }
        }

        private string SectionText => $"<{_section} {_sectionName}> (line {_sectionLine})";

        private void Directive(string command, List<string> args)
        {
            if (!ConfigDirectives.ByName.TryGetValue(command, out var info))
            {
                var candidates = ConfigDirectives.List.Where(d => d.Sections.HasFlag(_section)).Select(d => d.Name)
                    .Concat(ConfigDirectives.List.Select(d => d.Name));
                var nearest = ConfigDirectives.Nearest(command, candidates);
                var where = _section == ConfigSection.Global ? "" : $" inside {SectionText}";
                Error(nearest is null
                    ? $"unknown directive '{command}'{where}; see docs/configuration.md for the directives Sluice reads"
                    : $"unknown directive '{command}'{where}; did you mean '{nearest}'?");
                return;
            }

            var name = info.Name;
            if (!info.Sections.HasFlag(_section))
            {
                var where = _section == ConfigSection.Global ? "outside a section" : $"inside {SectionText}";
                Error($"{name} is not allowed {where}; it belongs {ConfigDirectives.Belongs(info.Sections)}");
                return;
            }

            if (_comment is { } comment && info.Ffserver34?.Invoke(args, comment.Split(' ', '\t')[0], _section) is { } reading)
            {
                // ffserver 3.4 read the comment's first word(s) as value(s) of this line.
                var ignored = args.Count < info.MinArgs;
                Warn($"ffserver 3.4 {reading}; Sluice reads '{comment}' as a comment and {(ignored ? "ignores this line (quote a value that begins with #)" : $"reads the line as '{string.Join(" ", [name, .. args])}'")}");
                if (ignored)
                {
                    if (_section == ConfigSection.Redirect && name == "URL")
                    {
                        RedirectUrlWasAComment();
                    }

                    return;
                }
            }

            if (args.Count < info.MinArgs)
            {
                var count = info.MinArgs == 1 ? "an argument" : $"{info.MinArgs} arguments";
                var hint = _comment is { } c ? $" ('{c}' is a comment; quote a value that begins with #)" : "";
                Error($"{name} needs {count}; usage: {info.Usage}{hint}");
                return;
            }

            if (args.Count > info.MaxArgs)
            {
                var extra = string.Join(" ", args.Skip(info.MaxArgs).Select(a => $"'{a}'"));
                var takes = info.MaxArgs switch { 0 => "no arguments", 1 => "one argument", _ => $"at most {info.MaxArgs} arguments" };

                // ffserver 3.4 read the words a directive takes and ignored the rest of the line: so does Sluice, aloud.
                var quote = info.MaxArgs == 0 ? "" : "; quote a value that contains spaces";
                Warn($"{name} takes {takes}; ignoring {extra}, as ffserver 3.4 did (usage: {info.Usage}{quote})");
                args = args[..info.MaxArgs];
            }

            if (info.Value is { } kind)
            {
                TableDirective(info, kind, args);
            }
            else
            {
                switch (_section)
                {
                    case ConfigSection.Global:
                        GlobalDirective(name);
                        break;
                    case ConfigSection.Feed:
                        FeedDirective(name, args);
                        break;
                    case ConfigSection.Stream:
                        StreamDirective(name, args);
                        break;
                    case ConfigSection.Redirect:
                        RedirectDirective(name, args);
                        break;
                }
            }

            if (ConfigDirectives.UnsupportedMessage(name, _section) is { } instead)
            {
                Warn(instead);
            }
        }

        /// <summary>A directive the table reads: its value parsed by its kind, then set on the section being read.</summary>
        private void TableDirective(DirectiveInfo info, ValueKind kind, List<string> args)
        {
            var text = info.MaxArgs == ConfigDirectives.Rest ? string.Join(" ", args) : args.Count > 0 ? args[0] : "";
            var value = args.Count == 0 ? info.Absent : kind.Parse(text);
            if (value is null)
            {
                Error(kind.Message(info.Name, text));
                return;
            }

            if (kind.Caution?.Invoke(info.Name, text, value) is { } caution)
            {
                Warn(caution);
            }

            Written.Add(info.Name, new WrittenDirective(_line, text, value));
            switch (_section)
            {
                case ConfigSection.Global when info.SetGlobal is { } set:
                    _global = set(_global, value);
                    break;
                case ConfigSection.Feed when info.SetFeed is { } set:
                    _feed = set(_feed!, value);
                    if (info.Name is "File" or "ReadOnlyFile")
                    {
                        _feed = _feed with { FileLocation = Here };
                    }

                    break;
                case ConfigSection.Stream when info.SetStream is { } set:
                    _stream = set(_stream!, value, Here);
                    break;
            }
        }

        /// <summary>Each section's validator, once the whole file is read: every error of every section.</summary>
        private void Validate()
        {
            ConfigValidator.Global(_global, _globalWritten, _diagnostics);
            foreach (var (_, written) in _feeds)
            {
                ConfigValidator.Feed(written, _diagnostics);
            }

            var feedNames = _feeds.Select(f => f.Feed.Name).ToList();
            foreach (var (stream, written, _) in _streams)
            {
                ConfigValidator.Stream(stream, written, feedNames, _diagnostics);
            }
        }

        private ServerConfig BuildConfig() => _global with
        {
            Source = file,
            Feeds = [.. _feeds.Select(f => f.Feed)],
            Streams = [.. _streams.Where(s => s.Served).Select(s => s.Stream)],
            Redirects = [.. _redirects],
            SkippedStreams = [.. _skipped],
        };
    }
}
