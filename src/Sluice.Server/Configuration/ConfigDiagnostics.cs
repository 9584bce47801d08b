using System.Globalization;

namespace Sluice.Server.Configuration;

/// <summary>The errors and warnings of one file, as the parser and the validators find them.</summary>
internal sealed class ConfigDiagnostics(string file)
{
    public List<ConfigDiagnostic> Errors { get; } = [];

    public List<ConfigDiagnostic> Warnings { get; } = [];

    public void Error(int line, string message) => Errors.Add(new ConfigDiagnostic(new ConfigLocation(file, line), message));

    public void Warn(int line, string message) => Warnings.Add(new ConfigDiagnostic(new ConfigLocation(file, line), message));

    /// <summary>
    /// The warnings, each text said once: one given on several lines (a File line in each of 255 streams) comes
    /// once, on its first line, with the count and every line ("... (255 times, on lines 4, 12, 20, ...)").
    /// </summary>
    public IEnumerable<ConfigDiagnostic> MergedWarnings() =>
        Warnings.GroupBy(w => w.Message, StringComparer.Ordinal).Select(same =>
        {
            var lines = same.Select(w => w.Location.Line).Distinct().Order().ToList();
            return lines.Count == 1
                ? same.First()
                : new ConfigDiagnostic(
                    new ConfigLocation(file, lines[0]),
                    $"{same.Key} ({lines.Count.ToString(CultureInfo.InvariantCulture)} times, on lines {string.Join(", ", lines.Select(l => l.ToString(CultureInfo.InvariantCulture)))})");
        });
}

/// <summary>One use of a table directive: its line, its argument as written, and the value read from it.</summary>
internal readonly record struct WrittenDirective(int Line, string Text, object Value);

/// <summary>
/// Where the table directives of one section (or of the lines outside any section) were written, every use in
/// order: what a validator needs to put a message about the section as a whole on the right line.
/// </summary>
internal sealed class SectionDirectives
{
    private readonly Dictionary<string, List<WrittenDirective>> _uses = new(StringComparer.Ordinal);

    public void Add(string directive, WrittenDirective use)
    {
        if (!_uses.TryGetValue(directive, out var list))
        {
            _uses[directive] = list = [];
        }

        list.Add(use);
    }

    /// <summary>Every use of the directive (by its name in the table), in order.</summary>
    public IReadOnlyList<WrittenDirective> All(string directive) => _uses.TryGetValue(directive, out var list) ? list : [];

    /// <summary>The line of the directive's last use (the one in force), or 0 when it was not written.</summary>
    public int LastLine(string directive) => All(directive) is [.., var last] ? last.Line : 0;
}
