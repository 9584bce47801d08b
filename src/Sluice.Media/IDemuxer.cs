using System.Buffers;

namespace Sluice.Media;

/// <summary>
/// Turns a container byte stream into tracks and packets, incrementally: it is handed whatever bytes have
/// arrived, parses every complete element, and says how far it got. "Need more bytes" is a normal result.
/// Structural damage throws <see cref="MediaFormatException"/> with the byte offset.
/// Payloads are copied into pooled blocks (see <see cref="MediaPacket.Owner"/>); disposing lets go of the block
/// the demuxer is filling.
/// </summary>
public interface IDemuxer : IDisposable
{
    /// <summary>Short name for logs ("Matroska", "MPEG-TS", ...).</summary>
    string FormatName { get; }

    /// <summary>
    /// Parses <paramref name="input"/>, the unconsumed bytes from the stream position <see cref="Position"/>
    /// on. Returns the position up to which the input is consumed; the caller gives the rest again,
    /// with more bytes appended.
    /// </summary>
    SequencePosition Read(ReadOnlySequence<byte> input, IPacketSink sink);

    /// <summary>Stream offset of the first byte not yet consumed.</summary>
    long Position { get; }

    /// <summary>
    /// Called when the input has ended. Throws <see cref="MediaFormatException"/> when it ended
    /// inside an element (a truncated feed); returns normally at a clean boundary.
    /// </summary>
    void Complete(ReadOnlySequence<byte> remaining);
}
