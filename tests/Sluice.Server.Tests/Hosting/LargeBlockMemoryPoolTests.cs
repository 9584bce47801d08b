using Sluice.Server.Hosting;

namespace Sluice.Server.Tests.Hosting;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Blocks_are_large_and_a_returned_block_is_rented_again()
    {
        using var pool = new LargeBlockMemoryPool();
        var first = pool.Rent();
        Assert.Equal(LargeBlockMemoryPool.BlockSize, first.Memory.Length);
        Assert.Equal(LargeBlockMemoryPool.BlockSize, pool.MaxBufferSize);
        var memory = first.Memory;
        first.Dispose();
        using var second = pool.Rent(100);
        Assert.True(memory.Span.Overlaps(second.Memory.Span), "the returned block was not reused");
    }

    [Fact]
    public void A_rent_larger_than_a_block_gets_an_array_of_its_own()
    {
        using var pool = new LargeBlockMemoryPool();
        using var big = pool.Rent(LargeBlockMemoryPool.BlockSize + 1);
        Assert.Equal(LargeBlockMemoryPool.BlockSize + 1, big.Memory.Length);
    }

    [Fact]
    public void At_most_MaxPooled_free_blocks_are_kept()
    {
        using var pool = new LargeBlockMemoryPool();
        var rented = Enumerable.Range(0, LargeBlockMemoryPool.MaxPooled + 10).Select(_ => pool.Rent()).ToList();
        rented.ForEach(b => b.Dispose());
        var again = Enumerable.Range(0, LargeBlockMemoryPool.MaxPooled + 10).Select(_ => pool.Rent()).ToList();
        int reused = again.Count(b => rented.Any(r => r.Memory.Span.Overlaps(b.Memory.Span)));
        Assert.Equal(LargeBlockMemoryPool.MaxPooled, reused);
    }
}
