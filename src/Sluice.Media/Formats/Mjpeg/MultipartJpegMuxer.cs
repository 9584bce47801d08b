using System.Text;
using Sluice.Media.Buffers;

namespace Sluice.Media.Formats.Mjpeg;

/// <summary>
/// Live multipart JPEG writer, ffserver's <c>mpjpeg</c> format: <c>multipart/x-mixed-replace</c> (RFC 2046 multipart
/// syntax) with one JPEG a part, which browsers show in an <c>&lt;img&gt;</c> and ffmpeg reads with <c>-f mpjpeg</c>.
/// One instance serves every viewer of a stream; every frame is a join point.
/// </summary>
/// <remarks>
/// <para>
/// By default <see cref="Header"/> is empty and each chunk is <c>CRLF --boundary CRLF Content-Type: image/jpeg CRLF
/// Content-Length: N CRLF CRLF</c> (the prefix, carved out of a shared slab) followed by the JPEG (the packet's own
/// memory). The CRLF before the boundary closes the previous part; before a viewer's first part it is an empty
/// preamble, which RFC 2046 allows and browsers and ffmpeg skip.
/// </para>
/// <para>
/// Chromium shows a part only once the next part's headers have arrived, so in that layout (ffmpeg's and ffserver's
/// too) a viewer sees each frame one frame late. With <see cref="MultipartJpegLayout.ShowOnArrival"/> the headers
/// of the next part follow each JPEG instead: <see cref="Header"/> opens the first part, and each chunk is the JPEG
/// followed by <c>CRLF --boundary CRLF Content-Type: image/jpeg CRLF CRLF</c>, written whole into the slab (the JPEG is
/// copied once per stream, and parts have no Content-Length, so readers find their end by the boundary).
/// </para>
/// Not thread-safe: one writer calls <see cref="Write"/>.
/// </remarks>
public sealed class MultipartJpegMuxer : IMuxer
{
    /// <summary>
    /// The boundary unless another is given: long and unlikely enough never to occur in JPEG data by chance (readers
    /// such as Chromium end a part at the first occurrence of the boundary, whatever the Content-Length says).
    /// </summary>
    public const string DefaultBoundary = "sluice-frame-7d3e91c4a5b26f08";

    /// <summary>The content type of <see cref="MultipartJpegLayout.Bare"/>: ffmpeg's mjpeg muxer's, which ffserver sent.</summary>
    public const string BareContentType = "video/x-mjpeg";

    private const int MaxBoundaryLength = 70;
    private const int MaxLengthDigits = 10;

    private readonly byte[] _partStart;
    private readonly byte[] _header;
    private readonly ChunkSlab _slab;

    public MultipartJpegMuxer(IReadOnlyList<TrackInfo> tracks, string boundary = DefaultBoundary, MultipartJpegLayout layout = MultipartJpegLayout.ContentLength, BlockPool? pool = null)
    {
        _slab = new ChunkSlab(pool: pool);
        ArgumentNullException.ThrowIfNull(tracks);
        ArgumentNullException.ThrowIfNull(boundary);
        if (tracks.Count != 1)
        {
            throw new ArgumentException($"a multipart JPEG stream carries exactly one MJPEG track, not {tracks.Count} tracks", nameof(tracks));
        }

        if (tracks[0].Index != 0)
        {
            throw new ArgumentException($"track 0 has Index {tracks[0].Index}; the list must be in Index order", nameof(tracks));
        }

        if (tracks[0].Codec != CodecId.MJPEG)
        {
            throw new ArgumentException($"track 0: codec {CodecIds.FfmpegName(tracks[0].Codec)} cannot be written as multipart JPEG (MJPEG can)", nameof(tracks));
        }

        if (!IsValidBoundary(boundary))
        {
            throw new ArgumentException($"\"{boundary}\" is not a usable multipart boundary (1 to {MaxBoundaryLength} ASCII letters, digits and ' + _ - .)", nameof(boundary));
        }

        Boundary = boundary;
        Layout = layout;
        ContentType = $"multipart/x-mixed-replace;boundary={boundary}";
        switch (layout)
        {
            case MultipartJpegLayout.ContentLength:
                _partStart = Encoding.ASCII.GetBytes($"\r\n--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ");
                _header = [];
                break;
            case MultipartJpegLayout.ShowOnArrival:
                _partStart = Encoding.ASCII.GetBytes($"\r\n--{boundary}\r\nContent-Type: image/jpeg\r\n\r\n");
                _header = _partStart;
                break;
            case MultipartJpegLayout.Bare:
                ContentType = BareContentType;
                _partStart = [];
                _header = [];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(layout), layout, "unknown multipart JPEG layout");
        }
    }

    /// <summary><c>multipart/x-mixed-replace;boundary=...</c>, or <see cref="BareContentType"/>.</summary>
    public string ContentType { get; }

    public string Boundary { get; }

    public MultipartJpegLayout Layout { get; }

    /// <summary>Empty, or with <see cref="MultipartJpegLayout.ShowOnArrival"/> the opening of the first part.</summary>
    public ReadOnlyMemory<byte> Header => _header;

    public MuxedChunk Write(MediaPacket packet)
    {
        if (packet.Track != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(packet), $"packet for track {packet.Track}, but the stream has 1 track");
        }

        var jpeg = packet.Payload;
        if (Layout == MultipartJpegLayout.Bare)
        {
            return new MuxedChunk(ReadOnlyMemory<byte>.Empty, jpeg, IsJoinPoint: true) { PayloadOwner = packet.Retain() };
        }

        if (Layout == MultipartJpegLayout.ShowOnArrival)
        {
            var unit = _slab.Reserve(jpeg.Length + _partStart.Length);
            jpeg.Span.CopyTo(unit);
            _partStart.CopyTo(unit[jpeg.Length..]);
            return _slab.CommitChunk(jpeg.Length + _partStart.Length, isJoinPoint: true);
        }

        var prefix = _slab.Reserve(_partStart.Length + MaxLengthDigits + 4);
        _partStart.CopyTo(prefix);
        int n = _partStart.Length;
        jpeg.Length.TryFormat(prefix[n..], out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        n += digits;
        "\r\n\r\n"u8.CopyTo(prefix[n..]);
        n += 4;
        return _slab.CommitChunk(n, packet, isJoinPoint: true);
    }

    /// <summary>
    /// A boundary RFC 2046 allows (at most 70 characters) made only of characters that need no quoting in the
    /// Content-Type header: ASCII letters, digits and <c>' + _ - .</c>.
    /// </summary>
    public static bool IsValidBoundary(string boundary)
    {
        if (boundary.Length is 0 or > MaxBoundaryLength)
        {
            return false;
        }

        foreach (char c in boundary)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '\'' or '+' or '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lets go of the slab block being filled; the chunks handed out keep theirs.</summary>
    public void Dispose() => _slab.Dispose();
}

/// <summary>Where <see cref="MultipartJpegMuxer"/> puts the part headers.</summary>
public enum MultipartJpegLayout
{
    /// <summary>Headers with Content-Length before each JPEG, which stays the packet's own memory (as ffmpeg's mpjpeg).</summary>
    ContentLength,

    /// <summary>The next part's headers right after each JPEG, so that Chromium shows a frame as soon as it arrives; JPEGs are copied.</summary>
    ShowOnArrival,

    /// <summary>
    /// No multipart framing: the JPEGs back to back, each the packet's own memory, as ffmpeg's <c>mjpeg</c> muxer writes
    /// them and ffserver's <c>Format mjpeg</c> served them (<c>video/x-mjpeg</c>; VLC, ffplay and OpenCV read it).
    /// </summary>
    Bare,
}
