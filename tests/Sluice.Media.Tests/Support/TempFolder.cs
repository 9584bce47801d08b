namespace Sluice.Media.Tests.Support;

/// <summary>
/// A folder of the system's temporary folder for one test run's fixtures and output files
/// (<c>{prefix}-{process id}</c>): made when first asked for, removed when the test run's process ends.
/// </summary>
internal sealed class TempFolder(string prefix)
{
    private readonly Lazy<string> _path = new(() => Create(prefix), LazyThreadSafetyMode.ExecutionAndPublication);

    public string Path => _path.Value;

    /// <summary>The path of <paramref name="name"/> in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    private static string Create(string prefix)
    {
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return folder;
    }
}
