using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Server.Tests.Support;

namespace Sluice.Server.Tests.Feeds;

public sealed class FeedFileTests : IDisposable
{
    private static readonly TrackInfo Video = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240, CodecPrivate = new byte[] { 1, 2, 3 } };
    private static readonly TrackInfo Audio = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Opus, SampleRate = 48000, Channels = 2, CodecPrivate = new byte[19] };
    private static readonly TrackInfo H264 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.H264, Width = 640, Height = 360 };
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-feedfile-").FullName;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string FilePath => Path.Combine(_dir, "feed.sff");

    private FeedConfig Config(long maxSize = 1024 * 1024, bool readOnly = false, bool truncate = false) =>
        new() { Name = "feed.ffm", File = FilePath, FileMaxSize = maxSize, ReadOnly = readOnly, Truncate = truncate };

    /// <summary>A packet of 30 fps video (a keyframe every <paramref name="gop"/> frames) or of audio between, its payload saying which it is.</summary>
    private static MediaPacket Frame(int n, int gop = 30, int size = 200, int track = 0)
    {
        var payload = new byte[size];
        BitConverter.TryWriteBytes(payload, n);
        payload[4] = (byte)track;
        long dts = n * 3000L;
        return new MediaPacket(track, dts, dts, track == 0 && n % gop == 0, payload, duration: 3000);
    }

    private static void Write(FeedFile file, int from, int count, int gop = 30, int size = 200)
    {
        for (int n = from; n < from + count; n++)
        {
            var p = Frame(n, gop, size);
            file.Enqueue(in p, p.IsKeyframe, n);
        }

        Assert.True(file.Drain(Wait));
    }

    private static List<MediaPacket> ReadAll(FeedFileReader reader, out FeedReadResult end)
    {
        var packets = new List<MediaPacket>();
        while ((end = reader.TryRead(out var p)) == FeedReadResult.Packet)
        {
            packets.Add(p);
            p.Release();
        }

        return packets;
    }

    [Fact]
    public void Packets_and_tracks_come_back_from_the_file_after_a_restart()
    {
        using (var file = FeedFile.Open(Config(), NullLogger.Instance, _time))
        {
            file.OnSession([Video, Audio], truncate: false);
            for (int n = 0; n < 100; n++)
            {
                var v = Frame(n);
                file.Enqueue(in v, v.IsKeyframe, 2 * n);
                var a = Frame(n, size: 50, track: 1);
                file.Enqueue(in a, false, (2 * n) + 1);
            }

            Assert.True(file.Drain(Wait));
            Assert.Equal(FeedFileState.Writing, file.State);
        }

        var log = new ListLogger();
        using var reopened = FeedFile.Open(Config(), log, _time);
        Assert.Contains(log.Entries, e => e.Id == 102 && e.Message.Contains("200 packets", StringComparison.Ordinal));
        Assert.Equal(2, reopened.Tracks.Count);
        Assert.True(reopened.Tracks[0].IsCompatibleWith(Video) && reopened.Tracks[1].IsCompatibleWith(Audio));
        Assert.Equal(Audio.CodecPrivate.ToArray(), reopened.Tracks[1].CodecPrivate.ToArray());
        Assert.Equal(99 * 3000L, reopened.ReopenedLastDts);
        Assert.Equal(200, reopened.ReopenedFeedSequence);

        using var reader = reopened.OpenReader();
        Assert.Equal(FeedSeekResult.Found, reader.Seek(0));
        var packets = ReadAll(reader, out var end);
        Assert.Equal(FeedReadResult.CaughtUp, end);
        Assert.Equal(200, packets.Count);
        for (int n = 0; n < 100; n++)
        {
            var (v, a) = (packets[2 * n], packets[(2 * n) + 1]);
            Assert.Equal(Frame(n).Payload.ToArray(), v.Payload.ToArray());
            Assert.Equal((n * 3000L, 0, n % 30 == 0, 3000L), (v.Dts, v.Track, v.IsKeyframe, v.Duration));
            Assert.Equal((1, 50), (a.Track, a.Payload.Length));
        }

        Assert.Equal(200, reader.NextFeedSequence);
    }

    [Fact]
    public void The_ring_wraps_at_FileMaxSize_and_the_oldest_packets_are_the_ones_gone()
    {
        const long max = 64 * 1024;
        using (var file = FeedFile.Open(Config(max), NullLogger.Instance, _time))
        {
            file.OnSession([Video], truncate: false);
            for (int round = 0; round < 20; round++)
            {
                Write(file, round * 50, 50, gop: 10, size: 500);
                Assert.True(new FileInfo(FilePath).Length <= max, $"{new FileInfo(FilePath).Length} bytes after round {round}");
            }

            // 1000 packets of 564 bytes in 64 KiB: about 100 fit; the oldest GOP left is a recent one.
            var oldest = file.Oldest!.Value.Dts;
            Assert.InRange(oldest, 880 * 3000L, 990 * 3000L);
            using var reader = file.OpenReader();
            Assert.Equal(FeedSeekResult.Oldest, reader.Seek(0));
            var packets = ReadAll(reader, out _);
            Assert.Equal(oldest, packets[0].Dts);
            Assert.Equal(999 * 3000L, packets[^1].Dts);
            Assert.Equal(Enumerable.Range((int)(oldest / 3000), packets.Count).Select(n => n * 3000L), packets.Select(p => p.Dts));
        }

        Assert.True(new FileInfo(FilePath).Length <= max);
        using var reopened = FeedFile.Open(Config(max), NullLogger.Instance, _time);
        using var again = reopened.OpenReader();
        again.Seek(0);
        var after = ReadAll(again, out _);
        Assert.Equal(999 * 3000L, after[^1].Dts);
        Assert.True(after.Count > 80, $"{after.Count} packets after reopening a wrapped file");
    }

    [Fact]
    public void A_file_cut_mid_packet_by_hand_is_cut_at_its_last_complete_packet_on_start_up_and_served()
    {
        long lastStart;
        using (var file = FeedFile.Open(Config(), NullLogger.Instance, _time))
        {
            file.OnSession([Video], truncate: false);
            Write(file, 0, 60);
            lastStart = new FileInfo(FilePath).Length - (FeedFileFormat.RecordHeaderSize + 200);
        }

        using (var stream = new FileStream(FilePath, FileMode.Open))
        {
            stream.SetLength(stream.Length - 77); // the server killed in the middle of writing the last packet
        }

        var log = new ListLogger();
        using var reopened = FeedFile.Open(Config(), log, _time);
        var cut = Assert.Single(log.Entries, e => e.Id == 104);
        Assert.Contains($"cut at offset {lastStart}", cut.Message, StringComparison.Ordinal);
        Assert.Equal(lastStart, new FileInfo(FilePath).Length);
        using var reader = reopened.OpenReader();
        reader.Seek(0);
        var packets = ReadAll(reader, out _);
        Assert.Equal(59, packets.Count);
        Assert.Equal(58 * 3000L, packets[^1].Dts);

        // And the next packets go on right after the last complete one.
        reopened.OnSession([Video], truncate: false);
        Write(reopened, 60, 30);
        var more = ReadAll(reader, out _);
        Assert.Equal(60 * 3000L, more[0].Dts);
    }

    [Fact]
    public void In_a_wrapped_file_records_after_the_last_checkpoint_are_recovered_and_a_torn_one_ends_the_ring_there()
    {
        const long max = 64 * 1024;
        using (var file = FeedFile.Open(Config(max), NullLogger.Instance, _time))
        {
            file.OnSession([Video], truncate: false);
            Write(file, 0, 300, gop: 10, size: 500); // about three laps
        }

        // As a server killed after writing two more records and in the middle of a third, with no checkpoint since.
        using (var stream = new FileStream(FilePath, FileMode.Open))
        {
            var header = new byte[FeedFileFormat.Alignment];
            stream.ReadExactly(header);
            FeedFileFormat.ReadHeader(header, out var checkpoint, out _);
            Assert.True(checkpoint.Lap >= 2, $"lap {checkpoint.Lap}");
            long at = checkpoint.Head;
            for (int i = 0; i < 3; i++)
            {
                var p = Frame(300 + i, gop: 10, size: 500);
                var record = new byte[FeedFileFormat.RecordHeaderSize + 500];
                FeedFileFormat.WriteRecordHeader(record, new FeedFileFormat.RecordHeader(FeedFileFormat.PacketMagic, 500, checkpoint.NextSequence + (ulong)i, 300 + i, p.Dts, p.Pts, 3000, 0, 0, p.IsKeyframe, p.IsKeyframe));
                p.Payload.Span.CopyTo(record.AsSpan(FeedFileFormat.RecordHeaderSize));
                FeedFileFormat.SealRecord(record, record.AsSpan(FeedFileFormat.RecordHeaderSize));
                if (i == 2)
                {
                    record[^1] ^= 0xFF; // torn: its last bytes never reached the disk
                }

                stream.Position = at;
                stream.Write(record);
                at += record.Length;
            }
        }

        long length = new FileInfo(FilePath).Length;
        var log = new ListLogger();
        using var reopened = FeedFile.Open(Config(max), log, _time);
        Assert.Contains(log.Entries, e => e.Id == 104);
        Assert.Equal(301 * 3000L, reopened.ReopenedLastDts);
        Assert.Equal(length, new FileInfo(FilePath).Length); // a later lap: nothing cut off the end, the head is set there
        using var reader = reopened.OpenReader();
        reader.Seek(0);
        var packets = ReadAll(reader, out _);
        Assert.Equal(301 * 3000L, packets[^1].Dts);

        reopened.OnSession([Video], truncate: false);
        Write(reopened, 302, 5, gop: 10, size: 500);
        Assert.Equal(Enumerable.Range(302, 5).Select(n => n * 3000L), ReadAll(reader, out _).Select(p => p.Dts));
    }

    [Fact]
    public void A_file_with_other_tracks_is_renamed_aside_not_deleted_and_a_new_one_begun()
    {
        using (var file = FeedFile.Open(Config(), NullLogger.Instance, _time))
        {
            file.OnSession([Video, Audio], truncate: false);
            Write(file, 0, 40);
        }

        long oldLength = new FileInfo(FilePath).Length;
        var log = new ListLogger();
        using var reopened = FeedFile.Open(Config(), log, _time);
        reopened.OnSession([H264], truncate: false);
        Assert.True(reopened.Drain(Wait));

        string aside = Assert.Single(Directory.GetFiles(_dir, "feed.sff.*.aside"));
        Assert.Equal(oldLength, new FileInfo(aside).Length);
        var renamed = Assert.Single(log.Entries, e => e.Id == 105);
        Assert.Contains($"renamed aside to {aside}", renamed.Message, StringComparison.Ordinal);
        Assert.Contains("other tracks", renamed.Message, StringComparison.Ordinal);
        Assert.Equal(CodecId.H264, Assert.Single(reopened.Tracks).Codec);
        Assert.Equal(0, reopened.Packets);
    }

    [Fact]
    public void A_second_writer_of_the_same_file_is_refused_while_the_first_has_it()
    {
        using var first = FeedFile.Open(Config(), NullLogger.Instance, _time);
        Assert.ThrowsAny<IOException>(() => FeedFile.Open(Config(), NullLogger.Instance, _time));
    }

    [Fact]
    public void A_file_that_is_no_feed_file_is_renamed_aside_at_start_up()
    {
        File.WriteAllText(FilePath, "FFM2 and then some bytes of an ffserver feed file");
        var log = new ListLogger();
        using var file = FeedFile.Open(Config(), log, _time);
        Assert.Single(Directory.GetFiles(_dir, "feed.sff.*.aside"));
        Assert.Contains(log.Entries, e => e.Id == 105 && e.Message.Contains("not a Sluice feed file", StringComparison.Ordinal));
        Assert.Equal(0, new FileInfo(FilePath).Length);
    }

    [Fact]
    public void Seek_finds_the_keyframe_at_or_before_a_time_through_the_sparse_index()
    {
        using var file = FeedFile.Open(Config(), NullLogger.Instance, _time);
        file.OnSession([Video], truncate: false);
        Write(file, 0, 600, gop: 6); // a keyframe every 0.2 s: the index keeps one at least a half second after the last

        Assert.True(file.Index.Count is > 30 and < 40, $"{file.Index.Count} index entries for 100 keyframes");
        using var reader = file.OpenReader();
        foreach (int frame in new[] { 0, 1, 5, 6, 7, 100, 131, 299, 599 })
        {
            Assert.Equal(FeedSeekResult.Found, reader.Seek(frame * 3000L));
            Assert.Equal(FeedReadResult.Packet, reader.TryRead(out var p));
            Assert.True(p.IsKeyframe);
            Assert.Equal(frame / 6 * 6 * 3000L, p.Dts);
        }

        Assert.Equal(FeedSeekResult.Oldest, reader.Seek(-1));

        // By wall-clock time too (what ?date= names): every packet here was received at the same instant.
        Assert.Equal(FeedSeekResult.Found, reader.Seek(_time.GetUtcNow()));
        Assert.Equal(FeedSeekResult.Oldest, reader.Seek(_time.GetUtcNow().AddSeconds(-1)));
    }

    [Fact]
    public void A_reader_overtaken_by_the_writer_s_wrap_is_told_so()
    {
        using var file = FeedFile.Open(Config(64 * 1024), NullLogger.Instance, _time);
        file.OnSession([Video], truncate: false);
        Write(file, 0, 60, gop: 10, size: 500);
        using var reader = file.OpenReader();
        reader.Seek(0);
        Assert.Equal(FeedReadResult.Packet, reader.TryRead(out var first));
        Assert.Equal(0, first.Dts);

        Write(file, 60, 300, gop: 10, size: 500); // more than the ring holds: what the reader was to read is gone
        Assert.Equal(FeedReadResult.Overtaken, reader.TryRead(out _));
        Assert.Equal(FeedReadResult.Overtaken, reader.TryRead(out _)); // until it seeks again
        Assert.Equal(FeedSeekResult.Oldest, reader.Seek(0));
        Assert.Equal(FeedReadResult.Packet, reader.TryRead(out var oldest));
        Assert.Equal(file.Oldest!.Value.Dts, oldest.Dts);
    }

    [Fact]
    public void A_full_writer_queue_drops_file_writes_and_counts_them_and_the_live_feed_keeps_every_packet()
    {
        var log = new ListLogger();
        var file = FeedFile.Open(Config(), log, _time, queueCapacity: 8, startWriter: false);
        var feed = new Feed(Config(), NullLogger.Instance, _time, file: file);
        var seen = new Recorder();
        feed.Subscribe(seen);
        using (var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([Video]); // the session takes a slot of the queue
            for (int n = 0; n < 30; n++)
            {
                publisher.Accept(Frame(n, gop: 10));
            }
        }

        Assert.Equal(30, seen.Count);
        Assert.Equal(30, feed.PacketsReceived);
        Assert.Equal(23, file.QueueDropped);
        Assert.Single(log.Entries, e => e.Id == 108);
        file.OnSession([Video], truncate: false); // a session start never waits for the writer, however full its queue

        file.StartWriter();
        Assert.True(file.Drain(Wait));
        Assert.Equal(7, file.Written);
        using (var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([Video]);
            Assert.True(file.Drain(Wait));
            for (int n = 30; n < 45; n++)
            {
                publisher.Accept(Frame(n, gop: 10));
                Assert.True(file.Drain(Wait)); // one at a time: the queue of 8 never fills
            }
        }

        Assert.True(file.Drain(Wait));
        Assert.Equal(7 + 15, file.Written);
        file.Dispose();
    }

    [Fact]
    public void A_reader_that_caught_up_with_the_file_goes_on_in_the_feed_s_ring_without_a_gap_across_a_restart()
    {
        using (var file = FeedFile.Open(Config(), NullLogger.Instance, _time))
        {
            var feed = new Feed(Config(), NullLogger.Instance, _time, file: file);
            using var publisher = feed.TryAcquire(IPAddress.Loopback, "test")!;
            publisher.OnTracks([Video]);
            for (int n = 0; n < 60; n++)
            {
                publisher.Accept(Frame(n));
            }

            Assert.True(file.Drain(Wait));
        }

        using var reopened = FeedFile.Open(Config(), NullLogger.Instance, _time);
        var again = new Feed(Config(), NullLogger.Instance, _time, file: reopened);
        using (var publisher = again.TryAcquire(IPAddress.Loopback, "test")!)
        {
            publisher.OnTracks([Video]);
            for (int n = 0; n < 90; n++)
            {
                publisher.Accept(Frame(n)); // the feed puts them after the file's packets on its time line
            }
        }

        Assert.True(reopened.Drain(Wait));
        using var reader = reopened.OpenReader();
        reader.Seek(0);
        var times = new List<long>();
        for (int i = 0; i < 100 && reader.TryRead(out var p) == FeedReadResult.Packet; i++)
        {
            times.Add(p.Dts);
            p.Release();
        }

        // The reader stops in the second run's packets; the ring has the rest, from the next sequence on.
        var rest = again.SnapshotFromSequence(reader.NextFeedSequence)!;
        times.AddRange(rest.Select(p => p.Dts));
        Assert.Equal(150, times.Count);
        // The second run comes a millisecond after the first's last packet (the feed knows no frame interval across a restart).
        Assert.Equal(Enumerable.Range(0, 60).Select(n => n * 3000L).Concat(Enumerable.Range(0, 90).Select(n => (59 * 3000L) + 90 + (n * 3000L))), times);
        Assert.Null(again.SnapshotFromSequence(10)); // the first run's packets are in the file only
        Assert.Empty(again.SnapshotFromSequence(150)!);
    }

    [Fact]
    public void Truncate_starts_the_file_empty_for_each_new_publisher()
    {
        long before;
        using (var file = FeedFile.Open(Config(truncate: true), NullLogger.Instance, _time))
        {
            file.OnSession([Video], truncate: true);
            Write(file, 0, 100);
            Assert.Equal(100, file.Packets);
            before = new FileInfo(FilePath).Length;
        }

        var log = new ListLogger();
        using var again = FeedFile.Open(Config(truncate: true), log, _time);
        Assert.Equal(100, again.Packets); // reopened as it was, until a publisher comes
        again.OnSession([Video], truncate: true);
        Assert.True(again.Drain(Wait));
        Assert.Equal(0, again.Packets);
        Assert.True(new FileInfo(FilePath).Length < before);
        Assert.Contains(log.Entries, e => e.Id == 109);
        Write(again, 120, 30); // from a GOP start: a reader starts at one
        Assert.Equal(30, again.Packets);
    }

    [Fact]
    public void A_ReadOnlyFile_is_served_and_never_written()
    {
        using (var file = FeedFile.Open(Config(), NullLogger.Instance, _time))
        {
            file.OnSession([Video], truncate: false);
            Write(file, 0, 60);
        }

        byte[] bytes = File.ReadAllBytes(FilePath);
        using (var readOnly = FeedFile.Open(Config(readOnly: true), NullLogger.Instance, _time))
        {
            Assert.Equal(FeedFileState.ReadOnly, readOnly.State);
            var p = Frame(60);
            readOnly.Enqueue(in p, true, 60);
            readOnly.OnSession([H264], truncate: true);
            using var reader = readOnly.OpenReader();
            reader.Seek(0);
            Assert.Equal(60, ReadAll(reader, out _).Count);
        }

        Assert.Equal(bytes, File.ReadAllBytes(FilePath));
        Assert.ThrowsAny<IOException>(() => FeedFile.Open(Config(readOnly: true) with { File = Path.Combine(_dir, "missing.sff") }, NullLogger.Instance, _time));
    }

    [Fact]
    public void Record_headers_and_the_file_header_read_back_what_was_written_and_refuse_damage()
    {
        var record = new FeedFileFormat.RecordHeader(FeedFileFormat.PacketMagic, 3, 7, 9, 100, 103, 3000, 1_700_000_000_000, 1, true, true);
        var bytes = new byte[FeedFileFormat.RecordHeaderSize + 3];
        FeedFileFormat.WriteRecordHeader(bytes, record);
        bytes[^3] = 1;
        FeedFileFormat.SealRecord(bytes, bytes.AsSpan(FeedFileFormat.RecordHeaderSize));
        Assert.Equal(record, FeedFileFormat.ReadRecordHeader(bytes));
        Assert.True(FeedFileFormat.IsSealed(bytes, bytes.AsSpan(FeedFileFormat.RecordHeaderSize)));
        bytes[^1] ^= 0x40;
        Assert.False(FeedFileFormat.IsSealed(bytes, bytes.AsSpan(FeedFileFormat.RecordHeaderSize)));

        var header = new FeedFileFormat.Header(42, 1 << 20, 0, [Video, Audio]);
        var checkpoint = new FeedFileFormat.Checkpoint(0, 4096, 0, 5, 4096, 0, 0, 5);
        byte[] region = FeedFileFormat.WriteHeader(header, checkpoint);
        Assert.Equal(0, region.Length % FeedFileFormat.Alignment);
        var read = FeedFileFormat.ReadHeader(region, out var readCheckpoint, out _)!;
        Assert.Equal((42UL, 1L << 20, region.Length), (read.FileId, read.MaxSize, read.DataStart));
        Assert.Equal(checkpoint, readCheckpoint);
        region[FeedFileFormat.TracksOffset + 5] ^= 1;
        Assert.Null(FeedFileFormat.ReadHeader(region, out _, out string? why));
        Assert.Contains("track list is damaged", why, StringComparison.Ordinal);
    }

    private sealed class Recorder : IFeedListener
    {
        public int Count { get; private set; }

        public void OnSessionStart(IReadOnlyList<TrackInfo> tracks, bool continues)
        {
        }

        public void Observe(in MediaPacket packet) => Count++;

        public void OnSessionEnd()
        {
        }
    }
}

