namespace Sluice.Server.Transcoding;

/// <summary>What the log and the streams are told of one encoder run's end.</summary>
internal enum FailureVerdict
{
    /// <summary>It ran and delivered, or stopped cleanly: nothing is failing (any failing state ends).</summary>
    None,

    /// <summary>A failure unlike the one before: logged in full, with ffmpeg's reason.</summary>
    New,

    /// <summary>The same failure again, the second time in a row: logged once as failing every time, and the streams told.</summary>
    Repeating,

    /// <summary>The same failure once more, at a count worth a line (4, 8, 16, ... times).</summary>
    Count,

    /// <summary>The same failure once more: counted only.</summary>
    Quiet,
}

/// <summary>
/// Tells an encoder that fails the same way run after run (ffmpeg exits with the same code and the same last
/// message before it delivered a packet) from one that failed once: the first failure is logged with ffmpeg's
/// reason, the second says that it fails every time, and after that only a count at doublings, instead of the
/// same lines at every restart. The messages ffmpeg printed in the failed run are kept, so the next run's same
/// lines are not logged again. Pure bookkeeping: thread-safe, no clock.
/// </summary>
internal sealed class EncoderFailures
{
    private readonly Lock _lock = new();
    private string? _signature;
    private HashSet<string> _failedRunLines = new(StringComparer.Ordinal);
    private HashSet<string> _runLines = new(StringComparer.Ordinal);

    /// <summary>Runs in a row that failed the same way (0 when the last run did not fail).</summary>
    public int Count { get; private set; }

    /// <summary>ffmpeg's reason for the failure that repeats, once it has repeated; else null.</summary>
    public string? Reason { get; private set; }

    /// <summary>A new run begins: the lines it prints are gathered afresh.</summary>
    public void RunStarts()
    {
        lock (_lock)
        {
            _runLines = new HashSet<string>(StringComparer.Ordinal);
        }
    }

    /// <summary>One of ffmpeg's messages in this run: true when the failed run before it printed the same (not to be logged again).</summary>
    public bool IsRepeat(string line)
    {
        lock (_lock)
        {
            _runLines.Add(line);
            return Count > 0 && _failedRunLines.Contains(line);
        }
    }

    /// <summary>The run has ended: with this exit code (null: it did not start) and last message; whether it delivered any packet.</summary>
    public FailureVerdict Ended(int? exitCode, string? lastMessage, bool delivered)
    {
        lock (_lock)
        {
            if (delivered || exitCode == 0)
            {
                _signature = null;
                Count = 0;
                Reason = null;
                _failedRunLines.Clear();
                return FailureVerdict.None;
            }

            string signature = $"{exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}\n{lastMessage}";
            _failedRunLines = _runLines;
            if (signature != _signature)
            {
                _signature = signature;
                Count = 1;
                Reason = null;
                return FailureVerdict.New;
            }

            Count++;
            if (Count == 2)
            {
                Reason = lastMessage ?? (exitCode is { } code ? $"ffmpeg exited with code {code}" : "ffmpeg did not start");
                return FailureVerdict.Repeating;
            }

            return (Count & (Count - 1)) == 0 ? FailureVerdict.Count : FailureVerdict.Quiet;
        }
    }
}
