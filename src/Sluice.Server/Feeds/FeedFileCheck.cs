using Sluice.Server.Configuration;

namespace Sluice.Server.Feeds;

/// <summary>
/// The feed files' paths, checked on disk before anything is served (at start-up and by <c>--check</c>): a File the
/// server cannot write and a ReadOnlyFile it cannot read are errors at the line that names them. Apart from the
/// parser, which reads text only.
/// </summary>
internal static class FeedFileCheck
{
    /// <summary>
    /// The HResult of an IOException for a file another handle holds exclusively: on Linux the errno of the refused
    /// lock (EWOULDBLOCK, 11), on Windows ERROR_SHARING_VIOLATION.
    /// </summary>
    private static bool IsHeldElsewhere(IOException ex) => ex.HResult is 11 or unchecked((int)0x80070020);

    public static IReadOnlyList<ConfigDiagnostic> Errors(ServerConfig config)
    {
        var errors = new List<ConfigDiagnostic>();
        foreach (var feed in config.Feeds)
        {
            if (feed.File is { } path && (feed.ReadOnly ? Readable(path) : Writable(path)) is { } problem)
            {
                errors.Add(new ConfigDiagnostic(feed.FileLocation, problem));
            }
        }

        return errors;
    }

    private static string? Readable(string path)
    {
        if (!File.Exists(path))
        {
            return $"ReadOnlyFile {path} does not exist; a ReadOnlyFile is a feed file an earlier run wrote (with File); write File to begin one";
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return FeedFileFormat.ReadHeader(stream.SafeFileHandle, out _, out string? why) is null
                ? $"ReadOnlyFile {path} cannot be served: {why}"
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"ReadOnlyFile {path} cannot be read: {ex.Message}";
        }
    }

    private static string? Writable(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                try
                {
                    using var existing = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                }
                catch (IOException ex) when (IsHeldElsewhere(ex))
                {
                    // Held by its writer (a server running this config, which --check may be asked about): writable by
                    // it. A second server's start-up is refused when it opens the file itself, with that reason.
                }

                return null;
            }

            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null && !Directory.Exists(directory))
            {
                return $"File {path} cannot be written: its directory {directory} does not exist";
            }

            // Made and gone at once: the file itself is begun when the feed's first publisher comes.
            try
            {
                using var probe = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Made meanwhile by another (its writer starting, or another check's probe): the directory takes files.
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"File {path} cannot be written: {ex.Message}; give the server write access there or choose another path";
        }
    }
}
