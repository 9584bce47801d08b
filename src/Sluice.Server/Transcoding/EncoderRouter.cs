using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Matroska;
using Sluice.Server.Feeds;

namespace Sluice.Server.Transcoding;

/// <summary>
/// Reads what one encoder run writes on its stdout (one Matroska, its tracks in the order of the command's
/// outputs) and publishes each rendition's tracks into that rendition's own feed. A rendition starts at its first
/// video keyframe: what comes before it (audio the encoder hands out earlier, pictures that depend on others) is
/// dropped.
/// </summary>
internal sealed partial class EncoderRouter : IPacketSink
{
    private readonly string _feed;
    private readonly IReadOnlyList<Rendition> _renditions;
    private readonly IReadOnlyList<EncoderOutput> _outputs;
    private readonly ILogger _logger;
    private (int Rendition, int Track)[] _route = [];
    private Publisher?[] _publishers = [];
    private int[] _startVideo = [];          // per rendition: output track of the video keyframe it waits for, -1 once started
    private long _published;

    public EncoderRouter(string feed, IReadOnlyList<Rendition> renditions, IReadOnlyList<EncoderOutput> outputs, ILogger logger)
    {
        _feed = feed;
        _renditions = renditions;
        _outputs = outputs;
        _logger = logger;
    }

    /// <summary>Packets published into the renditions' feeds so far.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Why the output could not be read or routed, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Demuxes ffmpeg's stdout into this router until it ends.</summary>
    public async Task ReadAsync(Stream stdout, BlockPool buffers)
    {
        var pipe = PipeReader.Create(stdout);
        using var demuxer = new MatroskaDemuxer(buffers);
        try
        {
            while (true)
            {
                var result = await pipe.ReadAsync().ConfigureAwait(false);
                var consumed = demuxer.Read(result.Buffer, this);
                if (result.IsCompleted)
                {
                    break;
                }

                pipe.AdvanceTo(consumed, result.Buffer.End);
            }
        }
        catch (MediaFormatException ex)
        {
            LastError = $"unreadable output: {ex.Message}";
            LogBadOutput(_logger, _feed, ex.Message);
        }
        catch (IOException)
        {
        }
        finally
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    public void OnTracks(IReadOnlyList<TrackInfo> tracks)
    {
        if (tracks.Count != _outputs.Count)
        {
            LastError = $"ffmpeg wrote {tracks.Count} tracks, {_outputs.Count} expected";
            LogBadOutput(_logger, _feed, LastError);
            return;
        }

        _route = new (int, int)[tracks.Count];
        var lists = _renditions.Select(_ => new List<TrackInfo>()).ToArray();
        for (int i = 0; i < tracks.Count; i++)
        {
            int r = _outputs[i].Rendition;
            _route[i] = (r, lists[r].Count);
            lists[r].Add(tracks[i] with { Index = lists[r].Count });
        }

        // Each stream's part of the run starts at its first video keyframe: packets before it (audio the encoder
        // hands out earlier) would anchor the stream's continued timeline at a time no viewer sees.
        _startVideo = new int[_renditions.Count];
        for (int r = 0; r < _renditions.Count; r++)
        {
            _startVideo[r] = lists[r].FindIndex(t => t.Kind == MediaKind.Video);
        }

        _publishers = new Publisher?[_renditions.Count];
        for (int r = 0; r < _renditions.Count; r++)
        {
            var publisher = _renditions[r].Output.TryAcquire(IPAddress.Loopback, "encoder");
            if (publisher is null)
            {
                LogBusy(_logger, _renditions[r].Name);
                continue;
            }

            publisher.Format = "Matroska (ffmpeg)";
            publisher.OnTracks(lists[r]);
            _publishers[r] = publisher;
        }
    }

    public void Accept(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_route.Length)
        {
            packet.Release();
            return;
        }

        var (r, track) = _route[packet.Track];
        if (_startVideo[r] >= 0)
        {
            if (track != _startVideo[r] || !packet.IsKeyframe)
            {
                packet.Release();
                return;
            }

            _startVideo[r] = -1;
        }

        if (_publishers[r] is { } publisher)
        {
            publisher.AddBytes(packet.Payload.Length);
            Interlocked.Increment(ref _published);
            publisher.Accept(packet.AsTrack(track)); // the rendition's feed takes the demuxer's reference
        }
        else
        {
            packet.Release();
        }
    }

    /// <summary>Ends the run's sessions of the renditions' feeds (their viewers go on with the next run's).</summary>
    public void ReleasePublishers()
    {
        foreach (var publisher in _publishers)
        {
            publisher?.Dispose();
        }

        _publishers = [];
    }

    [LoggerMessage(EventId = 223, Level = LogLevel.Error, Message = "Feed {Feed}: encoder output: {Reason}")]
    private static partial void LogBadOutput(ILogger logger, string feed, string reason);

    [LoggerMessage(EventId = 224, Level = LogLevel.Warning, Message = "Stream {Stream}: its feed is still held by the previous session; this encoder run's packets for it are dropped")]
    private static partial void LogBusy(ILogger logger, string stream);
}
