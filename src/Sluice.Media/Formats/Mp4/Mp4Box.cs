using System.Buffers.Binary;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// A box held in a buffer read from the file: its type, where its body lies in the buffer, the file offset of its
/// header and its path from the top ("moov/trak[0]/mdia/minf/stbl/stsz") for messages.
/// </summary>
internal readonly record struct Mp4Box(uint Type, int BodyStart, int BodyLength, long FileOffset, int HeaderLength, string Path)
{
    public int BodyEnd => BodyStart + BodyLength;

    /// <summary>The file offset of the body's first byte.</summary>
    public long BodyOffset => FileOffset + HeaderLength;

    public string Name => Mp4.TypeName(Type);
}

/// <summary>A box header (ISO 14496-12 4.2): a 32-bit size and the type, then a 64-bit size when the first is 1.</summary>
internal static class Mp4BoxHeader
{
    /// <summary>
    /// Reads the header at the start of <paramref name="bytes"/>: false when they are too few for it. The size is the
    /// whole box's, or 0 for a box that runs to the end of its parent; a size smaller than the header is damage,
    /// named by <paramref name="parentPath"/> and <paramref name="offset"/>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, long offset, string parentPath, out uint type, out long size, out int headerLength)
    {
        type = 0;
        size = 0;
        headerLength = 8;
        if (bytes.Length < 8)
        {
            return false;
        }

        size = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        type = BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
        if (size == 1)
        {
            if (bytes.Length < 16)
            {
                return false;
            }

            size = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), long.MaxValue / 2);
            headerLength = 16;
        }

        if (size != 0 && size < headerLength)
        {
            Mp4.Throw(offset, $"{PathOf(parentPath, type)}: box size {size} is smaller than its {headerLength}-byte header");
        }

        return true;
    }

    public static string PathOf(string parentPath, uint type) => parentPath.Length == 0 ? Mp4.TypeName(type) : $"{parentPath}/{Mp4.TypeName(type)}";
}

/// <summary>
/// The child boxes of a body in a buffer, one by one. A child that runs past its parent is damage
/// (<see cref="MediaFormatException"/> with its path); fewer than 8 bytes left at the end are ignored, as ffmpeg
/// does (QuickTime ends some lists with a 4-byte zero).
/// </summary>
internal ref struct Mp4Children
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly long _fileBase;
    private readonly string _parentPath;
    private readonly int _end;
    private int _at;

    /// <param name="data">The buffer.</param>
    /// <param name="fileBase">The file offset of the buffer's first byte.</param>
    /// <param name="start">Where the children begin in the buffer.</param>
    /// <param name="end">Where the parent's body ends in the buffer.</param>
    /// <param name="parentPath">The parent's path, or "" at the top.</param>
    public Mp4Children(ReadOnlySpan<byte> data, long fileBase, int start, int end, string parentPath)
    {
        _data = data;
        _fileBase = fileBase;
        _at = start;
        _end = end;
        _parentPath = parentPath;
    }

    public Mp4Children(ReadOnlySpan<byte> data, long fileBase, in Mp4Box parent, int skip = 0)
        : this(data, fileBase, parent.BodyStart + skip, parent.BodyEnd, parent.Path)
    {
    }

    public bool Next(out Mp4Box box)
    {
        box = default;
        if (_end - _at < 8)
        {
            return false;
        }

        long fileOffset = _fileBase + _at;
        if (!Mp4BoxHeader.TryRead(_data[_at.._end], fileOffset, _parentPath, out uint type, out long size, out int header))
        {
            Mp4.Throw(fileOffset, $"{PathOf(BinaryPrimitives.ReadUInt32BigEndian(_data[(_at + 4)..]))}: box header with a 64-bit size is cut short by the end of {ParentName}");
        }

        if (size == 0)
        {
            size = _end - _at; // to the end of the parent
        }

        if (size > _end - _at)
        {
            Mp4.Throw(fileOffset, $"{PathOf(type)}: box of {size} bytes runs past the end of {ParentName} ({_end - _at} bytes left)");
        }

        box = new Mp4Box(type, _at + header, (int)size - header, fileOffset, header, PathOf(type));
        _at += (int)size;
        return true;
    }

    /// <summary>The next child of type <paramref name="type"/> (others are passed over).</summary>
    public bool Find(uint type, out Mp4Box box)
    {
        while (Next(out box))
        {
            if (box.Type == type)
            {
                return true;
            }
        }

        return false;
    }

    private readonly string ParentName => _parentPath.Length == 0 ? "the file" : _parentPath;

    private readonly string PathOf(uint type) => Mp4BoxHeader.PathOf(_parentPath, type);
}
