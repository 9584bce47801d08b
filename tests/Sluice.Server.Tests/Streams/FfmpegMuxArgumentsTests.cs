using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Streams;

public sealed class FfmpegMuxArgumentsTests
{
    private static readonly TrackInfo H264 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 320, Height = 240 };
    private static readonly TrackInfo Aac = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.AAC, SampleRate = 48000, Channels = 2 };

    private static string Line(OutputFormat format, StreamConfig stream) =>
        string.Join(' ', FfmpegMuxArguments.For(stream, format.MuxedByFfmpeg!, [H264, Aac]));

    [Fact]
    public void A_feed_that_already_has_the_format_s_codecs_is_copied_into_it()
    {
        var line = Line(OutputFormat.Ismv, new StreamConfig { Name = "s", Format = "ismv" });
        Assert.EndsWith("-f matroska -i pipe:0 -map 0:v:0 -c:v:0 copy -map 0:a:0 -c:a:0 copy -f ismv -flush_packets 1 pipe:1", line);
    }

    [Fact]
    public void Without_codec_directives_the_format_gets_the_codecs_ffserver_took_by_default()
    {
        var stream = new StreamConfig { Name = "s", Format = "mpeg", Video = new CodecSettings { BitRate = 800 }, Audio = new CodecSettings { BitRate = 128 } };
        var line = Line(OutputFormat.MpegPs, stream);
        Assert.Contains("-map 0:v:0 -c:v:0 mpeg1video -b:v:0 800k", line);
        Assert.Contains("-map 0:a:0 -c:a:0 mp2 -b:a:0 128k", line);
        Assert.EndsWith("-f mpeg -flush_packets 1 pipe:1", line);
    }

    [Fact]
    public void A_named_codec_and_its_options_are_passed_as_the_encoders_take_them()
    {
        var stream = new StreamConfig
        {
            Name = "s",
            Format = "asf",
            Video = new CodecSettings { Codec = "msmpeg4v2", Width = 176, Height = 144, Options = [new AvOption("mbd", "2", new ConfigLocation("t.conf", 9))] },
        };
        var line = Line(OutputFormat.Asf, stream);
        Assert.Contains("-c:v:0 msmpeg4v2", line);
        Assert.Contains("-filter:v:0 scale=176:144", line);
        Assert.Contains("-mbd:v:0 2", line);
        Assert.Contains("-c:a:0 wmav2", line);
    }

    [Fact]
    public void A_rate_the_format_cannot_take_becomes_the_nearest_one_below_it()
    {
        Assert.Contains("-c:a:0 libmp3lame -ar:a:0 44100", Line(OutputFormat.Swf, new StreamConfig { Name = "s", Format = "swf" }));
        var asked = Line(OutputFormat.Swf, new StreamConfig { Name = "s", Format = "swf", Audio = new CodecSettings { SampleRate = 22050 } });
        Assert.Contains("-ar:a:0 22050", asked);
        Assert.DoesNotContain("-ar:a:0 44100", asked);
    }
}
