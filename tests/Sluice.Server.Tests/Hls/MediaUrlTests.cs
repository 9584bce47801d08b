using Sluice.Server.Hls;

namespace Sluice.Server.Tests.Hls;

public sealed class MediaUrlTests
{
    private const long Epoch = 1_700_000_000; // "s44we8"

    /// <summary>Every kind of name, as the playlists and the manifest have always written it.</summary>
    private static readonly Dictionary<string, MediaUrl> Cases = new()
    {
        { "index.m3u8", MediaUrl.Multivariant },
        { "media.m3u8", MediaUrl.MediaPlaylist },
        { "manifest.mpd", MediaUrl.DashManifest },
        { "s44we8-init1.mp4", MediaUrl.Init(Epoch, 1) },
        { "s44we8-init2147483647.mp4", MediaUrl.Init(Epoch, int.MaxValue) },
        { "s44we8-0.m4s", MediaUrl.Segment(Epoch, 0, cmaf: true) },
        { "s44we8-9223372036854775807.m4s", MediaUrl.Segment(Epoch, long.MaxValue, cmaf: true) },
        { "s44we8-17.ts", MediaUrl.Segment(Epoch, 17, cmaf: false) },
        { "s44we8-17.3.m4s", MediaUrl.Part(Epoch, 17, 3) },
        { "s44we8-dash2-1.mp4", MediaUrl.DashInit(Epoch, 2, 1) },
        { "s44we8-t0-8100000.m4s", MediaUrl.DashSegment(Epoch, 0, 8_100_000) },
        { "s44we8-t1-0.m4s", MediaUrl.DashSegment(Epoch, 1, 0) },
        { "0-5.m4s", MediaUrl.Segment(0, 5, cmaf: true) },
        { "z-5.m4s", MediaUrl.Segment(35, 5, cmaf: true) },
        { "10-5.m4s", MediaUrl.Segment(36, 5, cmaf: true) },
        { "1y2p0ij32e8e7-5.m4s", MediaUrl.Segment(long.MaxValue, 5, cmaf: true) },
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void A_name_is_written_as_listed_and_read_back_as_the_same_value(string name)
    {
        var url = Cases[name];
        Assert.Equal(name, url.ToString());
        Span<char> exact = stackalloc char[name.Length];
        Assert.True(url.TryFormat(exact, out int written));
        Assert.Equal(name, new string(exact[..written]));
        Assert.False(url.TryFormat(stackalloc char[name.Length - 1], out int none));
        Assert.Equal(0, none);

        Assert.True(MediaUrl.TryParse(name, out var parsed));
        Assert.Equal(url, parsed);
        Assert.Equal(url.Kind is MediaUrlKind.Multivariant or MediaUrlKind.MediaPlaylist or MediaUrlKind.DashManifest, parsed.IsPlaylist);
    }

    [Fact]
    public void Every_kind_has_a_name()
    {
        var kinds = Cases.Values.Select(url => url.Kind).ToHashSet();
        Assert.Equal(Enum.GetValues<MediaUrlKind>().ToHashSet(), kinds);
    }

    [Fact]
    public void The_dash_template_gives_dash_segment_names()
    {
        string template = MediaUrl.DashTimeTemplate(Epoch, 1);
        Assert.Equal("s44we8-t1-$Time$.m4s", template);
        Assert.True(MediaUrl.TryParse(template.Replace("$Time$", "123456", StringComparison.Ordinal), out var url));
        Assert.Equal(MediaUrl.DashSegment(Epoch, 1, 123456), url);
    }

    [Fact]
    public void The_epoch_is_read_only_as_written()
    {
        Assert.Equal("s44we8", MediaUrl.EpochText(Epoch));
        Assert.True(MediaUrl.HasEpoch("s44we8-anything", Epoch));
        Assert.False(MediaUrl.HasEpoch("s44we9-1.m4s", Epoch));
        Assert.False(MediaUrl.HasEpoch("0s44we8-1.m4s", Epoch));
        Assert.False(MediaUrl.HasEpoch("S44WE8-1.m4s", Epoch));
        Assert.False(MediaUrl.HasEpoch("s44we8", Epoch));
    }

    [Fact]
    public void Leading_zeros_in_numbers_are_read_as_they_always_were()
    {
        Assert.True(MediaUrl.TryParse("s44we8-007.m4s", out var url));
        Assert.Equal(MediaUrl.Segment(Epoch, 7, cmaf: true), url);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("index.m3u")]
    [InlineData("Index.m3u8")]
    [InlineData("index.m3u8 ")]
    [InlineData("/index.m3u8")]
    [InlineData("media.m3u8?")]
    [InlineData("manifest.xml")]
    [InlineData("s44we8")]
    [InlineData("s44we8-")]
    [InlineData("-5.m4s")]
    [InlineData("s44we8-5")]
    [InlineData("s44we8-5.")]
    [InlineData("s44we8-5.mp4")]
    [InlineData("s44we8-5.M4S")]
    [InlineData("s44we8-5.m4s.")]
    [InlineData("s44we8-5.m4sx")]
    [InlineData("s44we8-5.tsx")]
    [InlineData("s44we8-.m4s")]
    [InlineData("s44we8--5.m4s")]
    [InlineData("s44we8-+5.m4s")]
    [InlineData("s44we8- 5.m4s")]
    [InlineData("s44we8-5 .m4s")]
    [InlineData("s44we8-5x.m4s")]
    [InlineData("s44we8-9223372036854775808.m4s")]
    [InlineData("s44we8-99999999999999999999.ts")]
    [InlineData("s44we8-5.3.ts")]
    [InlineData("s44we8-5..m4s")]
    [InlineData("s44we8-5.-3.m4s")]
    [InlineData("s44we8-5.3.4.m4s")]
    [InlineData("s44we8-5.2147483648.m4s")]
    [InlineData("s44we8-init.mp4")]
    [InlineData("s44we8-init1.m4s")]
    [InlineData("s44we8-init-1.mp4")]
    [InlineData("s44we8-init1x.mp4")]
    [InlineData("s44we8-init2147483648.mp4")]
    [InlineData("s44we8-dash1.mp4")]
    [InlineData("s44we8-dash1-.mp4")]
    [InlineData("s44we8-dash-1.mp4")]
    [InlineData("s44we8-dash1--1.mp4")]
    [InlineData("s44we8-dash1-2-3.mp4")]
    [InlineData("s44we8-dash1-2147483648.mp4")]
    [InlineData("s44we8-t0.m4s")]
    [InlineData("s44we8-t-5.m4s")]
    [InlineData("s44we8-t0-.m4s")]
    [InlineData("s44we8-t0--5.m4s")]
    [InlineData("s44we8-t0-5.mp4")]
    [InlineData("s44we8-t0-9223372036854775808.m4s")]
    [InlineData("s44we8-t2147483648-5.m4s")]
    [InlineData("s44we8-x0-5.m4s")]
    [InlineData("0s44we8-5.m4s")]
    [InlineData("S44we8-5.m4s")]
    [InlineData("s4.we8-5.m4s")]
    [InlineData("1y2p0ij32e8e8-5.m4s")]
    [InlineData("zzzzzzzzzzzzzz-5.m4s")]
    public void A_malformed_name_is_refused(string name)
    {
        Assert.False(MediaUrl.TryParse(name, out var url));
        Assert.Equal(default, url);
    }
}
