using System.Buffers.Binary;

namespace Sluice.Media.Formats.Mp4;

/// <summary>
/// The sample tables of one track's stbl (ISO 14496-12 8.6, 8.7: stts, ctts, stsc, stsz or stz2, stco or co64, stss)
/// kept as they are in the moov's bytes and walked by a <see cref="Mp4SampleCursor"/>: a sample costs nothing until
/// it is read, so a file of millions of samples needs its moov in memory and nothing more. The tables are checked
/// against each other when read (entry counts that fit their boxes, stts and stsz counting the same samples, stsc
/// starting at chunk 1 and placing every sample in a chunk stco has); a sample's place in the file is checked when it
/// is read.
/// </summary>
internal sealed class Mp4SampleTable
{
    private readonly byte[] _data;
    private readonly Table _stts;
    private readonly Table _ctts;
    private readonly Table _stsc;
    private readonly Table _chunks;
    private readonly bool _chunks64;
    private readonly Table _stss;
    private readonly bool _hasStss;
    private readonly int _sizesAt;
    private readonly uint _constantSize;
    private readonly int _sizeBits;

    public Mp4SampleTable(byte[] data, long fileBase, in Mp4Box stbl)
    {
        _data = data;
        Mp4Box stsz = default, stco = default;
        bool haveStts = false, haveSizes = false, haveChunks = false;
        string? stscPath = null;
        long stscOffset = stbl.FileOffset;
        var children = new Mp4Children(data, fileBase, stbl);
        while (children.Next(out var box))
        {
            switch (box.Type)
            {
                case Mp4.Stts:
                    _stts = Entries(box, 8);
                    haveStts = true;
                    break;
                case Mp4.Ctts:
                    _ctts = Entries(box, 8);
                    break;
                case Mp4.Stsc:
                    _stsc = Entries(box, 12);
                    stscPath = box.Path;
                    stscOffset = box.FileOffset;
                    break;
                case Mp4.Stco:
                case Mp4.Co64:
                    _chunks64 = box.Type == Mp4.Co64;
                    _chunks = Entries(box, _chunks64 ? 8 : 4);
                    stco = box;
                    haveChunks = true;
                    break;
                case Mp4.Stss:
                    _stss = Entries(box, 4);
                    _hasStss = true;
                    break;
                case Mp4.Stsz:
                case Mp4.Stz2:
                {
                    stsz = box;
                    haveSizes = true;
                    if (box.BodyLength < 12)
                    {
                        Mp4.Throw(box.FileOffset, $"{box.Path}: box of {box.BodyLength} bytes is too short for its header");
                    }

                    var body = data.AsSpan(box.BodyStart, box.BodyLength);
                    SampleCount = BinaryPrimitives.ReadUInt32BigEndian(body[8..]);
                    _sizesAt = box.BodyStart + 12;
                    if (box.Type == Mp4.Stsz)
                    {
                        _constantSize = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                        _sizeBits = _constantSize == 0 ? 32 : 0;
                    }
                    else
                    {
                        _sizeBits = body[7];
                        if (_sizeBits is not (4 or 8 or 16))
                        {
                            Mp4.Throw(box.FileOffset, $"{box.Path}: field_size {_sizeBits} is not 4, 8 or 16");
                        }
                    }

                    long need = ((long)SampleCount * _sizeBits + 7) / 8;
                    if (need > box.BodyLength - 12)
                    {
                        Mp4.Throw(box.FileOffset, $"{box.Path}: {SampleCount} sample sizes need {need} bytes, the box holds {box.BodyLength - 12}");
                    }

                    break;
                }
            }
        }

        StscPath = stscPath ?? $"{stbl.Path}/stsc";
        StscOffset = stscOffset;
        SizesPath = haveSizes ? stsz.Path : $"{stbl.Path}/stsz";
        SizesOffset = haveSizes ? stsz.FileOffset : stbl.FileOffset;
        ChunksPath = haveChunks ? stco.Path : $"{stbl.Path}/stco";
        ChunksOffset = haveChunks ? stco.FileOffset : stbl.FileOffset;
        if (!haveSizes || !haveStts)
        {
            Mp4.Throw(stbl.FileOffset, $"{stbl.Path}: no {(haveSizes ? "stts" : "stsz or stz2")}");
        }

        ulong timed = 0;
        for (uint i = 0; i < _stts.Count; i++)
        {
            timed += U32(_stts.At + (int)(i * 8));
        }

        if (timed != SampleCount)
        {
            Mp4.Throw(SizesOffset, $"{SizesPath}: {SampleCount} samples, but stts gives times to {timed}");
        }

        for (uint i = 0; i < _ctts.Count; i++)
        {
            MinCompositionOffset = Math.Min(MinCompositionOffset, (int)U32(_ctts.At + (int)(i * 8) + 4));
        }

        if (SampleCount > 0)
        {
            CheckChunks();
        }
    }

