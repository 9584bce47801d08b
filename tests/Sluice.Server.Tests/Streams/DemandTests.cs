using Sluice.Server.Streams;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Streams;

/// <summary>OnDemand's one policy, on a fake clock: start with the first viewer, stop the linger after the last.</summary>
public sealed class DemandTests
{
    private readonly ObservedTime _time = new();
    private int _starts;
    private readonly List<TimeSpan> _stops = [];

    private Demand NewDemand(TimeSpan? linger) => new(linger, _time, () => _starts++, after =>
    {
        lock (_stops)
        {
            _stops.Add(after);
        }

        return Task.CompletedTask;
    });

    [Fact]
    public async Task The_first_viewer_starts_it_and_it_stops_the_linger_after_the_last_has_left_not_a_tick_before()
    {
        var demand = NewDemand(TimeSpan.FromSeconds(10));
        var a = demand.Watch();
        var b = demand.Watch();
        Assert.Equal((1, 2), (_starts, demand.Viewers));

        a.Dispose();
        a.Dispose(); // once only
        b.Dispose();
        Assert.Equal(TimeSpan.FromSeconds(10), await _time.NextTimerAsync());
        _time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.Empty(_stops);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(SpinWait.SpinUntil(() => { lock (_stops) { return _stops.Count == 1; } }, ObservedTime.Guard));
        Assert.Equal(0, demand.Viewers);
    }

    [Fact]
    public async Task A_viewer_back_within_the_linger_keeps_it_running()
    {
        var demand = NewDemand(TimeSpan.FromSeconds(10));
        demand.Watch().Dispose();
        await _time.NextTimerAsync();
        _time.Advance(TimeSpan.FromSeconds(5));
        using var back = demand.Watch();
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, _starts);
        Assert.Empty(_stops);
    }

    [Fact]
    public void Without_a_linger_it_only_counts_and_after_Close_it_starts_nothing()
    {
        var counting = NewDemand(null);
        counting.Watch().Dispose();
        Assert.False(counting.OnDemand);
        Assert.Equal(0, _starts);
        Assert.Empty(_time.Made);

        var closed = NewDemand(TimeSpan.FromSeconds(1));
        closed.Close();
        closed.Watch().Dispose();
        Assert.Equal(0, _starts);
        Assert.Empty(_time.Made);
    }
}
