using System.Buffers;
using System.Security.Cryptography;
using Sluice.Media.Formats.Rtmp;

namespace Sluice.Media.Tests.Formats.Rtmp;

public sealed class RtmpHandshakeTests
{
    // The keys as published with the Flash handshake: a text part and 32 shared bytes.
    private static readonly byte[] Tail = Convert.FromHexString("F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE");
    private static readonly byte[] PlayerKey = [.. "Genuine Adobe Flash Player 001"u8, .. Tail];
    private static readonly byte[] ServerKey = [.. "Genuine Adobe Flash Media Server 001"u8, .. Tail];

    /// <summary>A C1 as ffmpeg and Flash-era encoders make it: a client version and a digest at scheme 0 or 1.</summary>
    private static byte[] DigestC1(int scheme, out byte[] digest)
    {
        byte[] c1 = RandomNumberGenerator.GetBytes(1536);
        c1[4] = 9;
        c1[5] = 0;
        c1[6] = 124;
        c1[7] = 2;
        int offset = scheme == 0 ? 8 : 772;
        int position = (c1[offset] + c1[offset + 1] + c1[offset + 2] + c1[offset + 3]) % 728 + offset + 4;
        byte[] message = [.. c1[..position], .. c1[(position + 32)..]];
        digest = HMACSHA256.HashData(PlayerKey[..30], message);
        digest.CopyTo(c1, position);
        return c1;
    }

    private static byte[] Reply(byte[] c1, out bool usesDigest, int step)
    {
        var parser = new RtmpCases.Parser();
        Feeder.Feed(parser, [3, .. c1, .. new byte[1536]], step);
        Assert.NotNull(parser.Reply);
        usesDigest = parser.Reply!.Length == 1 + 2 * 1536 && RtmpHandshake.FindDigest(parser.Reply.AsSpan(1, 1536), ServerKey.AsSpan(0, 36)) >= 0;
        return parser.Reply;
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(100)]
    public void A_plain_C1_is_answered_with_an_echo(int step)
    {
        byte[] c1 = RandomNumberGenerator.GetBytes(1536);
        c1.AsSpan(4, 4).Clear();
        byte[] reply = Reply(c1, out bool digest, step);

        Assert.False(digest);
        Assert.Equal(3, reply[0]);
        Assert.Equal(c1, reply[(1 + 1536)..]);
        Assert.Equal(0, reply[5]); // S1's version field zero: players check no digest
    }

    [Theory]
    [InlineData(0, int.MaxValue)]
    [InlineData(1, int.MaxValue)]
    [InlineData(0, 1)]
    public void A_digest_C1_is_answered_with_digests_a_player_accepts(int scheme, int step)
    {
        byte[] c1 = DigestC1(scheme, out byte[] clientDigest);
        byte[] reply = Reply(c1, out bool digest, step);

        // S1 carries a digest under the server key, S2 ends with an HMAC keyed by the client's digest (what ffmpeg checks).
        Assert.True(digest);
        Assert.True(reply[5] >= 3);
        byte[] s2 = reply[(1 + 1536)..];
        byte[] key = HMACSHA256.HashData(ServerKey, clientDigest);
        Assert.Equal(HMACSHA256.HashData(key, s2[..1504]), s2[1504..]);
    }

    [Fact]
    public void A_C1_with_a_version_but_a_wrong_digest_gets_the_plain_answer()
    {
        byte[] c1 = DigestC1(0, out _);
        c1[1000] ^= 0xFF;
        c1[200] ^= 0xFF;
        byte[] reply = Reply(c1, out bool digest, int.MaxValue);
        Assert.False(digest);
        Assert.Equal(c1, reply[(1 + 1536)..]);
    }

    [Theory]
    [InlineData(6, "encrypted RTMP")]
    [InlineData((byte)'G', "C0 version 71 is not RTMP (3)")]
    public void A_C0_that_is_not_RTMP_is_refused_at_its_first_byte(byte c0, string error)
    {
        var handshake = new RtmpHandshake();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>([c0]));
        try
        {
            handshake.Read(ref reader);
            Assert.Fail("no error");
        }
        catch (MediaFormatException ex)
        {
            Assert.Contains(error, ex.Message, StringComparison.Ordinal);
        }
    }
}
