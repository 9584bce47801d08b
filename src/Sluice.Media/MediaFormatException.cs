namespace Sluice.Media;

/// <summary>
/// Input that is not the container it claims to be, or is damaged beyond what the reader skips.
/// <see cref="Offset"/> is the byte offset in the input where the problem was found.
/// </summary>
public sealed class MediaFormatException : Exception
{
    public MediaFormatException(string format, long offset, string message)
        : base($"{format}: {message} (at byte {offset})")
    {
        Format = format;
        Offset = offset;
        Reason = message;
    }

    public string Format { get; }
    public long Offset { get; }
    public string Reason { get; }
}
