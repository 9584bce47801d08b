using Microsoft.Extensions.Time.Testing;
using Sluice.Server.Logging;

namespace Sluice.Server.Tests.Logging;

public sealed class LogThrottleTests
{
    [Fact]
    public void The_first_event_of_a_kind_is_logged_and_the_rest_of_the_interval_is_one_summary_with_the_count()
    {
        var time = new FakeTimeProvider();
        var summaries = new List<(string Kind, int Count, string Detail)>();
        using var throttle = new LogThrottle(time, TimeSpan.FromSeconds(10), (k, n, d) => summaries.Add((k, n, d)));

        Assert.True(throttle.ShouldLog("rtmp", "first"));
        for (int i = 0; i < 999; i++)
        {
            Assert.False(throttle.ShouldLog("rtmp", $"bad {i}"));
        }

        Assert.True(throttle.ShouldLog("http", "another kind is logged at once"));
        Assert.Empty(summaries);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([("rtmp", 999, "bad 998")], summaries);

        // A new interval: the next one is logged at once again, and a quiet interval reports nothing.
        Assert.True(throttle.ShouldLog("rtmp", "later"));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(summaries);
    }

    [Fact]
    public void An_interval_that_ends_by_a_new_event_before_its_timer_still_reports_its_count()
    {
        var time = new FakeTimeProvider();
        var summaries = new List<(string Kind, int Count, string Detail)>();
        using var throttle = new LogThrottle(time, TimeSpan.FromSeconds(10), (k, n, d) => summaries.Add((k, n, d)));
        Assert.True(throttle.ShouldLog("feed", "first"));
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(throttle.ShouldLog("feed", "second")); // its timer would fire at 16 s
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.True(throttle.ShouldLog("feed", "third")); // 13 s: a new interval
        Assert.Equal([("feed", 1, "second")], summaries);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(summaries); // reported once, not again by the timer
    }

    [Fact]
    public void Kinds_a_client_chooses_stay_bounded_and_end_with_the_interval()
    {
        var time = new FakeTimeProvider();
        var summaries = new List<(string Kind, int Count, string Detail)>();
        using var throttle = new LogThrottle(time, TimeSpan.FromSeconds(10), (k, n, d) => summaries.Add((k, n, d)));

        int logged = 0;
        for (int i = 0; i < 10_000; i++)
        {
            logged += throttle.ShouldLog($"no feed named x{i}", $"name {i}") ? 1 : 0;
        }

        // 64 kinds on their own, the first of the rest logged, the others counted together.
        Assert.Equal(LogThrottle.MaxKinds + 1, logged);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([(LogThrottle.OtherKinds, 10_000 - LogThrottle.MaxKinds - 1, "name 9999")], summaries);

        // The interval ended every window, never repeated kinds too: a new name is a kind of its own again.
        Assert.True(throttle.ShouldLog("no feed named y", "y"));
        Assert.False(throttle.ShouldLog("no feed named y", "y again"));
    }
}
