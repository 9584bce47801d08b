using System.Reflection;
using Microsoft.Extensions.Logging;
using Sluice.Server.Logging;

namespace Sluice.Server.Tests.Logging;

public sealed class EventIdsTests
{
    private static IEnumerable<(int Id, MethodInfo Method)> Logged() =>
        from type in typeof(SluiceServer).Assembly.GetTypes()
        from method in type.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
        where attribute is not null
        select (attribute.EventId, method);

    [Fact]
    public void Every_log_event_id_is_used_once_in_a_range_of_its_own_namespace_below_the_range_s_next_free_id()
    {
        var logged = Logged().ToList();
        Assert.True(logged.Count > 40, $"found only {logged.Count} log messages");

        var twice = logged.GroupBy(l => l.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(l => Name(l.Method)))}");
        Assert.Empty(twice);

        foreach (var (id, method) in logged)
        {
            var range = EventIds.Ranges.SingleOrDefault(r => id >= r.First && id <= r.Last);
            Assert.True(range != default, $"{Name(method)} logs event {id}, in no range of EventIds");
            Assert.True(method.DeclaringType!.Namespace == range.Namespace, $"{Name(method)} logs event {id}, in {range.Namespace}'s range {range.First}-{range.Last}");
            Assert.True(id < range.NextFree, $"{Name(method)} logs event {id}, but EventIds says {range.NextFree} is the next free id of {range.First}-{range.Last}: move the note on");
        }
    }

    [Fact]
    public void The_ranges_do_not_overlap_and_each_next_free_id_lies_in_its_range()
    {
        var ordered = EventIds.Ranges.OrderBy(r => r.First).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            Assert.InRange(ordered[i].NextFree, ordered[i].First, ordered[i].Last + 1);
            if (i > 0)
            {
                Assert.True(ordered[i].First > ordered[i - 1].Last, $"{ordered[i - 1].First}-{ordered[i - 1].Last} and {ordered[i].First}-{ordered[i].Last} overlap");
            }
        }
    }

    private static string Name(MethodInfo method) => $"{method.DeclaringType!.FullName}.{method.Name}";
}
