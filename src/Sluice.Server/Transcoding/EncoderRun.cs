using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Matroska;
using Sluice.Server.Feeds;
using Sluice.Server.Processes;

using Sluice.Server.Streams;

namespace Sluice.Server.Transcoding;

/// <summary>
/// One run of a feed's ffmpeg encoder: the feed's packets go in as Matroska on its stdin, every encoded stream
/// comes back as tracks of one Matroska on its stdout (one decode of the feed, one output per stream), and each
/// stream's tracks are published to that stream's own feed. Its stderr goes to the server log; the progress
/// lines (-progress) give the speed shown on the status page.
/// </summary>
internal sealed partial class EncoderRun : IPacketSink
{
    /// <summary>Packets waiting for ffmpeg's stdin; past this, packets are dropped up to the next keyframe.</summary>
    private const int InputQueuePackets = 4096;

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly string _feed;
    private readonly IReadOnlyList<Rendition> _renditions;
    private readonly BlockPool _buffers;
    private readonly ILogger _logger;
    private readonly Channel<MediaPacket> _input = Channel.CreateBounded<MediaPacket>(
        new BoundedChannelOptions(InputQueuePackets) { SingleReader = true, SingleWriter = true });

    private readonly int[] _inputMap;          // source track -> input track, -1 when not sent
    private readonly int _inputVideo;          // input index of the video track, -1 when none
    private readonly WebmMuxer _inputMuxer;
    private readonly List<(Rendition Rendition, MediaKind Kind)> _outputs = [];
    private readonly List<string> _arguments;

    private (int Rendition, int Track)[] _route = [];
    private Publisher?[] _publishers = [];
    private int[] _startVideo = [];          // per rendition: output track of the video keyframe it waits for, -1 once started
    private bool _waitingForKeyframe;
    private bool _dropping;
    private long _dropped;
    private readonly TimeProvider _time;

    public EncoderRun(string feed, IReadOnlyList<TrackInfo> sourceTracks, IReadOnlyList<Rendition> renditions, ILogger logger, TimeProvider time)
    {
        _feed = feed;
        _renditions = renditions;
        _logger = logger;
        _time = time;

        // The input: the source's first video and first audio track, as every stream uses them.
        _inputMap = Enumerable.Repeat(-1, sourceTracks.Count).ToArray();
        var input = new List<TrackInfo>();
        foreach (var track in renditions.SelectMany(r => new[] { r.Plan!.Video, r.Plan.Audio }).OfType<TrackInfo>().DistinctBy(t => t.Index).OrderBy(t => t.Index))
        {
            _inputMap[track.Index] = input.Count;
            input.Add(track with { Index = input.Count });
        }

        _inputVideo = input.FindIndex(t => t.Kind == MediaKind.Video);
        _waitingForKeyframe = _inputVideo >= 0;
        _buffers = renditions[0].Output.Buffers;
        _inputMuxer = new WebmMuxer(input, _buffers);
        _arguments = BuildArguments();
    }

    public int? ProcessId { get; private set; }

    public DateTimeOffset? Since { get; private set; }

    /// <summary>ffmpeg's encoding speed against real time (1.0 keeps up), from its progress report.</summary>
    public double? Speed { get; private set; }

    public long Frames { get; private set; }

    /// <summary>The last warning or error line ffmpeg printed, or why it could not run.</summary>
    public string? LastError { get; private set; }

    public long DroppedPackets => Interlocked.Read(ref _dropped);

    // Set on the feed's ingest thread once the packets from the feed's newest keyframe are queued.
    private bool _replayed;

