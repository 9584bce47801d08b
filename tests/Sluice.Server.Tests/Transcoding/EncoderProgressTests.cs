using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>ffmpeg's -progress lines, as its stderr mixes them with its messages.</summary>
public sealed class EncoderProgressTests
{
    [Fact]
    public void A_block_gives_speed_frames_and_the_time_written()
    {
        var progress = new EncoderProgress();
        string[] block =
        [
            "frame=250", "fps=25.01", "stream_0_0_q=27.0", "bitrate= 301.2kbits/s", "total_size=376520",
            "out_time_us=10040000", "out_time_ms=10040000", "out_time=00:00:10.040000", "dup_frames=0", "drop_frames=0",
            "speed=1.01x", "progress=continue",
        ];

        Assert.All(block, line => Assert.True(progress.Read(line), line));
        Assert.Equal(1.01, progress.Speed);
        Assert.Equal(250, progress.Frames);
        Assert.Equal(TimeSpan.FromMilliseconds(10040), progress.OutTime);
    }

    [Fact]
    public void Out_time_alone_is_read_as_a_clock_time()
    {
        var progress = new EncoderProgress();

        Assert.True(progress.Read("out_time=01:02:03.500000"));
        Assert.Equal(new TimeSpan(0, 1, 2, 3, 500), progress.OutTime);
        Assert.True(progress.Read("out_time=01:02:04.250000"));
        Assert.Equal(new TimeSpan(0, 1, 2, 4, 250), progress.OutTime);
    }

    [Theory]
    [InlineData("speed=N/A", true)]
    [InlineData("speed=fast", true)]
    [InlineData("speed=x", true)]
    [InlineData("frame=", true)]
    [InlineData("frame=-", true)]
    [InlineData("out_time_us=N/A", true)]
    [InlineData("out_time=-577014:32:22.775808", true)]
    [InlineData("progress=end", true)]
    [InlineData("[libvpx @ 0x55d0c0] Failed to initialize encoder: Invalid parameter", false)]
    [InlineData("Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height", false)]
    [InlineData("[matroska @ 0x1] Invalid key=value", false)]
    [InlineData("=5", false)]
    [InlineData("no equals sign at all", false)]
    [InlineData("", false)]
    public void A_line_without_a_usable_value_changes_nothing_and_a_message_is_not_progress(string line, bool progressLine)
    {
        var progress = new EncoderProgress();

        Assert.Equal(progressLine, progress.Read(line));
        Assert.Null(progress.Speed);
        Assert.Equal(0, progress.Frames);
        Assert.Null(progress.OutTime);
    }
}
