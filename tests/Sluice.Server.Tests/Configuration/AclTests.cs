using System.Net;
using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

public sealed class AclTests
{
    private static Acl StreamAcl(params string[] lines)
    {
        var text = "<Feed f.ffm>\n</Feed>\n<Stream s>\nFeed f.ffm\n" + string.Join("\n", lines) + "\n</Stream>\n";
        var result = ConfigParser.Parse(text, "t.conf");
        Assert.Equal([], result.Errors.Select(e => e.ToString()));
        return result.Config!.Streams[0].Acl;
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("192.168.0.0", true)]
    [InlineData("192.168.17.4", true)]
    [InlineData("192.168.255.255", true)]
    [InlineData("192.169.0.0", false)]
    [InlineData("10.0.0.1", false)]
    [InlineData("::ffff:192.168.1.1", true)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::1", false)]
    public void AllowListDeniesEveryoneElse(string address, bool allowed) =>
        Assert.Equal(allowed, StreamAcl("ACL allow localhost", "ACL allow 192.168.0.0 192.168.255.255").Allows(IPAddress.Parse(address)));

    [Theory]
    [InlineData("1.2.3.4", false)]
    [InlineData("1.255.255.255", false)]
    [InlineData("2.0.0.0", true)]
    [InlineData("::ffff:1.0.0.9", false)]
    [InlineData("2001:db8::1", true)]
    public void DenyListAllowsEveryoneElse(string address, bool allowed) =>
        Assert.Equal(allowed, StreamAcl("ACL deny 1.0.0.0 1.255.255.255").Allows(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.5", false)]
    [InlineData("10.0.0.6", true)]
    [InlineData("10.1.0.0", false)]
    public void FirstMatchingRuleWins(string address, bool allowed) =>
        Assert.Equal(allowed, StreamAcl("ACL deny 10.0.0.5", "ACL allow 10.0.0.0 10.0.255.255").Allows(IPAddress.Parse(address)));

    [Theory]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db8::ffff", true)]
    [InlineData("2001:db9::", false)]
    [InlineData("127.0.0.1", false)]
    public void IPv6Ranges(string address, bool allowed) =>
        Assert.Equal(allowed, StreamAcl("ACL ALLOW 2001:db8:: 2001:db8::ffff").Allows(IPAddress.Parse(address)));

    [Fact]
    public void IPv4MappedRuleMatchesIPv4Clients()
    {
        var acl = StreamAcl("ACL allow ::ffff:10.0.0.1");
        Assert.True(acl.Allows(IPAddress.Parse("10.0.0.1")));
        Assert.True(acl.Allows(IPAddress.Parse("::ffff:10.0.0.1")));
        Assert.Equal(new ConfigLocation("t.conf", 5), acl.Rules[0].Location);
    }

    [Fact]
    public void NoRuleAllowsEveryone() => Assert.True(StreamAcl().Allows(IPAddress.Parse("203.0.113.1")));
}
