// End-to-end tests run real encoders and decoders: two at a time on a 2-core machine.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]

namespace Sluice.Tests
{
    /// <summary>
    /// Tests that flood a server with thousands of connections take the machine's two cores while they run: they run
    /// alone, so that no other test's players are starved by them (a browser that recovers from a publisher's return
    /// played 4.5 s of 9 beside a flood, 8 s alone).
    /// </summary>
    [Xunit.CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class FloodCollection
    {
        public const string Name = "Floods";
    }

    /// <summary>
    /// Tests whose player keeps real time only with the machine to itself (hls.js in low-latency mode): they run alone,
    /// as the floods do.
    /// </summary>
    [Xunit.CollectionDefinition(Name, DisableParallelization = true)]
    public sealed class AloneCollection
    {
        public const string Name = "Alone";
    }
}
