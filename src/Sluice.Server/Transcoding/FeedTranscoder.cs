using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Server.Feeds;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>What the status page shows of one encoder (one ffmpeg and the streams it encodes).</summary>
internal sealed record EncoderStatus(
    string Feed,
    IReadOnlyList<string> Streams,
    string State,
    int? ProcessId,
    int Starts,
    int Restarts,
    string? LastError,
    double? Speed,
    long Frames,
    long DroppedPackets,
    string? Command)
{
    /// <summary>Runs in a row that failed the same way before delivering anything (0 while it works).</summary>
    public int SameFailures { get; init; }
}

/// <summary>
/// Reads a source feed for all of its streams. Per publisher session it decides, stream by stream, whether the
/// feed already carries what the stream asks for (the packets pass through untouched, no encoder runs) or not.
/// The streams that need encoding share one ffmpeg, which decodes the feed once and encodes every one of them
/// (as ffserver's single feeder did). It runs while the feed has a publisher: a stream's first viewer then starts
/// at once at a keyframe, and one process serving all renditions of the feed is never restarted because one
/// stream's audience came or went. A stream with <c>OnDemand</c> gets an ffmpeg of its own instead, started by
/// its first viewer and stopped a while after its last one leaves: cheaper for renditions rarely watched, at
/// the price of a slower start.
/// </summary>
internal sealed partial class FeedTranscoder : IFeedListener, IAsyncDisposable
{
    private readonly Feed _source;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<Rendition, Demand> _demand = [];

    private List<Rendition> _passing = [];
    private IReadOnlyList<TrackInfo>? _tracks;          // the session's, while a publisher is on
    private List<EncoderGroup> _groups = [];            // the session's (kept after it for the status page)
    private volatile EncoderGroup[] _active = [];       // groups that may take packets, for the ingest thread

    public FeedTranscoder(Feed source, IReadOnlyList<Rendition> renditions, ILogger logger, TimeProvider time)
    {
        _source = source;
        Renditions = renditions;
        _logger = logger;
        _time = time;
        source.Subscribe(this);
    }

    public IReadOnlyList<Rendition> Renditions { get; }

    public Feed Source => _source;

    /// <summary>The encoders of the current (or last) session.</summary>
    public IReadOnlyList<EncoderStatus> Encoders
    {
        get { lock (_lock) { return _groups.Select(g => g.Status).ToList(); } }
    }

    public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues)
    {
        StopSession();
        var passing = new List<Rendition>();
        var shared = new List<Rendition>();
        var groups = new List<EncoderGroup>();
        foreach (var rendition in Renditions)
        {
            var plan = rendition.Decide(tracks);
            if (!plan.Encodes)
            {
                rendition.StartPassThrough(plan, tracks.Count);
                passing.Add(rendition);
                continue;
            }

            rendition.StartEncoded(plan);
            if (rendition.Config.OnDemand is null)
            {
                shared.Add(rendition);
            }
            else
            {
                groups.Add(new EncoderGroup(_source.Name, [rendition], _logger, _time));
            }
        }

        if (shared.Count > 0)
        {
            groups.Insert(0, new EncoderGroup(_source.Name, shared, _logger, _time));
        }

        _passing = passing;
        lock (_lock)
        {
            _tracks = [.. tracks];
            _groups = groups;
            foreach (var group in groups)
            {
                if (group.Renditions[0].Config.OnDemand is null || DemandOf(group.Renditions[0]).Viewers > 0)
                {
                    group.Start(_tracks, _disposed.Token);
                }
            }

            _active = [.. groups];
        }
    }

    public void Observe(in MediaPacket packet)
    {
        foreach (var rendition in _passing)
        {
            rendition.Forward(packet);
        }

        foreach (var group in _active)
        {
            if (group.Run is not { } run)
            {
                continue;
            }

            run.Feed(packet, _source);
        }
    }

    public void OnSessionEnd() => StopSession();

    private void StopSession()
    {
        foreach (var rendition in Renditions)
        {
            rendition.EndSession();
        }

        _passing = [];
        lock (_lock)
        {
            _tracks = null;
            _active = [];
            foreach (var group in _groups)
            {
                _ = group.StopAsync();
            }
        }
    }

    /// <summary>A viewer of <paramref name="rendition"/> came; dispose the result when it leaves.</summary>
    public IDisposable Watch(Rendition rendition) => DemandOf(rendition).Watch();

    /// <summary>The viewers of a rendition: an OnDemand one's encoder starts with the first and stops after the last.</summary>
    private Demand DemandOf(Rendition rendition)
    {
        lock (_lock)
        {
            if (!_demand.TryGetValue(rendition, out var demand))
            {
                var linger = rendition.Config.OnDemand is double seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
                _demand[rendition] = demand = new Demand(linger, _time, () => StartWatched(rendition), after => StopUnwatchedAsync(rendition, after));
            }

            return demand;
        }
    }

    private void StartWatched(Rendition rendition)
    {
        lock (_lock)
        {
            if (!_disposed.IsCancellationRequested && _tracks is { } tracks
                && _groups.FirstOrDefault(g => g.Renditions[0] == rendition) is { IsRunning: false } group)
            {
                LogOnDemand(_logger, rendition.Name, "a viewer came: starting its encoder");
                group.Start(tracks, _disposed.Token);
            }
        }
    }

    private async Task StopUnwatchedAsync(Rendition rendition, TimeSpan after)
    {
        EncoderGroup? group;
        lock (_lock)
        {
            group = _groups.FirstOrDefault(g => g.Renditions[0] == rendition && g.IsRunning);
        }

        if (group is not null)
        {
            LogOnDemand(_logger, rendition.Name, $"no viewer for {after.TotalSeconds:0.#} s: stopping its encoder");
            await group.StopAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<EncoderGroup> groups;
        lock (_lock)
        {
            groups = _groups;
            _active = [];
            foreach (var demand in _demand.Values)
            {
                demand.Close();
            }
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(groups.Select(g => g.StopAsync())).WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _disposed.Dispose();
    }

    [LoggerMessage(EventId = 226, Level = LogLevel.Information, Message = "Stream {Stream} (OnDemand): {What}")]
    private static partial void LogOnDemand(ILogger logger, string stream, string what);
}
