using System.Security.Cryptography;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Mp4;
using Sluice.Media.Formats.MpegTs;
using Sluice.Media.Tests.Formats.Flv;
using Sluice.Media.Tests.Formats.MpegTs;

namespace Sluice.Media.Tests.Buffers;

public class PooledBufferTests
{
    [Fact]
    public void A_block_goes_back_to_its_pool_with_its_last_release_and_is_lent_again()
    {
        var pool = new BlockPool();
        var block = pool.Rent(10_000);
        Assert.Equal(12 * 1024, block.Array.Length); // rounded up to 4 KiB
        Assert.Equal(1, block.References);

        block.Retain();
        block.Release();
        Assert.Equal(0, pool.FreeBytes); // one holder left: not back yet

        block.Release();
        Assert.Equal(12 * 1024, pool.FreeBytes);

        var again = pool.Rent(9_000); // same size class
        Assert.Same(block, again);
        Assert.Equal(1, again.References);
        Assert.Equal(1, pool.Created);
        Assert.Equal(2, pool.Rented);
    }

    [Fact]
    public void A_request_takes_a_free_block_a_little_larger_but_not_much_larger()
    {
        var pool = new BlockPool();
        var a = pool.Rent(20 * 1024);
        var b = pool.Rent(40 * 1024);
        a.Release();
        b.Release();

        Assert.Same(a, pool.Rent(12 * 1024)); // 20 KiB for 12: within three classes of 4 KiB
        Assert.NotSame(b, pool.Rent(8 * 1024)); // 40 KiB for 8: too wasteful, a new block
        Assert.Equal(3, pool.Created);
    }

    [Fact]
    public void Releasing_once_too_often_or_retaining_a_released_block_throws()
    {
        var pool = new BlockPool();
        var block = pool.Rent(100);
        block.Release();
        Assert.Throws<InvalidOperationException>(() => block.Release());

        var other = new BlockPool().Rent(100);
        other.Release();
        Assert.Throws<InvalidOperationException>(() => other.Retain());
    }

    [Fact]
    public void The_pool_keeps_no_more_free_bytes_than_its_bound_and_larger_requests_are_not_pooled()
    {
        var pool = new BlockPool(maxFreeBytes: 64 * 1024);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent(32 * 1024)).ToList();
        blocks.ForEach(b => b.Release());
        Assert.Equal(64 * 1024, pool.FreeBytes);

