using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Media.Buffers;
using Sluice.Media.Formats;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;
using Sluice.Server.Sources;
using Sluice.Server.Streams;
using Sluice.Server.Transcoding;

namespace Sluice.Server;

/// <summary>
/// The running server's state for one configuration: its feeds, the live streams reading them, the
/// limits and connections. Knows nothing of Kestrel; the HTTP side is in <see cref="Hosting"/>, whose wiring
/// (<c>Hosting/EndpointWiring.cs</c>) gives each endpoint the few of these parts it uses.
/// </summary>
internal sealed class SluiceServer : IDisposable
{
    public SluiceServer(ServerConfig config, ILoggerFactory loggers, TimeProvider? time = null, EncoderCheck.Result? encoding = null)
    {
        Buffers = new BlockPool();
        Config = config;
        Time = time ?? TimeProvider.System;
        Started = Time.GetUtcNow();
        Loggers = loggers;
        Limits = new Limits(config, Time);
        Admission = new Admission(Limits);
        ViewerPolicy = new ViewerPolicy
        {
            SlowViewerTimeout = TimeSpan.FromSeconds(config.SlowViewerTimeout),
            UnavailableLog = ProgressiveViewer.UnavailableLog(Time, loggers.CreateLogger("Sluice.Viewer")),
        };
        AccessLog = AccessLog.Open(config.CustomLog);

        var feedLogger = loggers.CreateLogger("Sluice.Feed");
        var feeds = config.Feeds.ToFrozenDictionary(f => f.Name, f => new Feed(f, feedLogger, Time, Buffers, OpenFeedFile(f, feedLogger)), StringComparer.Ordinal);
        var streams = new Dictionary<string, LiveStream>(StringComparer.Ordinal);
        var rtmpStreams = new Dictionary<string, LiveStream>(StringComparer.Ordinal);
        var renditions = new Dictionary<string, List<Rendition>>(StringComparer.Ordinal);
        var streamLogger = loggers.CreateLogger("Sluice.Stream");
        var hlsLogger = loggers.CreateLogger("Sluice.Hls");
        var segmenters = new Dictionary<string, HlsSegmenter>(StringComparer.Ordinal);
        var fileFeeds = new Dictionary<string, Feed>(StringComparer.Ordinal);
        var sources = new Dictionary<string, FileSource>(StringComparer.Ordinal);
        foreach (var stream in config.Streams)
        {
            Feed? feed;
            if (stream.SourceFile is { } path && !stream.IsStatus)
            {
                // A file stream reads a feed of its own, which its file source publishes into: from there on it is
                // served exactly as a stream of a feed (its muxer, HLS and DASH, RTMP, the transcoder).
                feed = new Feed(new FeedConfig { Name = $"{stream.Name} (file)", Location = stream.Location }, loggers.CreateLogger("Sluice.Feed"), Time, Buffers);
                fileFeeds[feed.Name] = feed;
                string name = stream.Name;
                sources[name] = new FileSource(name, path, () => FileReaders.Open(path, Buffers), !stream.NoLoop, feed, Time,
                    loggers.CreateLogger("Sluice.Source"), reason => EndStream(name, reason))
                {
                    OnDemand = stream.OnDemand is { } linger ? TimeSpan.FromSeconds(linger) : null,
                };
            }
            else if (stream.IsStatus || stream.Feed is null || !feeds.TryGetValue(stream.Feed, out feed))
            {
                continue;
            }

            // The parser takes no Format but status and OutputFormat's names, so every other stream has its writer.
            var format = OutputFormat.Find(stream.Format)
                ?? throw new ArgumentException($"{stream.Location}: <Stream {stream.Name}> has Format {stream.Format}, which Sluice does not write", nameof(config));

            // Each stream reads a feed of its own, fed with the source's packets or with what ffmpeg encodes from them.
            var output = new Feed(feed.Config with { Name = $"{stream.Name} (output)", Launch = [], File = null }, NullLogger.Instance, Time, Buffers);
            var rendition = new Rendition(stream, format, encoding?.For(stream.Name) ?? StreamEncoding.None, output, streamLogger);
            (renditions.TryGetValue(feed.Name, out var list) ? list : renditions[feed.Name] = []).Add(rendition);
            var writeInterval = TimeSpan.FromSeconds(stream.ViewerWriteInterval ?? config.ViewerWriteInterval);
            streams[stream.Name] = new LiveStream(stream, output, format, streamLogger, holdAudioForVideo: true, time: Time, writeInterval: writeInterval);
            if (format.MuxedByFfmpeg is not null)
            {
                // ffmpeg writes the stream's container from the feed's packets: nothing else of Sluice's serves it.
                continue;
            }

            if (config.RTMPPort is not null && format.Codecs.Any(OutputFormat.Rtmp.CanCarry))
            {
                // RTMP players of the stream read the same output feed, muxed once more into RTMP chunks.
                rtmpStreams[stream.Name] = new LiveStream(stream, output, OutputFormat.Rtmp, streamLogger, holdAudioForVideo: true, time: Time);
            }

            if (stream.Hls.Enabled || format.IsSegmentedOnly)
            {
                // DASH shares the CMAF segments: a dash stream has them whatever HLSFormat says.
                var hls = format == OutputFormat.Dash ? stream with { Hls = stream.Hls with { SegmentFormat = "fmp4" } } : stream;
                segmenters[stream.Name] = new HlsSegmenter(hls, output, hlsLogger, Time);
            }
        }

        Directory = new StreamDirectory(
            feeds,
            streams.ToFrozenDictionary(StringComparer.Ordinal),
            rtmpStreams.ToFrozenDictionary(StringComparer.Ordinal),
            segmenters.ToFrozenDictionary(StringComparer.Ordinal));
        Sources = sources.ToFrozenDictionary(StringComparer.Ordinal);
        Transcoders = renditions.ToFrozenDictionary(
            r => r.Key,
            r => new FeedTranscoder(feeds.TryGetValue(r.Key, out var feed) ? feed : fileFeeds[r.Key], r.Value, loggers.CreateLogger("Sluice.Encoder"), Time),
            StringComparer.Ordinal);
    }

