using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;

namespace Sluice.Server.Tests.Hls;

public sealed class SegmentedResponsesTests
{
    [Fact]
    public async Task A_wait_for_what_does_not_come_ends_on_the_servers_clock()
    {
        var time = new FakeTimeProvider();
        var feed = new Feed(new FeedConfig { Name = "f.ffm" }, NullLogger.Instance);
        var segmenter = new HlsSegmenter(new StreamConfig { Name = "s" }, feed, NullLogger.Instance, time);
        var responses = new SegmentedResponses(1, time);

        var wait = responses.WaitAsync<HlsSegment>(segmenter, 0, () => null, CancellationToken.None, TimeSpan.FromSeconds(15));
        time.Advance(TimeSpan.FromSeconds(14));
        await Task.Delay(50);
        Assert.False(wait.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
