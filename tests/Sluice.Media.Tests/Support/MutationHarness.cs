using System.Diagnostics;

namespace Sluice.Media.Tests.Support;

/// <summary>One damaged input: its number in the run, its bytes, how it was damaged, and the chunk size it is fed in.</summary>
internal readonly record struct Mutant(int Index, byte[] Input, string How, int Chunk)
{
    public override string ToString() => $"#{Index} ({How}, chunks of {Chunk})";
}

/// <summary>
/// Runs damaged inputs through a reader, the same way for every format: each one must end in data or a
/// <see cref="MediaFormatException"/> (any other exception is a failure), within <see cref="PerInput"/> and within
/// the bytes <see cref="AllocationBound"/> allows. The format's test makes the mutants, feeds them and adds its own
/// checks with <see cref="Fail"/>; the inputs are the same for a seed, so a failure can be run again.
/// </summary>
internal sealed class MutationHarness(int seed)
{
    public List<string> Failures { get; } = [];

    /// <summary>Inputs that ended in a <see cref="MediaFormatException"/>.</summary>
    public int FormatErrors { get; private set; }

    /// <summary>Inputs run to their end (fewer than asked when <see cref="Budget"/> ran out).</summary>
    public int Done { get; private set; }

    /// <summary>The most one input allocated on the running thread.</summary>
    public long MaxAllocated { get; private set; }

    /// <summary>How long one input may take; null: not timed.</summary>
    public TimeSpan? PerInput { get; init; }

    /// <summary>How many bytes one input may allocate; null: not bounded.</summary>
    public Func<Mutant, long>? AllocationBound { get; init; }

    /// <summary>When set, no further input starts once the run has taken this long.</summary>
    public TimeSpan? Budget { get; init; }

    /// <summary>Checks of a format error beyond its type (its offset, its format's name): what is wrong with it, or null.</summary>
    public Func<Mutant, MediaFormatException, string?>? CheckFormatError { get; init; }

    public void Fail(Mutant mutant, string what) => Failures.Add($"{mutant}: {what}");

    /// <summary>
    /// Runs <paramref name="inputs"/> mutants on this thread: <paramref name="mutate"/> makes the bytes of input i
    /// from the run's random numbers, <paramref name="chunk"/> then draws its chunk size, <paramref name="feed"/> reads it.
    /// </summary>
    public void Run(int inputs, MutantMaker mutate, Func<Random, int> chunk, Action<Mutant> feed)
    {
        var random = new Random(seed);
        var run = Stopwatch.StartNew();
        for (int i = 0; i < inputs && !(run.Elapsed >= Budget); i++)
        {
            byte[] input = mutate(i, random, out string how);
            var mutant = new Mutant(i, input, how, chunk(random));
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            try
            {
                feed(mutant);
            }
            catch (MediaFormatException error)
            {
                FormatErrors++;
                if (CheckFormatError?.Invoke(mutant, error) is string wrong)
                {
                    Fail(mutant, wrong);
                }
            }
            catch (Exception error)
            {
                Fail(mutant, $"{error.GetType().Name}: {error.Message}");
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            MaxAllocated = Math.Max(MaxAllocated, allocated);
            if (AllocationBound is not null && allocated > AllocationBound(mutant))
            {
                Fail(mutant, $"{allocated} bytes allocated for {input.Length} bytes of input");
            }

            if (watch.Elapsed > PerInput)
            {
                Fail(mutant, $"took {watch.Elapsed}");
            }

            Done++;
        }
    }

    /// <summary>As <see cref="Run"/> on a thread of its own; a hang fails with a <see cref="TimeoutException"/> after <paramref name="total"/> instead of stalling the test run.</summary>
    public Task RunAsync(int inputs, TimeSpan total, MutantMaker mutate, Func<Random, int> chunk, Action<Mutant> feed) =>
        Task.Run(() => Run(inputs, mutate, chunk, feed)).WaitAsync(total);

    /// <summary>Makes the bytes of input <paramref name="index"/>, saying how they were damaged.</summary>
    public delegate byte[] MutantMaker(int index, Random random, out string how);

    /// <summary>The check every format's errors share: the offset is inside the input.</summary>
    public static string? OffsetInside(Mutant mutant, MediaFormatException error) =>
        error.Offset < 0 || error.Offset > mutant.Input.Length ? $"offset {error.Offset} outside the input of {mutant.Input.Length} bytes" : null;
}

/// <summary>The damage every format's mutation test applies, each drawing its numbers in the same order.</summary>
internal static class Damage
{
    /// <summary>Up to <paramref name="maxLength"/> - 1 random bytes overwritten at a random place.</summary>
    public static byte[] RandomBytes(byte[] data, Random random, int maxLength, out string how)
    {
        int at = random.Next(data.Length);
        int length = Math.Min(random.Next(1, maxLength), data.Length - at);
        random.NextBytes(data.AsSpan(at, length));
        how = $"{length} random bytes at {at}";
        return data;
    }

    /// <summary>Up to 199 bytes removed at a random place (a lost piece).</summary>
    public static byte[] Removed(byte[] data, Random random, out string how)
    {
        int at = random.Next(data.Length);
        int length = Math.Min(random.Next(1, 200), data.Length - at);
        how = $"{length} bytes removed at {at}";
        return [.. data.AsSpan(0, at), .. data.AsSpan(at + length)];
    }

    /// <summary>Cut at a random length, and one byte of what is left inverted.</summary>
    public static byte[] CutAndFlipped(byte[] data, Random random, out string how)
    {
        int length = random.Next(data.Length);
        how = $"cut at {length}, a byte flipped";
        data = data[..length];
        if (length > 0)
        {
            data[random.Next(length)] ^= 0xFF;
        }

        return data;
    }
}