    /// <summary>A feed's File or ReadOnlyFile, opened (and recovered) before anything is served; the validator has checked its path.</summary>
    private FeedFile? OpenFeedFile(FeedConfig feed, ILogger logger)
    {
        if (feed.File is null)
        {
            return null;
        }

        try
        {
            return FeedFile.Open(feed, logger, Time);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{feed.FileLocation}: <Feed {feed.Name}>: its file {feed.File} cannot be opened: {ex.Message}", nameof(feed), ex);
        }
    }

    /// <summary>The file source of each stream that plays a file, by the stream's name.</summary>
    public FrozenDictionary<string, FileSource> Sources { get; }

    /// <summary>Starts every file stream's source (the server has started).</summary>
    public void StartSources()
    {
        foreach (var source in Sources.Values)
        {
            source.Start();
        }
    }

    /// <summary>Stops every file stream's source; completes when they have stopped.</summary>
    public Task StopSourcesAsync() => Task.WhenAll(Sources.Values.Select(s => s.StopAsync()));

    /// <summary>A file stream's source has ended for good: its viewers' responses end, and new viewers are told why.</summary>
    private void EndStream(string name, string reason)
    {
        foreach (var streams in new[] { Streams, RtmpStreams })
        {
            if (streams.TryGetValue(name, out var stream))
            {
                stream.Feed.Unavailable = $"Stream {name} has ended: {reason}";
                stream.EndOutput();
            }
        }
    }

    /// <summary>
    /// Pooled blocks for every packet payload its demuxers copy and every piece of framing its muxers write: a block
    /// goes back when the last ring, segment, queue or viewer holding a piece of it lets go.
    /// </summary>
    public BlockPool Buffers { get; }

