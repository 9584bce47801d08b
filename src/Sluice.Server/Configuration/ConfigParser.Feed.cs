using System.Globalization;

namespace Sluice.Server.Configuration;

internal static partial class ConfigParser
{
    /// <summary>&lt;Feed name&gt; ... &lt;/Feed&gt;, and the ACL lines shared with streams.</summary>
    private sealed partial class Session
    {
        private FeedConfig? _feed;

        private void BeginFeed(string name) => _feed = new FeedConfig { Name = name, Location = Here };

        private void EndFeed()
        {
            if (_feed is not null)
            {
                _feeds.Add((_feed, Written));
                _feed = null;
            }
        }

        /// <summary>The feed directives with code of their own; the others are read by the table.</summary>
        private void FeedDirective(string name, List<string> args)
        {
            var feed = _feed!;
            switch (name)
            {
                case "Launch":
                    _feed = feed with { Launch = [.. args] };
                    break;
                case "ACL":
                    if (AclRule(args) is { } rule)
                    {
                        _feed = feed with { Acl = feed.Acl.Add(rule) };
                    }

                    break;
            }
        }

        /// <summary>An address range written as a prefix (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>): its first and last address.</summary>
        private static (System.Net.IPAddress First, System.Net.IPAddress Last)? CidrRange(string text)
        {
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            if (!System.Net.IPAddress.TryParse(text.AsSpan(0, slash), out var address)
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
            {
                return null;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            byte[] first = address.GetAddressBytes(), last = address.GetAddressBytes();
            if (prefix > first.Length * 8)
            {
                return null;
            }

            for (int bit = prefix; bit < first.Length * 8; bit++)
            {
                first[bit / 8] &= (byte)~(0x80 >> (bit % 8));
                last[bit / 8] |= (byte)(0x80 >> (bit % 8));
            }

            return (new System.Net.IPAddress(first), new System.Net.IPAddress(last));
        }

        /// <summary>ACL allow|deny first [last], or ACL allow|deny prefix/length.</summary>
        private AclRule? AclRule(List<string> args)
        {
            bool allow;
            if (string.Equals(args[0], "allow", StringComparison.OrdinalIgnoreCase))
            {
                allow = true;
            }
            else if (string.Equals(args[0], "deny", StringComparison.OrdinalIgnoreCase))
            {
                allow = false;
            }
            else
            {
                Error($"ACL action '{args[0]}' should be allow or deny; usage: ACL allow|deny <first-address> [<last-address>]");
                return null;
            }

            if (args.Count == 2 && args[1].Contains('/', StringComparison.Ordinal))
            {
                if (CidrRange(args[1]) is not { } cidr)
                {
                    Error($"invalid ACL range '{args[1]}': expected an address and a prefix length, such as 192.168.0.0/16 or 2001:db8::/32");
                    return null;
                }

                return new AclRule(allow, cidr.First, cidr.Last, Here);
            }

            var first = ConfigValues.Address(args[1]);
            var last = args.Count == 3 ? ConfigValues.Address(args[2]) : first;
            foreach (var (text, address) in args.Count == 3 ? [(args[1], first), (args[2], last)] : new[] { (args[1], first) })
            {
                if (address is null)
                {
                    Error($"invalid ACL address '{text}': expected an IPv4 or IPv6 address such as 192.168.0.1 or ::1; host names other than localhost are not resolved");
                }
            }

            if (first is null || last is null)
            {
                return null;
            }

            if (first.IsIPv4MappedToIPv6)
            {
                first = first.MapToIPv4();
            }

            if (last.IsIPv4MappedToIPv6)
            {
                last = last.MapToIPv4();
            }

            if (first.AddressFamily != last.AddressFamily)
            {
                Error($"ACL range {args[1]} {args[2]} mixes IPv4 and IPv6; write one ACL line for each family");
                return null;
            }

            if (first.GetAddressBytes().AsSpan().SequenceCompareTo(last.GetAddressBytes()) > 0)
            {
                Error($"ACL range {args[1]} {args[2]} is reversed; write the lower address first: ACL {args[0]} {args[2]} {args[1]}");
                return null;
            }

            return new AclRule(allow, first, last, Here);
        }
    }
}
