using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>Debian's headless Chromium, driven by Playwright, plays the / page.</summary>
public sealed class BrowserTests
{
    [Fact]
    public async Task Chromium_plays_the_live_stream_on_the_index_page()
    {
        await using var server = await TestServer.StartAsync(Configs.Open());
        using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
        await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(20));
        await Task.Delay(3000); // a stream that has been live a while: the viewer's start burst (Preroll) is there

        var root = await Browser.RunAsync("play.mjs", server.Url("/"), 5);
        var end = root.GetProperty("end");
        Assert.Equal(JsonValueKind.Null, end.GetProperty("error").ValueKind);
        Assert.Equal(320, end.GetProperty("videoWidth").GetInt32());
        Assert.Equal(240, end.GetProperty("videoHeight").GetInt32());
        // Within 5 s of wall time, the picture moved on by at least 2 s.
        Assert.True(root.GetProperty("advanced").GetDouble() >= 2.0, root.ToString());
    }
}
