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
public static class ConfigParser
{
    public static ConfigParseResult ParseFile(string path) => Parse(File.ReadAllText(path), path);

    public static ConfigParseResult Parse(string text, string file)
    {
        throw new NotImplementedException();
    }
}
