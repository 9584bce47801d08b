namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>Opening and closing &lt;Feed&gt;, &lt;Stream&gt; and &lt;Redirect&gt;.</summary>
    private sealed partial class Session
    {
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
            if (words.FindIndex(w => w.Contains(">#", StringComparison.Ordinal)) is var gluedWord and >= 0)
            {
                // "<Stream a.webm>#front door": ffserver cut the name at its '>', so what is glued after it is a comment.
                var word = words[gluedWord];
                var end = word.IndexOf(">#", StringComparison.Ordinal) + 1;
                _comment = string.Join(" ", [word[end..], .. words.Skip(gluedWord + 1)]);
                words = [.. words.Take(gluedWord), word[..end]];
            }

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
            if (closed && words.Count > 0 && words[^1].Length > 1 && words[^1].EndsWith('>'))
            {
                // "<Redirect index.html>>": ffserver cut the name at its last '>' only.
                var read = words[^1];
                words[^1] = read.TrimEnd('>');
                Warn($"'<{kind} {read}>' has more than one closing '>'; ffserver 3.4 named it '{read}', a URL no client asks for, Sluice names it '{words[^1]}'");
            }

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

            if (section == ConfigSection.Stream ? !ConfigValues.IsPath(name) : !ConfigValues.IsPathSegment(name))
            {
                if (section == ConfigSection.Stream)
                {
                    Error($"stream name '{name}' is not a URL path (http://host:port/{name}); use letters, digits and . - _ ~ only, with '/' between the parts (live/cam.webm), no '?', '#', '%' or spaces");
                }
                else
                {
                Error($"{kind.ToLowerInvariant()} name '{name}' is not a URL path segment (http://host:port/{name}); use letters, digits and . - _ ~ only, no '/', '?', '#', '%' or spaces");
                }
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
            _sectionWritten = new SectionDirectives();
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
                _sectionWritten = null;
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
            _sectionWritten = null;
        }
    }
}
