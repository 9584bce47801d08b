using System.Threading.Tasks.Sources;

namespace Sluice.Server.Streams;

/// <summary>
/// A viewer's reusable wake-up call: the viewer awaits it when it has caught up, and the ring sets it when
/// a chunk arrives (or the viewer's request is aborted). One instance per viewer, reused for every wait, so
/// waiting allocates nothing.
/// </summary>
internal sealed class ViewerSignal : IValueTaskSource, IDisposable
{
    private const int Idle = 0;
    private const int Waiting = 1;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly CancellationToken _aborted;
    private readonly CancellationTokenRegistration _abort;
    private int _state;

    public ViewerSignal(CancellationToken aborted)
    {
        _aborted = aborted;
        _abort = aborted.UnsafeRegister(static s => ((ViewerSignal)s!).Set(), this);
    }

    /// <summary>The viewer's request was aborted.</summary>
    public bool IsAborted => _aborted.IsCancellationRequested;

    /// <summary>Arms the signal for one wait; called under the ring's lock.</summary>
    internal ValueTask Arm()
    {
        _core.Reset();
        Volatile.Write(ref _state, Waiting);
        var wait = new ValueTask(this, _core.Version);
        if (_aborted.IsCancellationRequested)
        {
            Set(); // aborted before it was armed: the abort's own Set found nothing to wake
        }

        return wait;
    }

    /// <summary>Wakes the viewer if it waits; a no-op otherwise.</summary>
    public void Set()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
        {
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void Dispose() => _abort.Dispose();
}
