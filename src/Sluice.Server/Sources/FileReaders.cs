using System.Buffers;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Media.Formats.Mp4;
using Sluice.Server.Ingest;

namespace Sluice.Server.Sources;

/// <summary>
/// One pass over a media file: its tracks, then its packets in decode order. The caller owns each packet it is given
/// (one reference to the payload's block). Damage throws <see cref="MediaFormatException"/> with the byte offset.
/// </summary>
internal interface IFileReader : IDisposable
{
    string FormatName { get; }

    IReadOnlyList<TrackInfo> Tracks { get; }

    /// <summary>The next packet, or false at the end of the file.</summary>
    bool TryReadPacket(out MediaPacket packet);
}

/// <summary>The containers a file stream reads, told from a file's first bytes, and the reader for each.</summary>
internal static class FileReaders
{
    /// <summary>Bytes read to decide: an MP4's first box header, or two MPEG-TS packets' sync bytes.</summary>
    public const int ProbeSize = 189;

    /// <summary>What the files of a stream may be, for messages.</summary>
    public const string Readable = "Matroska/WebM, MPEG-TS, FLV or MP4/MOV";

    private const string Mp4Format = "MP4";

    /// <summary>The container's name, or null when the bytes begin none Sluice reads.</summary>
    public static string? Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 8 && IsMp4Box(head.Slice(4, 4)))
        {
            return Mp4Format;
        }

        if (head is [0x47, ..] && head.Length >= ProbeSize && head[188] != 0x47)
        {
            return null; // one 'G' is no transport stream: a file of packets has a sync byte every 188
        }

        return ContainerDetector.Detect(new ReadOnlySequence<byte>(head.ToArray())) switch
        {
            ContainerDetector.Result.Matroska => "Matroska",
            ContainerDetector.Result.MpegTs => "MPEG-TS",
            ContainerDetector.Result.Flv => "FLV",
            _ => null,
        };
    }

    /// <summary>
    /// Why the file at <paramref name="path"/> cannot be streamed (missing, unreadable, not a container Sluice reads),
    /// or null when it can: the start-up check, which reads its first bytes only.
    /// </summary>
    public static string? Check(string path)
    {
        if (!File.Exists(path))
        {
            return Directory.Exists(path) ? "which is a directory" : "which does not exist";
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            Span<byte> head = stackalloc byte[ProbeSize];
            int read = file.ReadAtLeast(head, ProbeSize, throwOnEndOfStream: false);
            return Detect(head[..read]) is null ? $"which is not a container Sluice reads ({Readable})" : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"which cannot be read ({ex.Message})";
        }
    }

    /// <summary>Opens the file for one pass: its tracks are read (an MP4's moov, the other containers' headers).</summary>
    public static IFileReader Open(string path, BlockPool buffers)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        try
        {
            Span<byte> head = stackalloc byte[ProbeSize];
            int read = file.ReadAtLeast(head, ProbeSize, throwOnEndOfStream: false);
            file.Position = 0;
            string format = Detect(head[..read]) ?? throw new MediaFormatException("file", 0, $"not a container Sluice reads ({Readable})");
            if (format == Mp4Format)
            {
                return new Mp4Reader(Mp4FileReader.Open(file, buffers));
            }

            var demuxer = ContainerDetector.CreateDemuxer(ContainerDetector.Detect(new ReadOnlySequence<byte>(head[..read].ToArray())), buffers, out _)!;
            return DemuxedReader.Open(file, demuxer);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    // The boxes an ISO BMFF or QuickTime file begins with.
    private static bool IsMp4Box(ReadOnlySpan<byte> type) =>
        type.SequenceEqual("ftyp"u8) || type.SequenceEqual("moov"u8) || type.SequenceEqual("mdat"u8) || type.SequenceEqual("free"u8)
        || type.SequenceEqual("skip"u8) || type.SequenceEqual("wide"u8) || type.SequenceEqual("styp"u8) || type.SequenceEqual("pnot"u8);

    /// <summary>An MP4 or MOV file, read at random access (the moov may follow the mdat).</summary>
    private sealed class Mp4Reader(Mp4FileReader reader) : IFileReader
    {
        public string FormatName => reader.FormatName;

        public IReadOnlyList<TrackInfo> Tracks => reader.Tracks;

        public bool TryReadPacket(out MediaPacket packet) => reader.TryReadPacket(out packet);

        public void Dispose() => reader.Dispose();
    }

    /// <summary>
    /// A Matroska, MPEG-TS or FLV file through the push demuxer a publisher's bytes go through, fed a piece of the file
    /// at a time: the packets one piece gives are queued and handed out in order.
    /// </summary>
    private sealed class DemuxedReader : IFileReader, IPacketSink
    {
        private const int PieceSize = 64 * 1024;

        private readonly FileStream _file;
        private readonly IDemuxer _demuxer;
        private readonly Queue<MediaPacket> _queue = new();
        private byte[] _buffer = new byte[PieceSize];
        private int _start, _end; // the bytes the demuxer has not consumed
        private bool _ended;

        private DemuxedReader(FileStream file, IDemuxer demuxer)
        {
            _file = file;
            _demuxer = demuxer;
        }

        public static DemuxedReader Open(FileStream file, IDemuxer demuxer)
        {
            var reader = new DemuxedReader(file, demuxer);
            try
            {
                while (reader.Tracks.Count == 0 && reader.Pump())
                {
                }

                return reader;
            }
            catch
            {
                reader.Dispose();
                throw;
            }
        }

        public string FormatName => _demuxer.FormatName;

        public IReadOnlyList<TrackInfo> Tracks { get; private set; } = [];

        public bool TryReadPacket(out MediaPacket packet)
        {
            while (_queue.Count == 0)
            {
                if (!Pump())
                {
                    packet = default;
                    return false;
                }
            }

            packet = _queue.Dequeue();
            return true;
        }

        void IPacketSink.OnTracks(IReadOnlyList<TrackInfo> tracks) => Tracks = tracks;

        void IPacketSink.Accept(MediaPacket packet) => _queue.Enqueue(packet);

        /// <summary>Gives the demuxer the next piece of the file; false once the file has ended.</summary>
        private bool Pump()
        {
            if (_ended)
            {
                return false;
            }

            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                // An element larger than the buffer: grow it (the demuxers bound their elements).
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            int read = _file.Read(_buffer, _end, _buffer.Length - _end);
            _end += read;
            var input = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            if (read == 0)
            {
                _ended = true;
                _demuxer.Complete(input);
                return _queue.Count > 0;
            }

            var consumed = _demuxer.Read(input, this);
            _start += (int)input.Slice(0, consumed).Length;
            return true;
        }

        public void Dispose()
        {
            while (_queue.TryDequeue(out var packet))
            {
                packet.Release();
            }

            _demuxer.Dispose();
            _file.Dispose();
        }
    }
}
