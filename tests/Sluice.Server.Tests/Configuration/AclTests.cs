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

    [Theory]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db9::", false)]
    [InlineData("::1", true)]
    [InlineData("10.200.3.4", true)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("11.0.0.0", false)]
    [InlineData("fe80::1", false)]
    public void IPv6_addresses_and_prefixes_of_both_families_are_ranges(string address, bool allowed) =>
        Assert.Equal(allowed, StreamAcl("ACL allow 2001:db8::/32", "ACL allow ::1", "ACL allow 10.0.0.0/8").Allows(IPAddress.Parse(address)));

    [Fact]
    public void A_bad_prefix_is_an_error_that_shows_the_form()
    {
        var result = ConfigParser.Parse("<Feed f.ffm>\nACL allow 10.0.0.0/33\n</Feed>\n", "t.conf");
        Assert.Equal(["t.conf:2: invalid ACL range '10.0.0.0/33': expected an address and a prefix length, such as 192.168.0.0/16 or 2001:db8::/32"], result.Errors.Select(e => e.ToString()));
    }
}
