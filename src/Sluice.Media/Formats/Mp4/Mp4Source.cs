namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// The file under a reader: a seekable stream of a known length, read at offsets; or, for the incremental reader, a
/// stream whose bytes go by and cannot be read again (<see cref="CanRead"/> false, no length).
/// </summary>
internal sealed class Mp4Source
{
    private readonly Stream? _stream;

    private Mp4Source(Stream? stream, long length)
    {
        _stream = stream;
        Length = length;
    }

    public static Mp4Source Of(Stream stream) => new(stream, stream.Length);

    /// <summary>Bytes handed over in pieces: no length known, nothing read back.</summary>
    public static Mp4Source Streamed() => new(null, long.MaxValue / 2);

    public long Length { get; }

    public bool CanRead => _stream is not null;

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; the caller has checked that the range is inside the file.</summary>
    public void ReadAt(long offset, Span<byte> destination)
    {
        var stream = _stream ?? throw new InvalidOperationException("a streamed MP4 is not read back");
        stream.Position = offset;
        int done = 0;
        while (done < destination.Length)
        {
            int n = stream.Read(destination[done..]);
            if (n == 0)
            {
                Mp4.Throw(offset + done, $"the file ended at byte {offset + done}, before the {destination.Length} bytes read at {offset} (it was {Length} bytes long when opened)");
            }

            done += n;
        }
    }
}