    /// <summary>Samples in the table.</summary>
    public uint SampleCount { get; }

    /// <summary>The most negative composition offset (ctts), or 0: ffmpeg moves decode times earlier by it (its dts_shift).</summary>
    public int MinCompositionOffset { get; }

    public string SizesPath { get; }

    public long SizesOffset { get; }

    public string ChunksPath { get; }

    public long ChunksOffset { get; }

    private string StscPath { get; }

    private long StscOffset { get; }

    /// <summary>Puts <paramref name="c"/> on the first sample (or at the end of an empty table).</summary>
    public void Start(ref Mp4SampleCursor c)
    {
        c = default;
        c.Chunk = -1;
        c.SttsLeft = _stts.Count > 0 ? U32(_stts.At) : 0;
        c.CttsLeft = _ctts.Count > 0 ? U32(_ctts.At) : 0;
        SkipEmptyTimeEntries(ref c);
        if (SampleCount > 0)
        {
            NextChunk(ref c);
            Load(ref c);
        }
    }

    /// <summary>Moves <paramref name="c"/> to the next sample; at the end, <see cref="Mp4SampleCursor.Sample"/> is <see cref="SampleCount"/>.</summary>
    public void Advance(ref Mp4SampleCursor c)
    {
        c.Dts += c.Delta;
        c.Offset += c.Size;
        c.Sample++;
        c.SttsLeft--;
        if (c.CttsLeft > 0)
        {
            c.CttsLeft--;
        }

        SkipEmptyTimeEntries(ref c);
        if (c.Sample >= SampleCount)
        {
            return;
        }

        if (--c.ChunkLeft == 0)
        {
            NextChunk(ref c);
        }

        Load(ref c);
    }

    /// <summary>The end of the table's time line: the decode time after the last sample.</summary>
    public long EndTime()
    {
        long end = 0;
        for (uint i = 0; i < _stts.Count; i++)
        {
            end += (long)U32(_stts.At + (int)(i * 8)) * U32(_stts.At + (int)(i * 8) + 4);
        }

        return end;
    }

    private void SkipEmptyTimeEntries(ref Mp4SampleCursor c)
    {
        while (c.SttsLeft == 0 && c.SttsEntry + 1 < _stts.Count)
        {
            c.SttsEntry++;
            c.SttsLeft = U32(_stts.At + (int)(c.SttsEntry * 8));
        }

        while (c.CttsLeft == 0 && c.CttsEntry + 1 < _ctts.Count)
        {
            c.CttsEntry++;
            c.CttsLeft = U32(_ctts.At + (int)(c.CttsEntry * 8));
        }
    }

    private void NextChunk(ref Mp4SampleCursor c)
    {
        do
        {
            c.Chunk++;
            while (c.StscEntry + 1 < _stsc.Count && U32(_stsc.At + (int)((c.StscEntry + 1) * 12)) - 1 <= (uint)c.Chunk)
            {
                c.StscEntry++;
            }

            c.ChunkLeft = U32(_stsc.At + (int)(c.StscEntry * 12) + 4);
        }
        while (c.ChunkLeft == 0 && c.Chunk + 1 < _chunks.Count);

        // CheckChunks made sure the chunks hold every sample.
        c.Offset = _chunks64 ? (long)Math.Min(U64(_chunks.At + (c.Chunk * 8)), long.MaxValue) : U32(_chunks.At + (c.Chunk * 4));
    }

