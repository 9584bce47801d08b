using System.Text;

namespace Sluice.Server.Security;

/// <summary>
/// Request targets as the status page, stat.json, the server log and the access log show them: the values of secret
/// query parameters (<c>key</c>, <c>signature</c>, <c>token</c>, in any case) replaced by <see cref="Mask"/>, so that
/// whoever can read a page or a log cannot publish with a key they saw there.
/// </summary>
internal static class SecretQuery
{
    public const string Mask = "REDACTED";

    private static readonly string[] Names = ["key", "signature", "token"];

    /// <summary>The target with every secret value masked; the same string when it has none (no allocation for most requests).</summary>
    public static string Redact(string target)
    {
        int query = target.IndexOf('?', StringComparison.Ordinal);
        if (query < 0 || !HasSecret(target.AsSpan(query + 1)))
        {
            return target;
        }

        var sb = new StringBuilder(target.Length);
        sb.Append(target, 0, query + 1);
        bool first = true;
        foreach (var range in target.AsSpan(query + 1).Split('&'))
        {
            var pair = target.AsSpan(query + 1)[range];
            if (!first)
            {
                sb.Append('&');
            }

            first = false;
            int equals = pair.IndexOf('=');
            if (equals >= 0 && IsSecret(pair[..equals]))
            {
                sb.Append(pair[..(equals + 1)]).Append(Mask);
            }
            else
            {
                sb.Append(pair);
            }
        }

        return sb.ToString();
    }

    private static bool HasSecret(ReadOnlySpan<char> query)
    {
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            int equals = pair.IndexOf('=');
            if (equals >= 0 && IsSecret(pair[..equals]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A parameter name, percent-encoded or not (<c>%6Bey</c> is <c>key</c> to a query parser).</summary>
    private static bool IsSecret(ReadOnlySpan<char> name)
    {
        // Plain names (every request of a player) are compared in place; only an encoded one is decoded.
        ReadOnlySpan<char> decoded = name.Contains('%') || name.Contains('+') ? Uri.UnescapeDataString(name.ToString().Replace('+', ' ')) : name;
        foreach (string secret in Names)
        {
            if (decoded.Equals(secret, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
