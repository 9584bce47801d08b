using Sluice.Media.Formats;

namespace Sluice.Media.Tests.Formats;

public sealed class DtsInterleaverTests
{
    private static MediaPacket At(int track, long dts) => new(track, dts, dts, true, new byte[] { 1 });

    private static List<(int, long)> Drain(DtsInterleaver interleaver, bool flush = false)
    {
        var taken = new List<(int, long)>();
        while (flush ? interleaver.TryFlush(out var p) : interleaver.TryTake(out p))
        {
            taken.Add((p.Track, p.Dts));
        }

        return taken;
    }

    [Fact]
    public void Audio_that_arrives_ahead_of_the_video_comes_out_in_time_order()
    {
        var interleaver = new DtsInterleaver(2, 90_000);
        interleaver.Add(At(1, 0));
        interleaver.Add(At(1, 1920));
        interleaver.Add(At(1, 3840));
        Assert.Empty(Drain(interleaver)); // the video may still bring something earlier
        interleaver.Add(At(0, 0));
        Assert.Equal([(0, 0), (1, 0)], Drain(interleaver)); // a tie goes to the lower track; 1920 may still come after video
        interleaver.Add(At(0, 3000));
        Assert.Equal([(1, 1920), (0, 3000)], Drain(interleaver));
        Assert.Equal([(1, 3840)], Drain(interleaver, flush: true));
        Assert.Equal(0, interleaver.Count);
    }

    [Fact]
    public void A_track_that_stops_holds_the_others_up_for_the_delay_at_most()
    {
        var interleaver = new DtsInterleaver(2, 90_000);
        interleaver.Add(At(1, 0));
        interleaver.Add(At(0, 0));
        Assert.Equal([(0, 0), (1, 0)], Drain(interleaver));
        for (long t = 3000; t <= 90_000; t += 3000)
        {
            interleaver.Add(At(0, t)); // video goes on, the audio has stopped
        }

        Assert.Empty(Drain(interleaver)); // the audio may yet bring something earlier
        interleaver.Add(At(0, 96_000));
        Assert.Equal([(0, 3000)], Drain(interleaver)); // what is more than a second older than the newest goes
        interleaver.Add(At(0, 99_000));
        Assert.Equal([(0, 6000)], Drain(interleaver));
    }
}