    public string CommandLine => "ffmpeg " + string.Join(' ', _arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) || a.Length == 0 ? $"'{a}'" : a));

    private List<string> BuildArguments()
    {
        var args = new List<string>
        {
            "-hide_banner", "-loglevel", "warning", "-nostats", "-stats_period", "1", "-progress", "pipe:2",
            // Not -fflags +nobuffer: it drops the packets read while probing, the first keyframe among them, and the
            // decoder would wait a whole GOP for the next.
            "-probesize", "32768", "-analyzeduration", "0",
            "-f", "matroska", "-i", "pipe:0",
        };
        int videos = 0, audios = 0;
        foreach (var rendition in _renditions)
        {
            var plan = rendition.Plan!;
            if (plan.Video is not null)
            {
                args.AddRange(["-map", "0:v:0"]);
                args.AddRange(plan.VideoEncoder is { } video ? video.Arguments(videos) : [$"-c:v:{videos}", "copy"]);
                _outputs.Add((rendition, MediaKind.Video));
                videos++;
            }

            if (plan.Audio is not null)
            {
                args.AddRange(["-map", "0:a:0"]);
                args.AddRange(plan.AudioEncoder is { } audio ? audio.Arguments(audios) : [$"-c:a:{audios}", "copy"]);
                _outputs.Add((rendition, MediaKind.Audio));
                audios++;
            }
        }

        args.AddRange(["-max_muxing_queue_size", "4096", "-f", "matroska", "-cluster_time_limit", "100", "-flush_packets", "1", "pipe:1"]);
        return args;
    }

    /// <summary>
    /// Queues the feed's new packet for ffmpeg (on the feed's ingest thread; never waits). A run starts from the feed's
    /// newest keyframe (the packet is in the feed's ring already), so a restarted encoder, or one started for a new
    /// viewer, has pictures to show at once.
    /// </summary>
    public void Feed(MediaPacket packet, Feeds.Feed source)
    {
        if (_replayed)
        {
            Enqueue(packet);
            return;
        }

        _replayed = true;
        foreach (var queued in source.SnapshotFromKeyframe())
        {
            Enqueue(queued);
        }
    }

    /// <summary>Queues a source packet for ffmpeg (on the feed's ingest thread; never waits).</summary>
    private void Enqueue(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_inputMap.Length || _inputMap[packet.Track] is var track && track < 0)
        {
            return;
        }

        bool videoKeyframe = track == _inputVideo && packet.IsKeyframe;
        if (_waitingForKeyframe || _dropping)
        {
            if (!videoKeyframe)
            {
                return;
            }

            _waitingForKeyframe = false;
            _dropping = false;
        }

        var mapped = packet.AsTrack(track);
        mapped.Retain(); // the queue keeps it until it is written to ffmpeg
        if (!_input.Writer.TryWrite(mapped))
        {
            mapped.Release();
            // ffmpeg does not keep up: skip to the next keyframe rather than block the feed.
            _dropping = _inputVideo >= 0;
            if (Interlocked.Increment(ref _dropped) == 1)
            {
                LogDropping(_logger, _feed);
            }
        }
    }

    /// <summary>Runs ffmpeg until it exits or <paramref name="stop"/>; returns its exit code, or null when it did not start.</summary>
    public async Task<int?> RunAsync(CancellationToken stop)
    {
        var info = new ProcessStartInfo(EncoderCheck.Ffmpeg)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = await ChildProcess.StartAsync(info).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LastError = $"could not start ffmpeg: {ex.Message}";
            _input.Writer.TryComplete();
            ReleaseInput();
            return null;
        }

        using (process)
        {
            ProcessId = process.Id;
            Since = _time.GetUtcNow();
            LogStarted(_logger, _feed, process.Id, string.Join(", ", _renditions.Select(r => r.Name)), CommandLine);
            var writer = Task.Run(() => WriteAsync(process.StandardInput.BaseStream));
            var reader = Task.Run(() => ReadAsync(process.StandardOutput.BaseStream));
            var errors = Task.Run(() => ReadErrorsAsync(process.StandardError));
            try
            {
                await process.WaitForExitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The feed ended or the server stops: ffmpeg gets the end of its input and a moment to finish.
                _input.Writer.TryComplete();
                using var grace = new CancellationTokenSource(StopGrace, _time);
                try
                {
                    await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Kill(process);
                }
            }

            _input.Writer.TryComplete();
            await Task.WhenAll(writer, reader, errors).WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
            ReleasePublishers();
            ProcessId = null;
            return process.HasExited ? process.ExitCode : null;
        }
    }

    private async Task WriteAsync(Stream stdin)
    {
        try
        {
            await stdin.WriteAsync(_inputMuxer.Header).ConfigureAwait(false);
            var reader = _input.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var packet))
                {
                    var chunk = _inputMuxer.Write(packet);
                    try
                    {
                        await stdin.WriteAsync(chunk.Prefix).ConfigureAwait(false);
                        await stdin.WriteAsync(chunk.Payload).ConfigureAwait(false);
                    }
                    finally
                    {
                        chunk.Release(); // written (or ffmpeg has gone): the chunk and the queued packet are used nowhere else
                        packet.Release();
                    }
                }

                await stdin.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // ffmpeg has gone; the run ends with its exit.
        }
        finally
        {
            _input.Writer.TryComplete();
            ReleaseInput();
            try
            {
                stdin.Close();
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// After the queue is closed (by its one reader, or before it ever ran): the packets left in it, never written to
    /// ffmpeg, and the input muxer's framing block go back to the pool. Enqueue releases what it can no longer queue.
    /// </summary>
    private void ReleaseInput()
    {
        while (_input.Reader.TryRead(out var left))
        {
            left.Release();
        }

        _inputMuxer.Dispose();
    }

    private async Task ReadAsync(Stream stdout)
    {
        var pipe = PipeReader.Create(stdout);
        using var demuxer = new MatroskaDemuxer(_buffers);
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

    private async Task ReadErrorsAsync(StreamReader stderr)
    {
        try
        {
            while (await stderr.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                int equals = line.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0 && line.AsSpan(0, equals).IndexOfAny(' ', '[') < 0)
                {
                    Progress(line[..equals], line[(equals + 1)..]);
                }
                else if (!string.IsNullOrWhiteSpace(line))
                {
                    LastError = line.Trim();
                    LogOutput(_logger, _feed, string.Join(", ", _renditions.Select(r => r.Name)), line);
                }
            }
        }
        catch (IOException)
        {
        }
    }

    private void Progress(string key, string value)
    {
        switch (key)
        {
            case "speed" when value.EndsWith('x') && double.TryParse(value.AsSpan(0, value.Length - 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double speed):
                Speed = speed;
                break;
            case "frame" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long frames):
                Frames = frames;
                break;
        }
    }

    void IPacketSink.OnTracks(IReadOnlyList<TrackInfo> tracks)
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
            int r = IndexOf(_outputs[i].Rendition);
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

    void IPacketSink.Accept(MediaPacket packet)
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
            publisher.Accept(packet.AsTrack(track)); // the rendition's feed takes the demuxer's reference
        }
        else
        {
            packet.Release();
        }
    }

    private int IndexOf(Rendition rendition)
    {
        for (int i = 0; i < _renditions.Count; i++)
        {
            if (_renditions[i] == rendition)
            {
                return i;
            }
        }

        return -1;
    }

    private void ReleasePublishers()
    {
        foreach (var publisher in _publishers)
        {
            publisher?.Dispose();
        }

        _publishers = [];
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(2000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException)
        {
        }
    }

    [LoggerMessage(EventId = 220, Level = LogLevel.Information, Message = "Feed {Feed}: encoder started (process {Pid}) for streams {Streams}: {Command}")]
    private static partial void LogStarted(ILogger logger, string feed, int pid, string streams, string command);

    [LoggerMessage(EventId = 221, Level = LogLevel.Warning, Message = "Feed {Feed}: encoder for streams {Streams}: {Line}")]
    private static partial void LogOutput(ILogger logger, string feed, string streams, string line);

    [LoggerMessage(EventId = 222, Level = LogLevel.Warning, Message = "Feed {Feed}: the encoder does not keep up; dropping packets up to the next keyframe")]
    private static partial void LogDropping(ILogger logger, string feed);

    [LoggerMessage(EventId = 223, Level = LogLevel.Error, Message = "Feed {Feed}: encoder output: {Reason}")]
    private static partial void LogBadOutput(ILogger logger, string feed, string reason);

    [LoggerMessage(EventId = 224, Level = LogLevel.Warning, Message = "Stream {Stream}: its feed is still held by the previous session; this encoder run's packets for it are dropped")]
    private static partial void LogBusy(ILogger logger, string stream);
}