        var huge = pool.Rent(BlockPool.MaxPooledLength + 1);
        Assert.Equal(BlockPool.MaxPooledLength + 1, huge.Array.Length);
        huge.Release();
        Assert.Equal(64 * 1024, pool.FreeBytes);
    }

    [Fact]
    public void Pieces_of_a_slab_share_a_block_that_returns_only_when_the_slab_has_moved_on_and_every_piece_is_released()
    {
        var pool = new BlockPool();
        var slab = new ChunkSlab(4096, pool);
        var first = slab.Copy([1, 2, 3], out var firstOwner);
        var second = slab.Copy([4, 5], out var secondOwner);
        Assert.Same(firstOwner, secondOwner);
        Assert.Equal(3, firstOwner.References); // the slab and two pieces

        firstOwner.Release();
        secondOwner.Release();
        Assert.Equal(0, pool.FreeBytes); // the slab still writes into it

        // A piece larger than a quarter block that does not fit gets a block of its own; the current block stays.
        var big = slab.Copy(new byte[4094], out var bigOwner);
        Assert.NotSame(firstOwner, bigOwner);
        var third = slab.Copy([6], out var thirdOwner);
        Assert.Same(firstOwner, thirdOwner);
        Assert.Equal(new byte[] { 1, 2, 3 }, first.ToArray());
        Assert.Equal(new byte[] { 4, 5 }, second.ToArray());
        Assert.Equal(new byte[] { 6 }, third.ToArray());
        Assert.Equal(4094, big.Length);

        slab.Dispose();
        thirdOwner.Release();
        bigOwner.Release();
        Assert.Equal(8 * 1024, pool.FreeBytes);
    }

    [Fact]
    public void A_commit_longer_than_its_reservation_is_refused()
    {
        var slab = new ChunkSlab(4096, new BlockPool());
        slab.Reserve(10);
        Assert.Throws<InvalidOperationException>(() => slab.Commit(11, out _));
        Assert.Equal(10, slab.Commit(10, out _).Length);
        Assert.Throws<InvalidOperationException>(() => slab.Commit(1, out _)); // nothing reserved any more
    }

    public static TheoryData<string> Inputs => new("ts:h264-aac", "ts:h265-aac", "ts:h264-mp3", "ts:opus", $"flv:{FlvFixtures.H264Aac}", $"flv:{FlvFixtures.Mp3Only}", $"mkv:{Fixtures.H264Aac}", $"mkv:{Fixtures.LiveVp9Opus}");

    /// <summary>
    /// A consumer that releases every packet as it goes: the payloads it saw are the ones a consumer that keeps
    /// every packet sees (no block was lent again while a packet in it was held), and a second pass over the input
    /// takes every block from the pool (no new array: the steady path allocates no payload).
    /// </summary>
    [Theory]
    [MemberData(nameof(Inputs))]
    public void Released_payload_blocks_are_reused_and_never_while_a_packet_holds_them(string input)
    {
        byte[] data = Load(input, out var create);
        var pool = new BlockPool();

        using var keeping = create(pool);
        var kept = Feeder.Feed(keeping, data, 1316);
        var expected = kept.Describe();
        Assert.NotEmpty(expected);
        Assert.All(kept.Packets, p => Assert.NotNull(p.Owner));

        var releasing = new ReleasingSink();
        using (var first = create(pool))
        {
            Feeder.Feed(first, data, 1316, releasing);
        }

        Assert.Equal(expected, releasing.Lines);

        long created = pool.Created;
        releasing.Lines.Clear();
        using (var second = create(pool))
        {
            Feeder.Feed(second, data, 1316, releasing);
        }

        Assert.Equal(expected, releasing.Lines);
        Assert.Equal(created, pool.Created);
        Assert.Equal(expected, kept.Describe()); // the packets kept all along are intact
    }

    [Fact]
    public void A_remux_that_releases_its_chunks_and_packets_takes_every_block_from_the_pool_on_a_second_pass()
    {
        byte[] data = TsFixtures.Bytes("h264-aac");
        var pool = new BlockPool();
        byte[] Remux()
        {
            var output = new MemoryStream();
            using var sink = new RemuxSink(tracks => new FragmentedMp4Muxer(tracks, pool), output);
            using var demuxer = new MpegTsDemuxer(pool);
            Feeder.Feed(demuxer, data, 1316, sink);
            return output.ToArray();
        }

        byte[] first = Remux();
        long created = pool.Created;
        byte[] second = Remux();
        Assert.Equal(SHA256.HashData(first), SHA256.HashData(second));
        Assert.Equal(created, pool.Created);
        Assert.True(pool.Rented > 2 * created, $"{pool.Rented} blocks lent, {created} made");
    }

    private static byte[] Load(string input, out Func<BlockPool, IDemuxer> create)
    {
        string[] parts = input.Split(':', 2);
        switch (parts[0])
        {
            case "ts":
                create = pool => new MpegTsDemuxer(pool);
                return TsFixtures.Bytes(parts[1]);
            case "flv":
                create = pool => new FlvDemuxer(pool);
                return FlvFixtures.Bytes(parts[1]);
            default:
                create = pool => new MatroskaDemuxer(pool);
                return Fixtures.Bytes(parts[1]);
        }
    }

    private sealed class ReleasingSink : IPacketSink
    {
        private readonly PacketRecorder _describer = new();

        public List<string> Lines { get; } = [];

        public void OnTracks(IReadOnlyList<TrackInfo> tracks)
        {
        }

        public void Accept(MediaPacket packet)
        {
            _describer.Packets.Clear();
            _describer.Packets.Add(packet);
            Lines.AddRange(_describer.Describe());
            packet.Release();
        }
    }

    private sealed class RemuxSink(Func<IReadOnlyList<TrackInfo>, IMuxer> create, Stream output) : IPacketSink, IDisposable
    {
        private IMuxer? _muxer;

        public void OnTracks(IReadOnlyList<TrackInfo> tracks)
        {
            _muxer = create(tracks);
            output.Write(_muxer.Header.Span);
        }

        public void Dispose() => _muxer?.Dispose();

        public void Accept(MediaPacket packet)
        {
            var chunk = _muxer!.Write(packet);
            output.Write(chunk.Prefix.Span);
            output.Write(chunk.Payload.Span);
            chunk.Release();
            packet.Release();
        }
    }
}
