namespace Sluice.Media.Formats.Mp4;

/// <summary>The file under a reader: a seekable stream of a known length, read at offsets.</summary>
internal sealed class Mp4Source(Stream stream)
{
    public long Length { get; } = stream.Length;

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; the caller has checked that the range is inside the file.</summary>
    public void ReadAt(long offset, Span<byte> destination)
    {
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
