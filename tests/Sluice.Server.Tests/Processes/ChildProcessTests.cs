using Microsoft.Extensions.Time.Testing;
using Sluice.Server.Processes;

namespace Sluice.Server.Tests.Processes;

public sealed class ChildProcessTests
{
    [Fact]
    public async Task A_child_that_exits_by_itself_gives_its_exit_code()
    {
        using var process = await ChildProcess.StartAsync(ChildProcess.Piped("sh", ["-c", "exit 3"]));
        int? code = await ChildProcess.WaitOrStopAsync(process, CancellationToken.None, () => { }, TimeSpan.FromSeconds(2), new FakeTimeProvider())
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, code);
    }

    [Fact]
    public async Task On_stop_its_input_is_ended_and_a_child_still_running_after_the_grace_on_the_servers_clock_is_killed_and_reaped()
    {
        var time = new FakeTimeProvider();
        using var process = await ChildProcess.StartAsync(ChildProcess.Piped("sleep", ["30"]));
        using var stop = new CancellationTokenSource();
        var inputEnded = new TaskCompletionSource();
        var wait = ChildProcess.WaitOrStopAsync(process, stop.Token, () => inputEnded.TrySetResult(), TimeSpan.FromSeconds(2), time);

        stop.Cancel();
        await inputEnded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(wait.IsCompleted); // within the grace: not killed
        Assert.False(process.HasExited);

        time.Advance(TimeSpan.FromSeconds(1));
        int? code = await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(process.HasExited);
        Assert.Equal(137, code); // killed by SIGKILL: 128 + 9
    }
}
