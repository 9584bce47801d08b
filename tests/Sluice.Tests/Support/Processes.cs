namespace Sluice.Tests.Support;

/// <summary>The Linux process table (/proc), to check which child processes run.</summary>
public static class Processes
{
    public sealed record Entry(int Pid, int ParentPid, string CommandLine);

    public static IEnumerable<Entry> All()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            Entry? entry = null;
            try
            {
                // stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (fields[0] != "Z")
                {
                    entry = new Entry(pid, int.Parse(fields[1]), commandLine);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
            }

            if (entry is not null)
            {
                yield return entry;
            }
        }
    }

    public static IEnumerable<Entry> Children(int parent) => All().Where(p => p.ParentPid == parent);

    public static bool IsRunning(int pid) => All().Any(p => p.Pid == pid);
}
