namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// One carried track of an MP4 file and where its reading is: the sample table of its stbl (progressive samples),
/// then its movie fragments, with the current sample's times already in <see cref="MediaTime"/> ticks.
/// </summary>
internal sealed class Mp4Track
{
    private readonly Mp4SampleTable? _table;
    private readonly Mp4FragmentCursor? _fragments;
    private readonly Mp4Source _source;
    private readonly long _timescale;
    private readonly long _shift;
    private readonly long _dtsShift;
    private Mp4SampleCursor _cursor;
    private bool _inFragments;

    /// <param name="shift">Added to every decode and presentation time, in the track's timescale: the edit list's start (see <see cref="Mp4FileReader"/>).</param>
    public Mp4Track(TrackInfo info, uint trackId, long timescale, long shift, Mp4SampleTable? table, Mp4FragmentCursor? fragments, Mp4Source source)
    {
        Info = info;
        TrackId = trackId;
        _timescale = timescale;
        _shift = shift;
        _table = table;
        _fragments = fragments;
        _source = source;
        // ffmpeg moves decode times earlier by the most negative composition offset, so that no DTS follows its PTS.
        _dtsShift = table is { MinCompositionOffset: < 0 } ? -(long)table.MinCompositionOffset : 0;
        Start();
    }

    public TrackInfo Info { get; set; }

    public uint TrackId { get; }

    public bool HasSample { get; private set; }

    /// <summary>Samples walked since <see cref="Start"/> (the index of the current one).</summary>
    public long Ordinal { get; private set; }

    public long Offset { get; private set; }
    public int Size { get; private set; }
    public long Dts { get; private set; }
    public long Pts { get; private set; }
    public long Duration { get; private set; }
    public bool IsSync { get; private set; }

    /// <summary>Back to the first sample.</summary>
    public void Start()
    {
        Ordinal = 0;
        _inFragments = false;
        if (_table is not null)
        {
            _table.Start(ref _cursor);
        }

        if (_table is null || _cursor.Sample >= _table.SampleCount)
        {
            EnterFragments();
        }

        Load();
    }

    public void Advance()
    {
        Ordinal++;
        if (!_inFragments)
        {
            _table!.Advance(ref _cursor);
            if (_cursor.Sample >= _table.SampleCount)
            {
                EnterFragments();
            }
        }
        else
        {
            _fragments!.Advance();
        }

        Load();
    }

    /// <summary>Walks the track's runs in <paramref name="moof"/>, a moof handed over by the incremental reader.</summary>
    public void Take(byte[] moof, in Mp4Fragment fragment, int index)
    {
        if (_fragments is null)
        {
            return;
        }

        if (!_inFragments)
        {
            Mp4.Throw(fragment.Offset, $"moof[{index}] comes before the samples of the moov's track {TrackId} were read");
        }

        _fragments.Take(moof, fragment, index);
        Load();
    }

    private void EnterFragments()
    {
        _inFragments = true;
        _fragments?.Start(_table?.EndTime() ?? 0);
    }

    private void Load()
    {
        long dts, duration, composition;
        uint size;
        if (!_inFragments)
        {
            HasSample = true;
            (Offset, size, dts, duration, composition, IsSync) = (_cursor.Offset, _cursor.Size, _cursor.Dts, _cursor.Delta, _cursor.CompositionOffset, _cursor.IsSync);
            if (size > Mp4FileReader.MaxSampleSize)
            {
                Mp4.Throw(_table!.SizesOffset, $"{_table.SizesPath}: sample {_cursor.Sample} of {size} bytes is larger than {Mp4FileReader.MaxSampleSize} bytes");
            }

            if (Offset > _source.Length - size)
            {
                Mp4.Throw(_table!.ChunksOffset, $"{_table.ChunksPath}: sample {_cursor.Sample} of {size} bytes at byte {Offset} (chunk {_cursor.Chunk}) is outside the file of {_source.Length} bytes");
            }
        }
        else if (_fragments is { HasSample: true } f)
        {
            HasSample = true;
            (Offset, size, dts, duration, composition, IsSync) = (f.Offset, f.Size, f.Dts, f.Duration, f.CompositionOffset + f.CompositionShift, f.IsSync);
        }
        else
        {
            HasSample = false;
            return;
        }

        Size = (int)size;
        Dts = ToTicks(dts + _shift - _dtsShift);
        Pts = ToTicks(dts + _shift + composition);
        Duration = ToTicks(duration);
    }

    /// <summary>Track units to ticks, rounded to the nearest (halves away from zero); a damaged table's absurd time stays absurd, not wrapped.</summary>
    public long ToTicks(long units)
    {
        Int128 n = (Int128)units * MediaTime.TicksPerSecond;
        Int128 half = _timescale / 2;
        var ticks = n >= 0 ? (n + half) / _timescale : -((-n + half) / _timescale);
        return (long)Int128.Clamp(ticks, long.MinValue / 4, long.MaxValue / 4);
    }
}
