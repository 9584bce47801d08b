using System.Threading.Channels;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Server.Transcoding;

/// <summary>
/// What one encoder run reads on its stdin: the source's packets of the tracks its renditions use, renumbered
/// (the first video and the first audio track), muxed as Matroska. Packets wait in a bounded queue between the
/// feed's ingest thread, which never waits for ffmpeg, and the writer; when the queue is full the packets up to
/// the next video keyframe are dropped (counted), so ffmpeg decodes on from a picture it can start at.
/// </summary>
internal sealed class EncoderInput
{
    /// <summary>Packets waiting for ffmpeg's stdin by default; past this, packets are dropped up to the next keyframe.</summary>
    public const int DefaultQueuePackets = 4096;

    private readonly Channel<MediaPacket> _queue;
    private readonly int[] _map;             // source track -> input track, -1 when not sent
    private readonly int _video;             // input index of the video track, -1 when none
    private readonly WebmMuxer _muxer;
    private readonly Action _firstDrop;
    private bool _waitingForKeyframe;
    private bool _dropping;
    private bool _replayed;                  // set on the ingest thread once the feed's newest keyframe on is queued
    private long _dropped;

    /// <param name="firstDrop">Called (on the ingest thread) when the first packet is dropped.</param>
    public EncoderInput(IReadOnlyList<TrackInfo> sourceTracks, IReadOnlyList<RenditionPlan> plans, BlockPool buffers, Action firstDrop, int queuePackets = DefaultQueuePackets)
    {
        _queue = Channel.CreateBounded<MediaPacket>(new BoundedChannelOptions(queuePackets) { SingleReader = true, SingleWriter = true });
        _firstDrop = firstDrop;
        _map = Enumerable.Repeat(-1, sourceTracks.Count).ToArray();
        var tracks = new List<TrackInfo>();
        foreach (var track in plans.SelectMany(p => new[] { p.Video, p.Audio }).OfType<TrackInfo>().DistinctBy(t => t.Index).OrderBy(t => t.Index))
        {
            _map[track.Index] = tracks.Count;
            tracks.Add(track with { Index = tracks.Count });
        }

        Tracks = tracks;
        _video = tracks.FindIndex(t => t.Kind == MediaKind.Video);
        _waitingForKeyframe = _video >= 0;
        _muxer = new WebmMuxer(tracks, buffers);
    }

    /// <summary>The tracks ffmpeg reads, numbered as it sees them.</summary>
    public IReadOnlyList<TrackInfo> Tracks { get; }

    public long DroppedPackets => Interlocked.Read(ref _dropped);

    /// <summary>Packets queued and not yet written.</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>
    /// Queues the feed's new packet (on the feed's ingest thread; never waits). A run starts from the feed's newest
    /// keyframe (the packet is in the feed's ring already), so a restarted encoder, or one started for a new viewer,
    /// has pictures to show at once.
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

    /// <summary>Queues a source packet (lent: the queue takes a reference of its own); never waits.</summary>
    public void Enqueue(MediaPacket packet)
    {
        if ((uint)packet.Track >= (uint)_map.Length || _map[packet.Track] is var track && track < 0)
        {
            return;
        }

        bool videoKeyframe = track == _video && packet.IsKeyframe;
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
        if (!_queue.Writer.TryWrite(mapped))
        {
            mapped.Release();
            // ffmpeg does not keep up: skip to the next keyframe rather than block the feed.
            _dropping = _video >= 0;
            if (Interlocked.Increment(ref _dropped) == 1)
            {
                _firstDrop();
            }
        }
    }

    /// <summary>The oldest queued packet, now the caller's to write and release.</summary>
    public bool TryDequeue(out MediaPacket packet) => _queue.Reader.TryRead(out packet);

    /// <summary>Ends the input: the writer finishes what is queued, and ffmpeg gets the end of its stdin.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes the header and then every queued packet to ffmpeg's stdin until the input is completed or ffmpeg goes.</summary>
    public async Task WriteAsync(Stream stdin)
    {
        try
        {
            await stdin.WriteAsync(_muxer.Header).ConfigureAwait(false);
            var reader = _queue.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (TryDequeue(out var packet))
                {
                    var chunk = _muxer.Write(packet);
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
            Release();
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
    /// Closes the queue and gives back what it holds (by its one reader, or when the run never started): the
    /// packets never written to ffmpeg and the muxer's framing block. <see cref="Enqueue"/> releases what it can no
    /// longer queue.
    /// </summary>
    public void Release()
    {
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
        {
            left.Release();
        }

        _muxer.Dispose();
    }
}
