using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Streams;

public sealed class ViewerSignalTests
{
    [Fact]
    public async Task An_armed_signal_completes_when_set()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        var wait = signal.Arm();
        Assert.False(wait.IsCompleted);
        signal.Set();
        Assert.True(wait.IsCompleted);
        await wait;
        Assert.False(signal.IsAborted);
    }

    [Fact]
    public void A_set_before_the_arm_is_not_remembered()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        signal.Set(); // nobody waits: a no-op
        var wait = signal.Arm();
        Assert.False(wait.IsCompleted);
    }

    [Fact]
    public async Task A_second_set_of_one_wait_is_a_no_op()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        var wait = signal.Arm();
        signal.Set();
        signal.Set(); // would throw if it completed the same source twice
        await wait;

        var next = signal.Arm();
        Assert.False(next.IsCompleted); // the second Set did not carry over to the next wait
    }

    [Fact]
    public async Task One_signal_serves_wait_after_wait()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        for (int i = 0; i < 100; i++)
        {
            var wait = signal.Arm();
            Assert.False(wait.IsCompleted);
            signal.Set();
            await wait;
        }
    }

    [Fact]
    public async Task A_set_from_another_thread_wakes_the_waiter()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        var wait = signal.Arm();
        await Task.Run(signal.Set);
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_request_s_abort_wakes_an_armed_wait()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);

        var wait = signal.Arm();
        aborted.Cancel();
        Assert.True(signal.IsAborted);
        Assert.True(wait.IsCompleted);
        await wait;
    }

    [Fact]
    public async Task A_signal_aborted_before_it_is_armed_does_not_wait()
    {
        using var aborted = new CancellationTokenSource();
        using var signal = new ViewerSignal(aborted.Token);
        aborted.Cancel();

        var wait = signal.Arm();
        Assert.True(wait.IsCompleted);
        await wait;

        Assert.True(signal.Arm().IsCompleted); // and never again
    }

    [Fact]
    public void A_signal_for_a_request_that_cannot_be_aborted_waits_for_its_set()
    {
        using var signal = new ViewerSignal(CancellationToken.None);
        var wait = signal.Arm();
        Assert.False(wait.IsCompleted);
        signal.Set();
        Assert.True(wait.IsCompleted);
    }

    [Fact]
    public void A_disposed_signal_no_longer_hears_the_abort()
    {
        using var aborted = new CancellationTokenSource();
        var signal = new ViewerSignal(aborted.Token);
        var wait = signal.Arm();
        signal.Dispose();

        aborted.Cancel();
        Assert.False(wait.IsCompleted);
    }
}
