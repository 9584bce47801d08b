namespace Sluice.Tests.Support;

/// <summary>Config texts for end-to-end tests.</summary>
public static class Configs
{
    /// <summary>The seed config with no limits in the way (tests of fan-out, not of limits).</summary>
    public static string Open(string extraFeed = "", string extraStream = "", string extraGlobal = "") => $"""
        MaxClients 100
        MaxBandwidth 100000
        {extraGlobal}
        <Feed livestream.ffm>
        FileMaxSize 200K
        ACL allow 127.0.0.1
        {extraFeed}
        </Feed>
        <Stream livestream>
        Format webm
        Feed livestream.ffm
        {extraStream}
        </Stream>
        <Stream stat.html>
        Format status
        </Stream>
        """;

    /// <summary>Reads the project's examples/ffserver.conf (the seed config, unchanged).</summary>
    public static string SeedPath => Path.Combine(RepoRoot, "examples", "ffserver.conf");

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sluice.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Sluice.slnx not found above " + AppContext.BaseDirectory);
        }
    }
}
