using System.Runtime.InteropServices;

namespace Sluice.Server.Hosting;

/// <summary>
/// The process's open-file limit (RLIMIT_NOFILE), which bounds the connections it can hold: raised to the hard limit
/// at start-up, as nginx's <c>worker_rlimit_nofile</c> does, and read to know how many connections fit.
/// </summary>
/// <remarks>
/// At the limit a .NET server does not refuse: accept fails, and the runtime, which needs descriptors of its own,
/// aborts the process ("Out of memory.", SIGABRT) with every viewer on it (measured with Kestrel alone). So the server
/// keeps <see cref="Reserve"/> descriptors free beyond what its connections may take.
/// </remarks>
internal static class OpenFileLimit
{
    private const int RlimitNofile = 7; // Linux

    /// <summary>Descriptors never given to connections: the runtime's own, log files, a child's pipes while it starts.</summary>
    public const int Reserve = 128;

    /// <summary>The limit in force after raising the soft limit to the hard one; null where it cannot be read (not Linux).</summary>
    public static (long Soft, long Hard)? Raise()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            if (GetRlimit(RlimitNofile, out var limit) != 0)
            {
                return null;
            }

            if (limit.Current < limit.Max && SetRlimit(RlimitNofile, new Rlimit { Current = limit.Max, Max = limit.Max }) == 0)
            {
                limit.Current = limit.Max;
            }

            return (Clamp(limit.Current), Clamp(limit.Max));
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Descriptors the process has open now (its listeners, log files, the runtime's own).</summary>
    public static int InUse()
    {
        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    // RLIM_INFINITY is all ones.
    private static long Clamp(ulong value) => value > int.MaxValue ? int.MaxValue : (long)value;

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Max;
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code; two calls at start-up do not
    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRlimit(int resource, out Rlimit limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRlimit(int resource, in Rlimit limit);
#pragma warning restore SYSLIB1054
}
