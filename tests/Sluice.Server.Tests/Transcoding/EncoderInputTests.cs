using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Server.Tests.Support;
using Sluice.Server.Transcoding;

namespace Sluice.Server.Tests.Transcoding;

/// <summary>The queue in front of ffmpeg's stdin: the feed never waits, and a full queue skips to the next keyframe.</summary>
public sealed class EncoderInputTests
{
    private static readonly TrackInfo Video = TestTracks.H264;
    private static readonly TrackInfo Audio = TestTracks.Aac;
    private static readonly TrackInfo Subtitles = new() { Index = 2, Kind = MediaKind.Subtitle, Codec = CodecId.Unknown };

    private static MediaPacket Packet(BlockPool pool, int track, long ms, bool key = false)
    {
        var block = pool.Rent(16);
        return new MediaPacket(track, MediaTime.FromMilliseconds(ms), MediaTime.FromMilliseconds(ms), key, block.Array.AsMemory(0, 16), owner: block);
    }

    private static EncoderInput Input(BlockPool pool, int capacity, Action firstDrop) =>
        new([Video, Audio, Subtitles], [new RenditionPlan(Video, Audio, null, null, "")], pool, firstDrop, capacity);

    [Fact]
    public void Only_the_planned_tracks_go_in_renumbered_from_the_first_video_keyframe()
    {
        var pool = new BlockPool();
        var input = Input(pool, 16, () => { });

        Assert.Equal([MediaKind.Video, MediaKind.Audio], input.Tracks.Select(t => t.Kind));
        Send(input, pool, (1, 0, false), (0, 0, false), (0, 40, true), (2, 40, false), (1, 40, false));

        Assert.Equal(2, input.Queued);  // the keyframe and the audio after it
        input.Release();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void A_full_queue_drops_up_to_the_next_keyframe_and_counts_what_it_dropped()
    {
        var pool = new BlockPool();
        int firstDrops = 0;
        var input = Input(pool, 3, () => firstDrops++);

        Send(input, pool, (0, 0, true), (0, 40, false), (1, 40, false));   // the queue is full
        Send(input, pool, (0, 80, false));                                  // dropped: ffmpeg does not keep up
        Send(input, pool, (1, 80, false), (0, 120, false));                 // dropped: no keyframe yet
        Assert.Equal(3, input.Queued);
        Assert.Equal(1, input.DroppedPackets);                              // counted when refused by the full queue

        DrainOne(input);
        Send(input, pool, (0, 160, true));                                  // the next keyframe gets in again
        Assert.Equal(3, input.Queued);
        Send(input, pool, (1, 160, false));                                 // full again: dropped and counted
        Assert.Equal(2, input.DroppedPackets);
        Assert.Equal(1, firstDrops);                                        // said once

        input.Release();
        Assert.Equal(0, pool.Outstanding);
    }

    private static void Send(EncoderInput input, BlockPool pool, params (int Track, long Ms, bool Key)[] packets)
    {
        foreach (var (track, ms, key) in packets)
        {
            var packet = Packet(pool, track, ms, key);
            input.Enqueue(packet);  // lent, as a feed lends it to its listeners
            packet.Release();
        }
    }

    private static void DrainOne(EncoderInput input)
    {
        Assert.True(input.TryDequeue(out var written));  // as the writer takes it for ffmpeg
        written.Release();
    }
}
