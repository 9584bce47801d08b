using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>An encoder that fails the same way at every restart is said once, then counted.</summary>
public sealed class EncoderFailuresTests
{
    private const string Reason = "Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height";

    [Fact]
    public void The_same_failure_is_new_once_then_repeating_then_counted_at_doublings()
    {
        var failures = new EncoderFailures();
        var verdicts = new List<FailureVerdict>();
        for (int run = 0; run < 9; run++)
        {
            failures.RunStarts();
            verdicts.Add(failures.Ended(1, Reason, delivered: false));
        }

        Assert.Equal(
            [FailureVerdict.New, FailureVerdict.Repeating, FailureVerdict.Quiet, FailureVerdict.Count, FailureVerdict.Quiet,
             FailureVerdict.Quiet, FailureVerdict.Quiet, FailureVerdict.Count, FailureVerdict.Quiet],
            verdicts);
        Assert.Equal(9, failures.Count);
        Assert.Equal(Reason, failures.Reason);
    }

    [Fact]
    public void A_run_that_delivers_ends_the_failure()
    {
        var failures = new EncoderFailures();
        failures.Ended(1, Reason, false);
        failures.Ended(1, Reason, false);

        Assert.Equal(FailureVerdict.None, failures.Ended(1, Reason, delivered: true));
        Assert.Null(failures.Reason);
        Assert.Equal(0, failures.Count);
        Assert.Equal(FailureVerdict.New, failures.Ended(1, Reason, false));
    }

    [Fact]
    public void Another_reason_or_exit_code_is_a_new_failure()
    {
        var failures = new EncoderFailures();
        Assert.Equal(FailureVerdict.New, failures.Ended(1, Reason, false));
        Assert.Equal(FailureVerdict.New, failures.Ended(1, "Conversion failed!", false));
        Assert.Equal(FailureVerdict.New, failures.Ended(234, "Conversion failed!", false));
        Assert.Equal(FailureVerdict.Repeating, failures.Ended(234, "Conversion failed!", false));
        Assert.Equal(FailureVerdict.None, failures.Ended(0, null, false));
    }

    [Fact]
    public void Without_a_message_the_reason_says_how_ffmpeg_ended()
    {
        var failures = new EncoderFailures();
        failures.Ended(null, null, false);
        failures.Ended(null, null, false);
        Assert.Equal("ffmpeg did not start", failures.Reason);

        var exited = new EncoderFailures();
        exited.Ended(139, null, false);
        exited.Ended(139, null, false);
        Assert.Equal("ffmpeg exited with code 139", exited.Reason);
    }

    [Fact]
    public void The_lines_of_a_failed_run_are_not_logged_again_by_the_next()
    {
        var failures = new EncoderFailures();
        failures.RunStarts();
        Assert.False(failures.IsRepeat("[mjpeg @ 0x1] Either both buffer size and max rate or neither must be specified"));
        Assert.False(failures.IsRepeat(Reason));
        failures.Ended(1, Reason, false);

        failures.RunStarts();
        Assert.True(failures.IsRepeat("[mjpeg @ 0x1] Either both buffer size and max rate or neither must be specified"));
        Assert.True(failures.IsRepeat(Reason));
        Assert.False(failures.IsRepeat("a line the first run did not print"));
        failures.Ended(0, null, true);

        failures.RunStarts();
        Assert.False(failures.IsRepeat(Reason));   // it worked in between: logged again
    }
}
