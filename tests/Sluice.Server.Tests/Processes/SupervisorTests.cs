using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Sluice.Server.Processes;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Processes;

/// <summary>
/// The supervisor's loop against a fake clock and runs the test ends by hand: nothing here sleeps or waits for real
/// time to pass (the guard on each wait only turns a hang into a failure).
/// </summary>
public sealed class SupervisorTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_wait_doubles_from_min_to_max_and_stays_at_max()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), TimeSpan.FromMinutes(1)));
        h.Supervisor.Start();

        foreach (int seconds in new[] { 1, 2, 4, 8, 8, 8 })
        {
            var run = await h.NextRunAsync();
            run.Exit(1);
            var exit = await h.NextExitAsync();
            Assert.Equal(1, exit.ExitCode);
            Assert.Null(exit.Error);
            Assert.Equal(TimeSpan.FromSeconds(seconds), exit.Wait);
            Assert.Equal(TimeSpan.FromSeconds(seconds), await h.NextTimerAsync());

            // The next run comes when the wait is over, not a tick before.
            h.Time.Advance(exit.Wait - TimeSpan.FromTicks(1));
            Assert.False(h.RunPending);
            h.Time.Advance(TimeSpan.FromTicks(1));
        }

        var last = await h.NextRunAsync();
        var stopping = h.Supervisor.StopAsync();
        last.Exit(0);
        await stopping.WaitAsync(Guard);
        Assert.Equal(7, h.Runs);
    }

    [Fact]
    public async Task A_run_as_long_as_the_stable_length_resets_the_wait()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)));
        h.Supervisor.Start();

        (await h.NextRunAsync()).Exit(1);
        Assert.Equal(TimeSpan.FromSeconds(1), (await h.NextExitAsync()).Wait);
        h.Time.Advance(await h.NextTimerAsync());

        var second = await h.NextRunAsync();
        h.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        second.Exit(1);
        var early = await h.NextExitAsync();
        Assert.Equal(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1), early.Ran);
        Assert.Equal(TimeSpan.FromSeconds(2), early.Wait);
        h.Time.Advance(await h.NextTimerAsync());

        var stable = await h.NextRunAsync();
        h.Time.Advance(TimeSpan.FromSeconds(10));
        stable.Exit(0);
        var exit = await h.NextExitAsync();
        Assert.Equal(TimeSpan.FromSeconds(10), exit.Ran);
        Assert.Equal(TimeSpan.FromSeconds(1), exit.Wait);
        h.Time.Advance(await h.NextTimerAsync());

        // And it doubles again from there.
        (await h.NextRunAsync()).Exit(0);
        Assert.Equal(TimeSpan.FromSeconds(2), (await h.NextExitAsync()).Wait);
        await h.Supervisor.StopAsync().WaitAsync(Guard);
    }

    [Fact]
    public async Task A_stop_during_the_wait_ends_at_once_without_another_run()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        h.Supervisor.Start();
        (await h.NextRunAsync()).Exit(1);
        await h.NextExitAsync();
        await h.NextTimerAsync();
        Assert.Equal(SupervisorState.Backoff, h.Supervisor.State);

        await h.Supervisor.StopAsync().WaitAsync(Guard);   // the clock has not moved
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
        Assert.True(h.Supervisor.Stopped.IsCompleted);

        h.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(h.RunPending);
        Assert.Equal(1, h.Runs);
    }

    [Fact]
    public async Task A_stop_during_a_run_cancels_it_and_waits_for_it_to_end_without_reporting_an_exit()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        h.Supervisor.Start();
        var run = await h.NextRunAsync();
        Assert.False(run.Token.IsCancellationRequested);

        var stopping = h.Supervisor.StopAsync();
        Assert.True(run.Token.IsCancellationRequested);
        Assert.False(stopping.IsCompleted);                 // the run is still finishing (an encoder drains its pipes)
        Assert.Equal(SupervisorState.Running, h.Supervisor.State);

        run.Exit(255);                                      // what ffmpeg answers to the end of its input
        await stopping.WaitAsync(Guard);
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
        Assert.False(h.ExitPending);
        Assert.Empty(h.TimersMade);
        Assert.Equal(1, h.Runs);
        await h.Supervisor.StopAsync().WaitAsync(Guard);    // stopping again is harmless
    }

    [Fact]
    public async Task A_run_that_ends_in_cancellation_because_of_the_stop_is_a_stop()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        h.Supervisor.Start();
        var run = await h.NextRunAsync();
        using var registration = run.Token.Register(() => run.Result.TrySetCanceled(run.Token));

        await h.Supervisor.StopAsync().WaitAsync(Guard);
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
        Assert.False(h.ExitPending);
    }

    [Fact]
    public async Task A_run_that_throws_is_reported_as_an_exit_and_run_again()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        h.Supervisor.Start();

        var failure = new InvalidOperationException("the run's bug");
        (await h.NextRunAsync()).Result.SetException(failure);
        var exit = await h.NextExitAsync();
        Assert.Same(failure, exit.Error);
        Assert.Null(exit.ExitCode);
        Assert.Equal(TimeSpan.FromSeconds(1), exit.Wait);
        Assert.Equal(SupervisorState.Backoff, h.StateAtExit);

        // A cancellation the supervisor did not ask for is a failure of the run too, not a stop.
        h.Time.Advance(await h.NextTimerAsync());
        (await h.NextRunAsync()).Result.SetCanceled();
        Assert.IsType<TaskCanceledException>((await h.NextExitAsync()).Error);

        h.Time.Advance(await h.NextTimerAsync());
        (await h.NextRunAsync()).Exit(null);                // did not start
        Assert.Null((await h.NextExitAsync()).Error);
        await h.Supervisor.StopAsync().WaitAsync(Guard);
        Assert.Equal(3, h.Runs);
    }

    [Fact]
    public async Task A_run_that_throws_before_returning_a_task_is_an_exit_too()
    {
        var time = new ObservedTime();
        var exits = Channel.CreateUnbounded<SupervisedExit>();
        int calls = 0;
        var again = new TaskCompletionSource();
        var supervisor = new Supervisor(
            stop =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    throw new InvalidOperationException("thrown, not faulted");
                }

                again.TrySetResult();
                var ended = new TaskCompletionSource<int?>();
                stop.Register(() => ended.TrySetResult(0));
                return ended.Task;
            },
            new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)),
            time,
            e => exits.Writer.TryWrite(e));
        supervisor.Start();

        var exit = await exits.Reader.ReadAsync().AsTask().WaitAsync(Guard);
        Assert.Equal("thrown, not faulted", exit.Error?.Message);
        time.Advance(await time.NextTimerAsync());
        await again.Task.WaitAsync(Guard);
        Assert.Equal(SupervisorState.Running, supervisor.State);
        await supervisor.StopAsync().WaitAsync(Guard);
    }

    [Fact]
    public async Task Its_state_follows_its_loop()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        Assert.Equal(SupervisorState.Idle, h.Supervisor.State);

        h.Supervisor.Start();
        Assert.Contains(h.Supervisor.State, new[] { SupervisorState.Starting, SupervisorState.Running });
        var run = await h.NextRunAsync();
        Assert.Equal(SupervisorState.Running, run.StateAtCall);
        Assert.Equal(SupervisorState.Running, h.Supervisor.State);

        run.Exit(1);
        await h.NextExitAsync();
        Assert.Equal(SupervisorState.Backoff, h.StateAtExit);
        await h.NextTimerAsync();
        Assert.Equal(SupervisorState.Backoff, h.Supervisor.State);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        run = await h.NextRunAsync();
        Assert.Equal(SupervisorState.Running, run.StateAtCall);

        var stopping = h.Supervisor.StopAsync();
        run.Exit(0);
        await stopping.WaitAsync(Guard);
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
    }

    [Fact]
    public async Task RunAsync_runs_until_its_token_is_cancelled()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        using var host = new CancellationTokenSource();
        var running = h.Supervisor.RunAsync(host.Token);
        var run = await h.NextRunAsync();
        run.Exit(2);
        await h.NextExitAsync();
        await h.NextTimerAsync();
        Assert.False(running.IsCompleted);

        await host.CancelAsync();
        await running.WaitAsync(Guard);
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
        Assert.Equal(1, h.Runs);
    }

    [Fact]
    public async Task A_supervisor_stopped_before_it_starts_never_runs_and_starts_once_only()
    {
        var h = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        await h.Supervisor.StopAsync().WaitAsync(Guard);
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
        h.Supervisor.Start();
        Assert.Equal(SupervisorState.Stopped, h.Supervisor.State);
        Assert.Equal(0, h.Runs);

        var other = new Harness(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)));
        other.Supervisor.Start();
        Assert.Throws<InvalidOperationException>(() => other.Supervisor.Start());
        var run = await other.NextRunAsync();
        var stopping = other.Supervisor.StopAsync();
        run.Exit(0);
        await stopping.WaitAsync(Guard);
        Assert.Throws<InvalidOperationException>(() => { _ = other.Supervisor.RunAsync(CancellationToken.None); });
    }

    /// <summary>One call of the run: the test ends it through <see cref="Result"/>.</summary>
    private sealed class FakeRun(CancellationToken token, SupervisorState stateAtCall)
    {
        public CancellationToken Token { get; } = token;

        public SupervisorState StateAtCall { get; } = stateAtCall;

        public TaskCompletionSource<int?> Result { get; } = new();

        public void Exit(int? code) => Result.SetResult(code);
    }

    private sealed class Harness
    {
        private readonly Channel<FakeRun> _runs = Channel.CreateUnbounded<FakeRun>();
        private readonly Channel<SupervisedExit> _exits = Channel.CreateUnbounded<SupervisedExit>();
        private int _runCount;

        public Harness(Backoff backoff)
        {
            Supervisor = new Supervisor(RunAsync, backoff, Time, OnExited);
        }

        public ObservedTime Time { get; } = new();

        public Supervisor Supervisor { get; }

        public int Runs => Volatile.Read(ref _runCount);

        public SupervisorState StateAtExit { get; private set; }

        public bool RunPending => _runs.Reader.TryPeek(out _);

        public bool ExitPending => _exits.Reader.TryPeek(out _);

        public IReadOnlyList<TimeSpan> TimersMade
        {
            get { lock (Time.Made) { return [.. Time.Made]; } }
        }

        public Task<FakeRun> NextRunAsync() => _runs.Reader.ReadAsync().AsTask().WaitAsync(Guard);

        public Task<SupervisedExit> NextExitAsync() => _exits.Reader.ReadAsync().AsTask().WaitAsync(Guard);

        public Task<TimeSpan> NextTimerAsync() => Time.NextTimerAsync();

        private Task<int?> RunAsync(CancellationToken stop)
        {
            Interlocked.Increment(ref _runCount);
            var run = new FakeRun(stop, Supervisor.State);
            _runs.Writer.TryWrite(run);
            return run.Result.Task;
        }

        private void OnExited(SupervisedExit exit)
        {
            StateAtExit = Supervisor.State;
            _exits.Writer.TryWrite(exit);
        }
    }
}
