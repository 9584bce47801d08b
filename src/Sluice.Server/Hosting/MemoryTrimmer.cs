using System.Runtime;
using Microsoft.Extensions.Logging;
using Sluice.Media.Buffers;
using Sluice.Server.Delivery;

namespace Sluice.Server.Hosting;

/// <summary>
/// Gives back the memory a burst of connections took once it is over. The garbage collector alone does not: an idle
/// server allocates too little to trigger the full collection that would find the dead connections, and even then it
/// keeps the heap it grew (18,000 idle connections took RSS from 55 to 214 MiB, and 60 s after they closed it was
/// 239 MiB). Every few seconds this looks at the connection count; when it has fallen well below its peak since the
/// last look, the buffer pools let go of their free blocks and one aggressive, compacting collection returns the
/// freed heap to the system. A burst of idle connections (a flood: connected, nothing sent) is compacted too, once it
/// has settled (the idle ones rose by at least <see cref="MinimumDrop"/> in one look and not in the next), at most once
/// every <see cref="SettleInterval"/>: the young generation it left behind, several megabytes of garbage between the
/// connections that stayed, is given back (bench/idle.sh, 16,123 idle connections: 2.10 KiB each without it, 1.12 KiB
/// with it). Viewers
/// that join in a burst send their request at once and never count: a full collection is no thing to do to them.
/// </summary>
internal sealed partial class MemoryTrimmer : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    /// <summary>A drop of at least this many connections from the peak is worth a collection.</summary>
    private const int MinimumDrop = 256;

    /// <summary>The least time between two compactions after bursts of new connections (each is one blocking collection).</summary>
    private static readonly TimeSpan SettleInterval = TimeSpan.FromSeconds(60);

    private readonly ConnectionGate _gate;
    private readonly BlockPool _blocks;
    private readonly LargeBlockMemoryPoolFactory? _connectionBuffers;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly TimeProvider _time;
    private int _lastIdle;
    private bool _settling;
    private long? _lastSettled;

    public MemoryTrimmer(ConnectionGate gate, BlockPool blocks, LargeBlockMemoryPoolFactory? connectionBuffers, TimeProvider time, ILogger logger)
    {
        _gate = gate;
        _blocks = blocks;
        _connectionBuffers = connectionBuffers;
        _logger = logger;
        _time = time;
        _timer = time.CreateTimer(_ => Check(), null, Period, Period);
    }

    private void Check()
    {
        int peak = _gate.TakePeak();
        int count = _gate.Count;
        int idle = _gate.AwaitingHead;
        int rose = idle - _lastIdle;
        _lastIdle = idle;
        if (rose >= MinimumDrop)
        {
            _settling = true;
        }
        else if (_settling && rose > -MinimumDrop && (_lastSettled is not { } last || _time.GetElapsedTime(last) >= SettleInterval))
        {
            _settling = false;
            _lastSettled = _time.GetTimestamp();
            long was = Environment.WorkingSet;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            LogSettled(_logger, idle, count, was / (1024 * 1024), Environment.WorkingSet / (1024 * 1024));
            return;
        }

        if (peak - count < Math.Max(MinimumDrop, peak / 4))
        {
            return;
        }

        long before = Environment.WorkingSet;
        long pooled = _blocks.Trim() + (long)(_connectionBuffers?.Trim() ?? 0) * LargeBlockMemoryPool.BlockSize;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        LogTrimmed(_logger, peak, count, pooled / 1024, before / (1024 * 1024), Environment.WorkingSet / (1024 * 1024));
    }

    public void Dispose() => _timer.Dispose();

    [LoggerMessage(EventId = 530, Level = LogLevel.Information, Message = "Connections fell from {Peak} to {Count}: memory given back (pooled free blocks {PooledKiB} KiB; RSS {BeforeMiB} -> {AfterMiB} MiB)")]
    private static partial void LogTrimmed(ILogger logger, int peak, int count, long pooledKiB, long beforeMiB, long afterMiB);

    [LoggerMessage(EventId = 531, Level = LogLevel.Information, Message = "A burst of idle connections settled at {Idle} (of {Count}): heap compacted (RSS {BeforeMiB} -> {AfterMiB} MiB)")]
    private static partial void LogSettled(ILogger logger, int idle, int count, long beforeMiB, long afterMiB);
}