    /// <summary>Per feed with streams: what each stream reads, and the feed's encoder.</summary>
    public FrozenDictionary<string, FeedTranscoder> Transcoders { get; }

    /// <summary>
    /// Counts a viewer of a stream (an OnDemand stream's encoder, and an OnDemand file stream's source, run while it has
    /// viewers); dispose when it leaves.
    /// </summary>
    public IDisposable? Watch(string stream)
    {
        var source = Sources.TryGetValue(stream, out var file) ? file.Watch() : null;
        var encoder = WatchEncoder(stream);
        return source is null ? encoder : encoder is null ? source : new Watchers(source, encoder);
    }

    private IDisposable? WatchEncoder(string stream)
    {
        foreach (var transcoder in Transcoders.Values)
        {
            foreach (var rendition in transcoder.Renditions)
            {
                if (rendition.Name == stream)
                {
                    return transcoder.Watch(rendition);
                }
            }
        }

        return null;
    }

    private sealed class Watchers(IDisposable source, IDisposable encoder) : IDisposable
    {
        public void Dispose()
        {
            source.Dispose();
            encoder.Dispose();
        }
    }

    /// <summary>Stops every encoder, and the ffmpeg of every stream whose container ffmpeg writes (the server is stopping).</summary>
    public async Task StopEncodersAsync()
    {
        await Task.WhenAll(Transcoders.Values.Select(t => t.DisposeAsync().AsTask()).Concat(Streams.Values.Select(s => s.StopFfmpegAsync()))).ConfigureAwait(false);
    }

    public ServerConfig Config { get; }
    public TimeProvider Time { get; }
    public ILoggerFactory Loggers { get; }
    public Limits Limits { get; }

    /// <summary>Who may publish and who may watch, for every protocol.</summary>
    public Admission Admission { get; }

    public AccessLog? AccessLog { get; }

    /// <summary>The feeds and streams by name, as the endpoints look them up.</summary>
    public StreamDirectory Directory { get; }

    // The directory's, for the host's wiring and for tests.
    public FrozenDictionary<string, Feed> Feeds => Directory.Feeds;
    public FrozenDictionary<string, LiveStream> Streams => Directory.Streams;
    public FrozenDictionary<string, LiveStream> RtmpStreams => Directory.RtmpStreams;
    public FrozenDictionary<string, HlsSegmenter> Segmenters => Directory.Segmenters;
    public ViewerPolicy ViewerPolicy { get; }
    public DateTimeOffset Started { get; }

    /// <summary>
    /// Ends every viewer and publisher connection: their responses never end by themselves, and a server
    /// that stops must not wait for them (nor leave a launched feeder publishing into a closing server).
    /// </summary>
    public void CloseStreamingConnections()
    {
        Limits.Stop();
        foreach (var connection in Limits.Connections)
        {
            if (connection.Kind is ClientKind.Viewer or ClientKind.Publisher)
            {
                connection.Abort?.Invoke();
            }
        }
    }

    /// <summary>
    /// After the server has stopped (every viewer, publisher and encoder gone): the streams, segmenters and feeds let go
    /// of what they keep for the next viewer, so every pooled block goes back to <see cref="Buffers"/>.
    /// </summary>
    public void Dispose()
    {
        foreach (var stream in Streams.Values.Concat(RtmpStreams.Values))
        {
            stream.Close();
        }

        foreach (var segmenter in Segmenters.Values)
        {
            segmenter.Close();
        }

        foreach (var feed in Feeds.Values.Concat(Transcoders.Values.Select(t => t.Source)).Concat(Streams.Values.Select(s => s.Feed)).Distinct())
        {
            feed.ReleaseBuffers();
        }

        foreach (var feed in Feeds.Values)
        {
            feed.File?.Dispose(); // writes what its queue holds, makes it durable, closes
        }

        AccessLog?.Dispose();
        ViewerPolicy.UnavailableLog?.Dispose();
    }
}
