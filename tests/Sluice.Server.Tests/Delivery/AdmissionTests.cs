using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;

namespace Sluice.Server.Tests.Delivery;

public sealed class AdmissionTests
{
    private static readonly IPAddress Inside = IPAddress.Parse("10.0.0.7");
    private static readonly IPAddress Outside = IPAddress.Parse("192.0.2.9");
    private static readonly ConfigLocation Here = new("test.conf", 3);

    private static readonly Acl TenOnly = Acl.AllowAll.Add(new AclRule(true, IPAddress.Parse("10.0.0.0"), IPAddress.Parse("10.255.255.255"), Here));

    private static ClientConnection Connection(Limits limits, IPAddress remote) =>
        new(limits.NextId(), remote, "POST", "/feed.ffm", "HTTP/1.1", DateTimeOffset.UnixEpoch);

    private static Feed KeyedFeed(params string[] origins) => new(
        new FeedConfig { Name = "feed.ffm", Acl = TenOnly, PublishKey = "s3cret", PublishOrigins = [.. origins], Location = Here },
        NullLogger.Instance);

    [Fact]
    public void Every_kind_has_one_HTTP_status_and_an_RTMP_code_for_publishers_and_players()
    {
        var expected = new Dictionary<RefusalKind, (int Http, string Publish, string Play)>
        {
            [RefusalKind.ServerFull] = (503, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.TooManyClients] = (503, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.BandwidthFull] = (503, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.StreamFull] = (503, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.ShuttingDown] = (503, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.AddressNotAllowed] = (403, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.PublishKeyMissing] = (403, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.PublishKeyWrong] = (403, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.WebPage] = (403, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.FeedBusy] = (409, "NetStream.Publish.BadName", "NetStream.Play.Failed"),
            [RefusalKind.ReadOnlyFeed] = (403, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
            [RefusalKind.NoSuchFeed] = (404, "NetStream.Publish.BadName", "NetStream.Play.Failed"),
            [RefusalKind.NoSuchStream] = (404, "NetStream.Publish.Denied", "NetStream.Play.StreamNotFound"),
            [RefusalKind.NotOverThisProtocol] = (404, "NetStream.Publish.Denied", "NetStream.Play.Failed"),
        };
        Assert.Equal(Enum.GetValues<RefusalKind>().Order(), expected.Keys.Order());
        foreach (var (kind, (http, publish, play)) in expected)
        {
            Assert.Equal(http, Admission.HttpStatus(kind));
            Assert.Equal(publish, Admission.RtmpCode(kind, publish: true));
            Assert.Equal(play, Admission.RtmpCode(kind, publish: false));
        }
    }

    [Fact]
    public void A_publisher_is_checked_for_origin_then_address_then_key_then_limits_with_one_wording_for_every_protocol()
    {
        var limits = new Limits(new ServerConfig { MaxClients = 1 });
        var admission = new Admission(limits);
        var feed = KeyedFeed("https://studio.example");

        var refusal = admission.Publish(feed, Connection(limits, Outside), "wrong", "?key=...", origin: "https://elsewhere.example");
        Assert.Equal(RefusalKind.WebPage, refusal?.Kind);
        Assert.Equal("Publishing to feed.ffm from a web page (Origin https://elsewhere.example) is not allowed; a PublishOrigin line in the feed (test.conf:3) allows an origin.", refusal?.Reason);

        refusal = admission.Publish(feed, Connection(limits, Outside), "wrong", "?key=...", origin: "https://studio.example");
        Assert.Equal(new Refusal(RefusalKind.AddressNotAllowed, "Publishing to feed.ffm from 192.0.2.9 is not allowed by the feed's ACL (test.conf:3)."), refusal);

        Assert.Equal(new Refusal(RefusalKind.PublishKeyMissing, "Publishing to feed.ffm needs its publish key (?key=...)."), admission.Publish(feed, Connection(limits, Inside), null, "?key=..."));
        Assert.Equal(new Refusal(RefusalKind.PublishKeyWrong, "Wrong publish key for feed.ffm."), admission.Publish(feed, Connection(limits, Inside), "wrong", "?key=..."));

        Assert.Null(admission.Publish(feed, Connection(limits, Inside), "s3cret", "?key=..."));
        Assert.Equal(RefusalKind.TooManyClients, admission.Publish(feed, Connection(limits, Inside), "s3cret", "?key=...")?.Kind);
    }

    [Fact]
    public void A_feed_served_from_its_ReadOnlyFile_refuses_every_publisher_with_the_reason()
    {
        var limits = new Limits(new ServerConfig());
        var admission = new Admission(limits);
        var feed = new Feed(new FeedConfig { Name = "archive.ffm", File = "/srv/archive.sff", ReadOnly = true, Location = Here }, NullLogger.Instance);

        var refusal = admission.Publish(feed, Connection(limits, Inside), null, "?key=...");
        Assert.Equal(new Refusal(RefusalKind.ReadOnlyFeed, "archive.ffm is served from its ReadOnlyFile /srv/archive.sff (test.conf:3) and takes no publisher; give the feed a File instead to publish to it."), refusal);
        Assert.Equal(403, refusal?.StatusCode);
        Assert.Null(admission.Publish(new Feed(new FeedConfig { Name = "live.ffm", File = "/srv/live.sff" }, NullLogger.Instance), Connection(limits, Inside), null, ""));
    }

    [Fact]
    public void A_launch_token_opens_the_feed_once_and_only_where_the_protocol_takes_one()
    {
        var limits = new Limits(new ServerConfig());
        var admission = new Admission(limits);
        var feed = KeyedFeed();
        string token = feed.IssueLaunchToken();

        Assert.Equal(RefusalKind.PublishKeyWrong, admission.Publish(feed, Connection(limits, Inside), token, "", launchToken: false)?.Kind);
        Assert.Null(admission.Publish(feed, Connection(limits, Inside), token, "", launchToken: true));
        Assert.Equal(RefusalKind.PublishKeyWrong, admission.Publish(feed, Connection(limits, Inside), token, "", launchToken: true)?.Kind);
    }

    [Fact]
    public void A_viewer_is_checked_against_the_stream_s_ACL_before_the_limits()
    {
        var config = new StreamConfig { Name = "live.ts", Acl = TenOnly, Location = Here };
        Assert.Equal(new Refusal(RefusalKind.AddressNotAllowed, "Stream live.ts is not available to 192.0.2.9 (the stream's ACL, test.conf:3)."), Admission.Allows(config, Outside));
        Assert.Null(Admission.Allows(config, Inside));

        var limits = new Limits(new ServerConfig { MaxClients = 0 });
        var admission = new Admission(limits);
        Assert.Equal(RefusalKind.AddressNotAllowed, admission.Status(config, Connection(limits, Outside))?.Kind);
        Assert.Equal(RefusalKind.TooManyClients, admission.Status(config, Connection(limits, Inside))?.Kind);
    }

    [Fact]
    public void Names_a_client_chose_are_quoted_short_in_refusals()
    {
        string name = new('x', 500);
        var refusal = Admission.NoSuchStream(name);
        Assert.Equal(404, refusal.StatusCode);
        Assert.True(refusal.Reason.Length < 130, refusal.Reason);
        Assert.StartsWith("No feed is named xxx", Admission.NoSuchFeed(name, ["a.ffm", "b.ffm"]).Reason);
        Assert.EndsWith("publish to one of: a.ffm, b.ffm.", Admission.NoSuchFeed(name, ["a.ffm", "b.ffm"]).Reason);
    }
}
