using System.Security.Cryptography;
using System.Text;

namespace Sluice.Server.Ingest;

/// <summary>A feed's PublishKey, checked the same way for RTMP and HTTP publishers.</summary>
internal static class PublishKeys
{
    /// <summary>Whether the key given matches, compared in constant time (a refusal says nothing about how close it was).</summary>
    public static bool Match(string expected, string? given) =>
        !string.IsNullOrEmpty(given) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));
}
