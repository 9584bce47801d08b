using System.Collections.Immutable;
using System.Net;

namespace Sluice.Server.Configuration;

/// <summary>
/// ffserver's ACL: "ACL allow|deny first [last]". Rules are checked in order; the first whose range
/// holds the address decides. With no rule everyone is allowed; when there are rules and none matches,
/// the address gets the opposite of the last rule's action (ffserver's behaviour: a list of allows
/// denies the rest).
/// </summary>
internal sealed record Acl(ImmutableArray<AclRule> Rules)
{
    public static readonly Acl AllowAll = new(ImmutableArray<AclRule>.Empty);

    public bool Allows(IPAddress address)
    {
        if (Rules.IsEmpty)
        {
            return true;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var rule in Rules)
        {
            if (rule.Contains(address))
            {
                return rule.Allow;
            }
        }

        return !Rules[^1].Allow;
    }

    public Acl Add(AclRule rule) => new(Rules.Add(rule));
}

/// <summary>One ACL line: an inclusive address range of one family.</summary>
internal sealed record AclRule(bool Allow, IPAddress First, IPAddress Last, ConfigLocation Location)
{
    public bool Contains(IPAddress address)
    {
        if (address.AddressFamily != First.AddressFamily)
        {
            return false;
        }

        ReadOnlySpan<byte> a = address.GetAddressBytes(), lo = First.GetAddressBytes(), hi = Last.GetAddressBytes();
        return a.SequenceCompareTo(lo) >= 0 && a.SequenceCompareTo(hi) <= 0;
    }
}
