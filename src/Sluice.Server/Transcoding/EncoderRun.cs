using Microsoft.Extensions.Logging;
using Sluice.Media;
using Sluice.Media.Buffers;

namespace Sluice.Server.Transcoding;

/// <summary>
/// One run of a feed's ffmpeg encoder, composed of its parts: the <see cref="EncoderCommand"/> for the renditions'
/// plans, the <see cref="EncoderProcess"/>, the <see cref="EncoderInput"/> that writes the feed's packets as
/// Matroska on its stdin, the <see cref="EncoderRouter"/> that publishes what it writes on stdout into each
/// rendition's own feed, and the <see cref="EncoderProgress"/> read from its stderr for the status page.
/// </summary>
internal sealed partial class EncoderRun
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly string _feed;
    private readonly string _streams;
    private readonly BlockPool _buffers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly EncoderCommand _command;
    private readonly EncoderInput _input;
    private readonly EncoderRouter _router;
    private readonly EncoderProgress _progress = new();
    private readonly Func<string, bool> _quiet;
    private EncoderProcess? _process;
    private string? _startError;
    private readonly bool _announce;

    /// <param name="quiet">Says of an ffmpeg message whether it is one logged before (by an earlier run failing the same way).</param>
    /// <param name="announce">Whether its start is logged (not while it restarts after a failure, which is logged already).</param>
    public EncoderRun(string feed, IReadOnlyList<TrackInfo> sourceTracks, IReadOnlyList<Rendition> renditions, ILogger logger, TimeProvider time, Func<string, bool>? quiet = null, bool announce = true)
    {
        _announce = announce;
        _feed = feed;
        _streams = string.Join(", ", renditions.Select(r => r.Name));
        _logger = logger;
        _time = time;
        _quiet = quiet ?? (_ => false);
        var plans = renditions.Select(r => r.Plan!).ToList();
        _buffers = renditions[0].Output.Buffers;
        _command = EncoderCommand.Build(plans);
        _input = new EncoderInput(sourceTracks, plans, _buffers, () => LogDropping(_logger, _feed));
        _router = new EncoderRouter(feed, renditions, _command.Outputs, logger);
    }

    public int? ProcessId { get; private set; }

    public DateTimeOffset? Since { get; private set; }

    /// <summary>ffmpeg's encoding speed against real time (1.0 keeps up), from its progress report.</summary>
    public double? Speed => _progress.Speed;

    public long Frames => _progress.Frames;

    /// <summary>The last warning or error line ffmpeg printed, or why it could not run or its output could not be read.</summary>
    public string? LastError => _startError ?? _router.LastError ?? _process?.LastMessage;

    public long DroppedPackets => _input.DroppedPackets;

    /// <summary>Whether any encoded packet reached a rendition's feed in this run.</summary>
    public bool Delivered => _router.Published > 0;

    public string CommandLine => _command.CommandLine;

    /// <summary>Queues the feed's new packet for ffmpeg (on the feed's ingest thread; never waits).</summary>
    public void Feed(MediaPacket packet, Feeds.Feed source) => _input.Feed(packet, source);

    /// <summary>Runs ffmpeg until it exits or <paramref name="stop"/>; returns its exit code, or null when it did not start.</summary>
    public async Task<int?> RunAsync(CancellationToken stop)
    {
        EncoderProcess process;
        try
        {
            process = await EncoderProcess.StartAsync(_command.Arguments, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            _startError = $"could not start ffmpeg: {ex.Message}";
            _input.Release();
            return null;
        }

        using (process)
        {
            _process = process;
            ProcessId = process.Id;
            Since = _time.GetUtcNow();
            if (_announce)
            {
                LogStarted(_logger, _feed, process.Id, _streams, CommandLine);
            }

            var writer = Task.Run(() => _input.WriteAsync(process.Stdin));
            var reader = Task.Run(() => _router.ReadAsync(process.Stdout, _buffers));
            var errors = Task.Run(() => process.ReadErrorsAsync(_progress, _logger, _feed, _streams, _quiet));
            var exitCode = await process.WaitAsync(_input.Complete, stop).ConfigureAwait(false);
            _input.Complete();
            await Task.WhenAll(writer, reader, errors).WaitAsync(DrainTimeout, _time).ConfigureAwait(false);
            _router.ReleasePublishers();
            ProcessId = null;
            return exitCode;
        }
    }

    [LoggerMessage(EventId = 220, Level = LogLevel.Information, Message = "Feed {Feed}: encoder started (process {Pid}) for streams {Streams}: {Command}")]
    private static partial void LogStarted(ILogger logger, string feed, int pid, string streams, string command);

    [LoggerMessage(EventId = 222, Level = LogLevel.Warning, Message = "Feed {Feed}: the encoder does not keep up; dropping packets up to the next keyframe")]
    private static partial void LogDropping(ILogger logger, string feed);
}
