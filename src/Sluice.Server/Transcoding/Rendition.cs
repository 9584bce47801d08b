using System.Net;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>How a stream gets its packets during one publisher session.</summary>
internal enum RenditionMode
{
    /// <summary>The feed has no publisher.</summary>
    Idle,

    /// <summary>The feed's packets go to the stream untouched.</summary>
    PassThrough,

    /// <summary>The stream reads what ffmpeg encodes from the feed.</summary>
    Encoded,
}

/// <summary>
/// One stream's own feed, derived from its source feed: the source's packets when they already are what the
/// stream asks for, or what ffmpeg encodes from them. The stream's <see cref="LiveStream"/> reads this feed,
/// so viewers see one continuous timeline whichever way the packets come and however often an encoder restarts.
/// </summary>
internal sealed partial class Rendition
{
    private readonly ILogger _logger;
    private Publisher? _passThrough;
    private int[] _map = [];         // source track index -> output track index, -1 when left out
    private IReadOnlyList<TrackInfo> _tracks = [];

    public Rendition(StreamConfig config, OutputFormat format, StreamEncoding encoding, Feed output, ILogger logger)
    {
        Config = config;
        Format = format;
        Encoding = encoding;
        Output = output;
        _logger = logger;
    }

    public StreamConfig Config { get; }

    public OutputFormat Format { get; }

    /// <summary>The encoders the stream's codec directives name (checked at start-up).</summary>
    public StreamEncoding Encoding { get; }

    /// <summary>The feed the stream's viewers read.</summary>
    public Feed Output { get; }

    public string Name => Config.Name;

    public RenditionMode Mode { get; private set; }

    public RenditionPlan? Plan { get; private set; }

    /// <summary>ffmpeg's reason when the stream's encoder fails every time it starts; null otherwise.</summary>
    public string? Failure => Output.Unavailable;

    /// <summary>Tells the stream's viewers that its encoder fails (null: it works again, or the session ended).</summary>
    internal void SetFailure(string? reason) => Output.Unavailable = reason is null ? null : $"its encoder fails: {reason}";

    /// <summary>Decides, for a session with these source tracks, what the stream passes and what it encodes.</summary>
    internal RenditionPlan Decide(IReadOnlyList<TrackInfo> tracks)
    {
        var leftOut = new List<TrackInfo>();
        var plan = RenditionPlanner.Plan(Config, Format, Encoding, tracks, leftOut);
        foreach (var track in leftOut)
        {
            LogCannotCarry(_logger, Name, track.ToString(), Format.Name);
        }

        return plan;
    }

    /// <summary>Starts passing the source's packets for a session (on the source's ingest thread).</summary>
    internal void StartPassThrough(RenditionPlan plan, int sourceTrackCount)
    {
        Plan = plan;
        Mode = RenditionMode.PassThrough;
        _map = Enumerable.Repeat(-1, sourceTrackCount).ToArray();
        var tracks = new List<TrackInfo>();
        foreach (var track in new[] { plan.Video, plan.Audio }.OfType<TrackInfo>().OrderBy(t => t.Index))
        {
            _map[track.Index] = tracks.Count;
            tracks.Add(track with { Index = tracks.Count });
        }

        _tracks = tracks;
        _passThrough = null;
        LogPassThrough(_logger, Name, string.Join(", ", tracks));
    }

    internal void Forward(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_map.Length || _map[packet.Track] is var track && track < 0)
        {
            return;
        }

        if (_passThrough is null)
        {
            // An encoder of the previous session may still be handing over its last packets.
            _passThrough = Output.TryAcquire(IPAddress.Loopback, "pass-through");
            if (_passThrough is null)
            {
                return;
            }

            _passThrough.OnTracks(_tracks);
        }

        packet.Retain(); // the rendition's feed keeps it: a reference of its own
        _passThrough.Accept(packet.AsTrack(track));
    }

    internal void StartEncoded(RenditionPlan plan)
    {
        Plan = plan;
        Mode = RenditionMode.Encoded;
        LogEncoded(_logger, Name, Config.Location.ToString(), plan.Reason);
    }

    internal void EndSession()
    {
        SetFailure(null);
        _passThrough?.Dispose();
        _passThrough = null;
        _map = [];
        Mode = RenditionMode.Idle;
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "Stream {Stream}: the feed carries what it asks for; passing {Tracks} through unchanged")]
    private static partial void LogPassThrough(ILogger logger, string stream, string tracks);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "Stream {Stream} ({Location}): encoding with ffmpeg: {Reason}")]
    private static partial void LogEncoded(ILogger logger, string stream, string location, string reason);

    [LoggerMessage(EventId = 212, Level = LogLevel.Warning, Message = "Stream {Stream}: feed track {Track} cannot be carried by Format {Format}, and no encoder Sluice knows makes something it carries; the track is left out")]
    private static partial void LogCannotCarry(ILogger logger, string stream, string track, string format);
}