public sealed class FeedFileCheckTests
{
    [Fact]
    public void A_File_that_cannot_be_written_and_a_missing_ReadOnlyFile_are_errors_at_their_lines()
    {
        var result = ConfigParser.Parse(
            "<Feed a.ffm>\nFile /nonexistent-sluice-dir/a.sff\n</Feed>\n<Feed b.ffm>\nReadOnlyFile /nonexistent-sluice-dir/b.sff\n</Feed>\n<Feed c.ffm>\nFile /tmp\n</Feed>\n",
            "t.conf");
        Assert.True(result.Succeeded);
        var errors = FeedFileCheck.Errors(result.Config!).Select(e => e.ToString()).ToList();
        Assert.Equal("t.conf:2: File /nonexistent-sluice-dir/a.sff cannot be written: its directory /nonexistent-sluice-dir does not exist", errors[0]);
        Assert.Equal("t.conf:5: ReadOnlyFile /nonexistent-sluice-dir/b.sff does not exist; a ReadOnlyFile is a feed file an earlier run wrote (with File); write File to begin one", errors[1]);
        Assert.StartsWith("t.conf:8: File /tmp cannot be written: ", errors[2]);
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void A_File_held_by_its_writer_a_running_server_passes_the_check()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sluice-held-{Guid.NewGuid():N}.sff");
        try
        {
            using var writer = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            var result = ConfigParser.Parse($"<Feed a.ffm>\nFile {path}\n</Feed>\n", "t.conf");
            Assert.Empty(FeedFileCheck.Errors(result.Config!).Select(e => e.ToString()));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
