using System.Collections.Concurrent;

namespace Sluice.Media.Tests.Support;

/// <summary>
/// Fixtures the real ffmpeg makes at test time, each once per test run when a test first asks for it; tests that ask
/// for the same one meanwhile wait for that one making.
/// </summary>
internal sealed class FixtureCache<T>(Func<string, T> make)
{
    private readonly ConcurrentDictionary<string, Lazy<T>> _made = new();

    public T Get(string name) =>
        _made.GetOrAdd(name, n => new Lazy<T>(() => make(n), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
}

/// <summary>Makes a set of fixtures at once, in parallel, within a time limit.</summary>
internal static class FixtureSet
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>Runs every maker in parallel; throws the first one's error, or a <see cref="TimeoutException"/> naming <paramref name="what"/> when they take longer than <see cref="Limit"/>.</summary>
    public static void MakeAll(string what, params Action[] makers)
    {
        var tasks = makers.Select(Task.Run).ToArray();
        Task.WaitAll(tasks, Limit);
        foreach (var task in tasks)
        {
            if (!task.IsCompleted)
            {
                throw new TimeoutException($"generating {what} took more than 120 s");
            }

            task.GetAwaiter().GetResult();
        }
    }
}
