using System.Collections.Immutable;

namespace Sluice.Server.Configuration;

/// <summary>A problem found in a config file, at a line.</summary>
public sealed record ConfigDiagnostic(ConfigLocation Location, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>The outcome of parsing: a config when there were no errors, plus every error and warning.</summary>
public sealed record ConfigParseResult(
    ServerConfig? Config,
    ImmutableArray<ConfigDiagnostic> Errors,
    ImmutableArray<ConfigDiagnostic> Warnings)
{
    public bool Succeeded => Config is not null && Errors.IsEmpty;
}

/// <summary>Reads ffserver.conf (the language of ffserver 3.4).</summary>
public static partial class ConfigParser
{
    public static ConfigParseResult ParseFile(string path) => Parse(File.ReadAllText(path), path);

    public static ConfigParseResult Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        return new Session(file).Run(text);
    }

    /// <summary>One parse: the state of the file being read, and everything found so far.</summary>
    private sealed partial class Session(string file)
    {
        private readonly List<ConfigDiagnostic> _errors = [];
        private readonly List<ConfigDiagnostic> _warnings = [];
        private readonly List<FeedConfig> _feeds = [];
        private readonly List<StreamConfig> _streams = [];
        private readonly List<RedirectConfig> _redirects = [];

        /// <summary>Every feed, stream and redirect name: each is a URL, so they share one namespace.</summary>
        private readonly Dictionary<string, (string Kind, int Line)> _names = new(StringComparer.Ordinal);

        private int _line;
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

            var errors = _errors.OrderBy(d => d.Location.Line).ToImmutableArray();
            var warnings = _warnings.OrderBy(d => d.Location.Line).ToImmutableArray();
            var config = errors.IsEmpty ? BuildConfig() : null;
            return new ConfigParseResult(config, errors, warnings);
        }

        private ConfigLocation Here => new(file, _line);

        private void Error(string message) => _errors.Add(new ConfigDiagnostic(Here, message));

        private void Error(int line, string message) => _errors.Add(new ConfigDiagnostic(new ConfigLocation(file, line), message));

        private void Warn(string message) => _warnings.Add(new ConfigDiagnostic(Here, message));

        private void Warn(int line, string message) => _warnings.Add(new ConfigDiagnostic(new ConfigLocation(file, line), message));

        /// <summary>Splits a line into words as ffserver did: whitespace separates, '...' or "..." quotes.</summary>
        private bool Tokenize(string line, List<string> tokens)
        {
            var i = 0;
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

            if (args.Count < info.MinArgs)
            {
                var count = info.MinArgs == 1 ? "an argument" : $"{info.MinArgs} arguments";
                Error($"{name} needs {count}; usage: {info.Usage}");
                return;
            }

            if (args.Count > info.MaxArgs)
            {
                var extra = string.Join(" ", args.Skip(info.MaxArgs).Select(a => $"'{a}'"));
                var takes = info.MaxArgs switch { 0 => "no arguments", 1 => "one argument", _ => $"at most {info.MaxArgs} arguments" };
                Error($"{name} takes {takes}; unexpected {extra} (usage: {info.Usage}; quote a value that contains spaces)");
                return;
            }

            switch (_section)
            {
                case ConfigSection.Global:
                    GlobalDirective(name, args);
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

            if (ConfigDirectives.UnsupportedMessage(name, _section) is { } instead)
            {
                Warn(instead);
            }
        }

        private static readonly string[] SectionNames = ["Feed", "Stream", "Redirect"];

        private static ConfigSection? SectionOf(string tag) =>
            SectionNames.FirstOrDefault(s => string.Equals(s, tag, StringComparison.OrdinalIgnoreCase)) is { } s
                ? Enum.Parse<ConfigSection>(s)
                : null;

        private void OpenSection(string command, List<string> args)
        {
            // "<Feed name>", "<Feed name >" or, without a name, "<Feed>".
            var words = new List<string>(args);
            var tag = command[1..];
            var closed = false;
            if (tag.EndsWith('>'))
            {
                (tag, closed) = (tag[..^1], true);
            }
            else if (words.Count > 0 && words[^1] == ">")
            {
                (words, closed) = (words[..^1], true);
            }
            else if (words.Count > 0 && words[^1].EndsWith('>'))
            {
                words[^1] = words[^1][..^1];
                closed = true;
            }

            if (SectionOf(tag) is not { } section)
            {
                var nearest = ConfigDirectives.Nearest(tag, SectionNames);
                Error(nearest is null
                    ? $"unknown section <{tag}>; the sections are <Feed>, <Stream> and <Redirect>"
                    : $"unknown section <{tag}>; did you mean <{nearest}>?");
                return;
            }

            var kind = section.ToString();
            var valid = true;
            if (!closed)
            {
                Error($"'{command} {string.Join(" ", args)}' is missing its closing '>'; write <{kind} name>");
                valid = false;
            }
            else if (words.Count != 1 || words[0].Length == 0)
            {
                Error(words.Count == 0 || words[0].Length == 0
                    ? $"<{kind}> needs a name; write <{kind} name>, the name is the URL path (http://host:port/name)"
                    : $"<{kind}> takes one name, got {words.Count} ({string.Join(" ", words.Select(w => $"'{w}'"))}); the name is one URL path segment");
                valid = false;
            }

            var name = words.Count > 0 ? words[0] : "";
            if (_section != ConfigSection.Global)
            {
                Error($"<{kind} {name}> cannot be inside {SectionText}; sections do not nest, close it with </{_section}> first");
                FinishSection();
            }

            if (!valid)
            {
                // Read the section's lines so that they and its closing tag give no more errors; keep nothing.
                (_section, _sectionName, _sectionLine, _discardSection) = (section, name, _line, true);
                BeginSection(section, name);
                return;
            }

            if (!ConfigValues.IsPathSegment(name))
            {
                Error($"{kind.ToLowerInvariant()} name '{name}' is not a URL path segment (http://host:port/{name}); use letters, digits and . - _ ~ only, no '/', '?', '#', '%' or spaces");
            }

            if (_names.TryGetValue(name, out var previous))
            {
                Error(previous.Kind == kind
                    ? $"duplicate <{kind} {name}>: already defined on line {previous.Line}; {kind.ToLowerInvariant()} names must be unique"
                    : $"<{kind} {name}> has the same name as <{previous.Kind} {name}> on line {previous.Line}; feeds, streams and redirects are URLs and need different names");
            }
            else
            {
                _names[name] = (kind, _line);
            }

            (_section, _sectionName, _sectionLine) = (section, name, _line);
            BeginSection(section, name);
        }

        private void BeginSection(ConfigSection section, string name)
        {
            switch (section)
            {
                case ConfigSection.Feed:
                    BeginFeed(name);
                    break;
                case ConfigSection.Stream:
                    BeginStream(name);
                    break;
                case ConfigSection.Redirect:
                    BeginRedirect(name);
                    break;
            }
        }

        private void CloseSection(string command, List<string> args)
        {
            var tag = command[2..].TrimEnd('>');
            if (args.Count > 0 && !(args.Count == 1 && args[0] == ">"))
            {
                Error($"{command} takes no arguments; unexpected {string.Join(" ", args.Select(a => $"'{a}'"))}");
            }

            if (SectionOf(tag) is not { } section)
            {
                Error($"unknown closing tag </{tag}>; the sections are <Feed>, <Stream> and <Redirect>");
                return;
            }

            if (_section == ConfigSection.Global)
            {
                Error($"</{section}> without an opening <{section} name>; remove it or add the opening tag");
                return;
            }

            if (section != _section)
            {
                Error($"</{section}> does not match the open {SectionText}; close it with </{_section}>");
            }

            FinishSection();
        }

        private void FinishSection()
        {
            if (_discardSection)
            {
                (_feed, _stream, _section, _discardSection) = (null, null, ConfigSection.Global, false);
                return;
            }

            switch (_section)
            {
                case ConfigSection.Feed:
                    EndFeed();
                    break;
                case ConfigSection.Stream:
                    EndStream();
                    break;
                case ConfigSection.Redirect:
                    EndRedirect();
                    break;
            }

            _section = ConfigSection.Global;
        }

        private void Validate()
        {
            ValidateGlobal();
            ValidateStreams();
        }

        private ServerConfig BuildConfig() => BuildGlobal() with
        {
            Source = file,
            Feeds = [.. _feeds],
            Streams = [.. _streams],
            Redirects = [.. _redirects],
        };
    }
}