    private void Load(ref Mp4SampleCursor c)
    {
        c.Size = _sizeBits switch
        {
            0 => _constantSize,
            32 => U32(_sizesAt + (int)(c.Sample * 4)),
            16 => BinaryPrimitives.ReadUInt16BigEndian(_data.AsSpan(_sizesAt + (int)(c.Sample * 2))),
            8 => _data[_sizesAt + (int)c.Sample],
            _ => (uint)((_data[_sizesAt + (int)(c.Sample / 2)] >> ((c.Sample & 1) == 0 ? 4 : 0)) & 0x0F),
        };
        c.Delta = c.SttsLeft > 0 ? U32(_stts.At + (int)(c.SttsEntry * 8) + 4) : 0;
        c.CompositionOffset = c.CttsLeft > 0 ? (int)U32(_ctts.At + (int)(c.CttsEntry * 8) + 4) : 0;
        if (_hasStss)
        {
            while (c.StssEntry < _stss.Count && U32(_stss.At + (int)(c.StssEntry * 4)) < c.Sample + 1)
            {
                c.StssEntry++;
            }

            c.IsSync = c.StssEntry < _stss.Count && U32(_stss.At + (int)(c.StssEntry * 4)) == c.Sample + 1;
        }
        else
        {
            c.IsSync = true;
        }
    }

    /// <summary>stsc starts at chunk 1, rises, stays within stco, and its chunks hold every sample of stsz.</summary>
    private void CheckChunks()
    {
        if (_stsc.Count == 0 || _chunks.Count == 0)
        {
            Mp4.Throw(_stsc.Count == 0 ? StscOffset : ChunksOffset, $"{(_stsc.Count == 0 ? StscPath : ChunksPath)}: no entries for {SampleCount} samples");
        }

        ulong placed = 0;
        uint previous = 0;
        for (uint i = 0; i < _stsc.Count; i++)
        {
            uint first = U32(_stsc.At + (int)(i * 12));
            uint perChunk = U32(_stsc.At + (int)(i * 12) + 4);
            if (first <= previous || (i == 0 && first != 1) || first > _chunks.Count)
            {
                Mp4.Throw(StscOffset, $"{StscPath}: entry {i} starts at chunk {first} (after chunk {previous}, of {_chunks.Count} in {Mp4.TypeName(_chunks64 ? Mp4.Co64 : Mp4.Stco)})");
            }

            uint next = i + 1 < _stsc.Count ? Math.Min(U32(_stsc.At + (int)((i + 1) * 12)), _chunks.Count + 1) : _chunks.Count + 1;
            placed += (ulong)Math.Max(0, (long)next - first) * perChunk;
            previous = first;
        }

        if (placed < SampleCount)
        {
            Mp4.Throw(StscOffset, $"{StscPath}: its {_chunks.Count} chunks hold {placed} samples, but stsz has {SampleCount}");
        }
    }

    /// <summary>A FullBox's entry list: entry_count after the version and flags, then entries of <paramref name="entrySize"/> bytes.</summary>
    private Table Entries(in Mp4Box box, int entrySize)
    {
        if (box.BodyLength < 8)
        {
            Mp4.Throw(box.FileOffset, $"{box.Path}: box of {box.BodyLength} bytes is too short for its header");
        }

        uint count = U32(box.BodyStart + 4);
        if ((long)count * entrySize > box.BodyLength - 8)
        {
            Mp4.Throw(box.FileOffset, $"{box.Path}: {count} entries need {(long)count * entrySize} bytes, the box holds {box.BodyLength - 8}");
        }

        return new Table(box.BodyStart + 8, count);
    }

    private uint U32(int at) => BinaryPrimitives.ReadUInt32BigEndian(_data.AsSpan(at));

    private ulong U64(int at) => BinaryPrimitives.ReadUInt64BigEndian(_data.AsSpan(at));

    private readonly record struct Table(int At, uint Count);
}

/// <summary>Where a walk of a <see cref="Mp4SampleTable"/> is: the current sample and the table entries it is in.</summary>
internal struct Mp4SampleCursor
{
    public uint Sample;
    public long Dts;
    public uint Delta;
    public int CompositionOffset;
    public long Offset;
    public uint Size;
    public bool IsSync;

    public uint SttsEntry;
    public uint SttsLeft;
    public uint CttsEntry;
    public uint CttsLeft;
    public uint StscEntry;
    public int Chunk;
    public uint ChunkLeft;
    public uint StssEntry;
}
