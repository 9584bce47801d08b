namespace Sluice.Media.Formats;

/// <summary>
/// One piece of a byte stream another muxer wrote: bytes sent to every viewer as they are, whether a viewer may start
/// at them, and their media time in <see cref="MediaTime"/> ticks where the format gives one (null where it does not:
/// the unit is at the time of the one before). The times are the format's own, from the muxer's origin, and need not
/// rise unit by unit (a program stream's SCR does; a fragmented MP4's fragments alternate between tracks).
/// </summary>
public readonly record struct ScannedUnit(ReadOnlyMemory<byte> Bytes, bool IsJoinPoint, long? Time = null);

/// <summary>
/// Reads a container that Sluice does not write itself (ffmpeg writes it into a pipe) and cuts it into what a viewer
/// that joins at any time needs: the <see cref="Header"/> every viewer gets first, then units, some of them join points
/// (a unit from which a decoder starts cleanly after the header). One scanner a byte stream; bytes come in pieces of
/// any size (<see cref="Write"/>), and a unit is handed out once it is whole.
/// </summary>
/// <remarks>
/// Structural damage (bytes that are not the format) throws <see cref="MediaFormatException"/> naming the byte offset;
/// a unit that grows past <see cref="MaxUnitBytes"/> does too, rather than buffering without bound.
/// </remarks>
public abstract class JoinPointScanner
{
    /// <summary>The largest unit (or header) a scanner holds while it waits for the rest.</summary>
    public const int MaxUnitBytes = 32 * 1024 * 1024;

    private byte[] _pending = new byte[64 * 1024];
    private int _start;
    private int _length;
    private byte[]? _header;

    /// <summary>The header every viewer gets before its first unit; null until it has been read whole.</summary>
    public ReadOnlyMemory<byte>? Header
    {
        get
        {
            // Not "_header is null ? null : ...": null converts to an array, and the array to an empty memory.
            if (_header is null)
            {
                return null;
            }

            return _header.AsMemory();
        }
    }

    /// <summary>Bytes of the stream read into units (and the header) so far.</summary>
    public long Offset { get; private set; }

    /// <summary>Takes the next bytes of the stream; adds each unit they complete to <paramref name="units"/>, in order.</summary>
    public void Write(ReadOnlySpan<byte> data, List<ScannedUnit> units)
    {
        Append(data);
        while (_length > 0 || _header is null)
        {
            bool hadHeader = _header is not null;
            var pending = _pending.AsSpan(_start, _length);
            int used = hadHeader ? ReadUnit(pending, units) : ReadHeader(pending);
            if (used == 0 && hadHeader == (_header is not null))
            {
                break;
            }

            _start += used;
            _length -= used;
            Offset += used;
        }

        if (_length > MaxUnitBytes)
        {
            throw new MediaFormatException(Name, Offset, $"no end of the unit within {MaxUnitBytes} bytes");
        }
    }

    /// <summary>The end of the stream: the units still held are handed out, then what is left (the last unit, a trailer) as one more.</summary>
    public virtual void Complete(List<ScannedUnit> units)
    {
        if (_length > 0)
        {
            units.Add(new ScannedUnit(_pending.AsSpan(_start, _length).ToArray(), false));
            Offset += _length;
            _length = 0;
        }
    }

    /// <summary>The format's name, for messages.</summary>
    protected abstract string Name { get; }

    /// <summary>
    /// Reads the header at the start of <paramref name="data"/>: calls <see cref="SetHeader"/> and returns the bytes it
    /// takes (the header may be empty), or returns 0 without setting it when more bytes are needed.
    /// </summary>
    protected abstract int ReadHeader(ReadOnlySpan<byte> data);

    /// <summary>Reads one unit at the start of <paramref name="data"/>: the bytes it takes, or 0 when more are needed.</summary>
    protected abstract int ReadUnit(ReadOnlySpan<byte> data, List<ScannedUnit> units);

    protected void SetHeader(ReadOnlySpan<byte> header) => _header = header.ToArray();

    /// <summary>A structural error at <paramref name="at"/> bytes into what is being read.</summary>
    protected MediaFormatException Damaged(int at, string what) => new(Name, Offset + at, what);

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_start + _length + data.Length > _pending.Length)
        {
            if (_length + data.Length > _pending.Length)
            {
                Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _length + data.Length));
            }

            _pending.AsSpan(_start, _length).CopyTo(_pending);
            _start = 0;
        }

        data.CopyTo(_pending.AsSpan(_start + _length));
        _length += data.Length;
    }
}
