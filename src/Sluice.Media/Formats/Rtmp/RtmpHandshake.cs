using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Sluice.Media.Formats.Rtmp;

/// <summary>
/// The server side of the RTMP handshake: C0 and C1 in, S0, S1 and S2 out, then C2 in. Two variants: the plain
/// one of the specification (C1's version field zero; S2 echoes C1), and the digest one that Flash-era encoders and
/// ffmpeg send (an HMAC-SHA256 digest inside C1 keyed with "Genuine Adobe Flash Player 001"), answered with digests
/// keyed with the Flash Media Server constant, which players such as ffmpeg check before they accept the stream.
/// </summary>
public sealed class RtmpHandshake
{
    public enum Status
    {
        /// <summary>More bytes are needed.</summary>
        NeedMore,

        /// <summary>C0 and C1 were read: send <see cref="Reply"/>, then keep reading.</summary>
        Reply,

        /// <summary>C2 was read: chunks follow.</summary>
        Done,
    }

    private const int DigestLength = 32;

    // The 32 bytes both keys end with.
    private static ReadOnlySpan<byte> KeyTail =>
    [
        0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
        0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
    ];

    private static readonly byte[] PlayerKey = [.. "Genuine Adobe Flash Player 001"u8, .. KeyTail];
    private static readonly byte[] ServerKey = [.. "Genuine Adobe Flash Media Server 001"u8, .. KeyTail];
    private const int PlayerKeyOpenLength = 30;
    private const int ServerKeyOpenLength = 36;

    private bool _replied;
    private bool _done;

    /// <summary>S0, S1 and S2, once C0 and C1 are read.</summary>
    public byte[]? Reply { get; private set; }

    /// <summary>Whether the client sent the digest variant (and got one back).</summary>
    public bool UsesDigest { get; private set; }

    /// <summary>Reads what it can of the handshake; throws <see cref="MediaFormatException"/> on a C0 that is not RTMP.</summary>
    public Status Read(ref SequenceReader<byte> reader)
    {
        if (_done)
        {
            return Status.Done;
        }

        if (!_replied)
        {
            if (reader.TryPeek(out byte version) && version != Rtmp.Version)
            {
                Throw(0, version is 6 or 8 or 9
                    ? $"the client asks for encrypted RTMP (RTMPE, version {version}), which is not served"
                    : $"C0 version {version} is not RTMP (3); is this an RTMP client?");
            }

            if (reader.Remaining < 1 + Rtmp.HandshakeLength)
            {
                return Status.NeedMore;
            }

            byte[] c1 = new byte[Rtmp.HandshakeLength];
            reader.Advance(1);
            reader.TryCopyTo(c1);
            reader.Advance(Rtmp.HandshakeLength);
            Reply = Answer(c1, out bool digest);
            UsesDigest = digest;
            _replied = true;
            return Status.Reply;
        }

        if (reader.Remaining < Rtmp.HandshakeLength)
        {
            return Status.NeedMore;
        }

        // C2 echoes S1 (or carries a digest of it); players check ours, servers need not check theirs.
        reader.Advance(Rtmp.HandshakeLength);
        _done = true;
        return Status.Done;
    }

    /// <summary>S0 + S1 + S2 for a C1.</summary>
    public static byte[] Answer(ReadOnlySpan<byte> c1, out bool digest)
    {
        byte[] reply = new byte[1 + 2 * Rtmp.HandshakeLength];
        reply[0] = Rtmp.Version;
        var s1 = reply.AsSpan(1, Rtmp.HandshakeLength);
        var s2 = reply.AsSpan(1 + Rtmp.HandshakeLength);
        RandomNumberGenerator.Fill(s1[8..]);
        int clientDigest = BinaryPrimitives.ReadUInt32BigEndian(c1[4..]) == 0 ? -1 : FindDigest(c1, PlayerKey.AsSpan(0, PlayerKeyOpenLength));
        digest = clientDigest >= 0;
        if (!digest)
        {
            // Plain: time and zero version, random bytes; S2 echoes C1.
            c1.CopyTo(s2);
            return reply;
        }

        // S1: a server version (at least 3, which tells players to check the digest) and a digest at scheme 0.
        s1[4] = 4;
        s1[5] = 5;
        s1[6] = 0;
        s1[7] = 1;
        int position = DigestPosition(s1, 8);
        Digest(s1, position, ServerKey.AsSpan(0, ServerKeyOpenLength), s1.Slice(position, DigestLength));

        // S2: random bytes and, last, their HMAC under a key derived from the client's digest.
        RandomNumberGenerator.Fill(s2);
        Span<byte> key = stackalloc byte[DigestLength];
        HMACSHA256.HashData(ServerKey, c1.Slice(clientDigest, DigestLength), key);
        HMACSHA256.HashData(key, s2[..^DigestLength], s2[^DigestLength..]);
        return reply;
    }

    /// <summary>Where a valid digest sits in a C1 or S1 (scheme 1, then scheme 0), or -1.</summary>
    public static int FindDigest(ReadOnlySpan<byte> block, ReadOnlySpan<byte> key)
    {
        Span<byte> computed = stackalloc byte[DigestLength];
        foreach (int offset in (ReadOnlySpan<int>)[772, 8])
        {
            int position = DigestPosition(block, offset);
            Digest(block, position, key, computed);
            if (CryptographicOperations.FixedTimeEquals(computed, block.Slice(position, DigestLength)))
            {
                return position;
            }
        }

        return -1;
    }

    /// <summary>The digest's position: the sum of the 4 bytes at <paramref name="offset"/>, modulo 728, after them.</summary>
    public static int DigestPosition(ReadOnlySpan<byte> block, int offset) =>
        (block[offset] + block[offset + 1] + block[offset + 2] + block[offset + 3]) % 728 + offset + 4;

    /// <summary>HMAC-SHA256 of the block without the 32 bytes at <paramref name="position"/>.</summary>
    public static void Digest(ReadOnlySpan<byte> block, int position, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        Span<byte> message = stackalloc byte[Rtmp.HandshakeLength - DigestLength];
        block[..position].CopyTo(message);
        block[(position + DigestLength)..].CopyTo(message[position..]);
        HMACSHA256.HashData(key, message, destination);
    }

    [DoesNotReturn]
    private static void Throw(long offset, string message) => throw new MediaFormatException(Rtmp.FormatName, offset, message);
}
