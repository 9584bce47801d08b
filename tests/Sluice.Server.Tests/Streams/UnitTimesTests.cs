using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Streams;

public sealed class UnitTimesTests
{
    private const long Second = MediaTime.TicksPerSecond;

    [Fact]
    public void Units_before_the_first_media_time_are_at_their_arrival_and_media_times_continue_from_it()
    {
        var clock = new FakeTimeProvider();
        var times = new UnitTimes(clock, clock.GetTimestamp());
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2 * Second, times.Next(null));

        // The first media time (5 s into the format's clock) lands on the arrival, 3 s; later ones keep their spacing
        // however they arrive: a burst of three seconds of media at once stays three seconds long.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3 * Second, times.Next(5 * Second));
        Assert.Equal(4 * Second, times.Next(6 * Second));
        Assert.Equal(5 * Second, times.Next(7 * Second));
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(6 * Second, times.Next(8 * Second));

        // A unit without a time is at the one before.
        Assert.Equal(6 * Second, times.Next(null));
    }

    [Fact]
    public void The_times_never_fall_and_a_media_clock_that_jumps_back_starts_again_from_the_last_time()
    {
        var clock = new FakeTimeProvider();
        var times = new UnitTimes(clock, clock.GetTimestamp());
        Assert.Equal(0, times.Next(10 * Second));
        Assert.Equal(2 * Second, times.Next(12 * Second));

        // Fragments of two tracks alternate: the audio a little behind the video is held at the video's time.
        Assert.Equal(2 * Second, times.Next((12 * Second) - 2000));
        Assert.Equal(3 * Second, times.Next(13 * Second));

        // A wrapped clock (far behind): the next units continue from the last time.
        Assert.Equal(3 * Second, times.Next(0));
        Assert.Equal(4 * Second, times.Next(Second));
    }
}
