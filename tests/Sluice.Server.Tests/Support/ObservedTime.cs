using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Sluice.Server.Tests.Support;

/// <summary>A fake clock that tells when a timer is made (a supervisor's wait, a source's pacing) and for how long.</summary>
internal sealed class ObservedTime : FakeTimeProvider
{
    /// <summary>How long a test waits for a timer before it fails instead of hanging.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public List<TimeSpan> Made { get; } = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (Made)
        {
            Made.Add(dueTime);
        }

        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    public Task<TimeSpan> NextTimerAsync() => _timers.Reader.ReadAsync().AsTask().WaitAsync(Guard);
}
