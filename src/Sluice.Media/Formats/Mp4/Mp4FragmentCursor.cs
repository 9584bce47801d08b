using System.Buffers.Binary;

namespace Sluice.Media.Formats.Mp4;

/// <summary>A movie fragment's moof box in the file: where it starts, its length and its header's.</summary>
internal readonly record struct Mp4Fragment(long Offset, int Length, int HeaderLength);

/// <summary>A track's defaults for its fragments (trex, ISO 14496-12 8.8.3).</summary>
internal readonly record struct Mp4TrackDefaults(uint Duration, uint Size, uint Flags);

/// <summary>
/// Walks one track's samples through the movie fragments (ISO 14496-12 8.8): for each moof holding a traf of the
/// track, the moof is read (at most <see cref="MaxMoofLength"/> bytes, into a buffer the cursor keeps) and its truns
/// are walked entry by entry, with the defaults of the tfhd, else the trex. The data of a run starts at the tfhd's
/// base_data_offset, else at the moof (default-base-is-moof, or the first traf), else where the previous traf's data
/// ended; a run without a data_offset follows the one before. The decode time is the tfdt's where there is one, else
/// it follows the previous sample's.
/// </summary>
internal sealed class Mp4FragmentCursor
{
    /// <summary>Largest moof read.</summary>
    public const int MaxMoofLength = 16 << 20;

    private readonly Mp4Source _source;
    private readonly IReadOnlyList<Mp4Fragment>? _fragments;
    private readonly IReadOnlyDictionary<uint, Mp4TrackDefaults> _defaults;
    private readonly uint _trackId;
    private readonly bool _syncByFlags;
    private readonly List<Run> _runs = [];
    private byte[] _moof = [];
    private int _fragment;
    private int _run;
    private uint _inRun;
    private int _entryAt;
    private long _nextDts;
    private long _lastDts;

    /// <param name="fragments">The file's moofs, read as the cursor gets to them; null when they are handed over one by one (<see cref="Take"/>).</param>
    /// <param name="syncByFlags">False for audio: every sample is a sync sample, as ffmpeg reads it.</param>
    public Mp4FragmentCursor(Mp4Source source, IReadOnlyList<Mp4Fragment>? fragments, IReadOnlyDictionary<uint, Mp4TrackDefaults> defaults, uint trackId, bool syncByFlags)
    {
        _source = source;
        _fragments = fragments;
        _defaults = defaults;
        _trackId = trackId;
        _syncByFlags = syncByFlags;
    }

    public bool HasSample { get; private set; }
    public long Offset { get; private set; }
    public uint Size { get; private set; }
    public long Dts { get; private set; }
    public uint Duration { get; private set; }
    public int CompositionOffset { get; private set; }
    public bool IsSync { get; private set; }

    /// <summary>
    /// The most negative composition offset of the runs read so far, negated (0 when none is negative): ffmpeg moves the
    /// presentation times of fragments later by it (its dts_shift, which it takes off the decode times of a progressive
    /// file's samples instead).
    /// </summary>
    public long CompositionShift { get; private set; }

    /// <summary>Goes to the first sample of the first fragment; decode times start at <paramref name="startDts"/> until a tfdt says otherwise.</summary>
    public void Start(long startDts)
    {
        _fragment = -1;
        _runs.Clear();
        _run = 0;
        _inRun = 0;
        _nextDts = startDts;
        _lastDts = long.MinValue;
        CompositionShift = 0;
        Settle();
    }

    public void Advance()
    {
        _nextDts = Dts + Duration;
        var run = _runs[_run];
        Offset += Size;
        _inRun++;
        _entryAt += run.EntrySize;
        Settle();
    }

    /// <summary>Loads the current entry, moving on to the next run or fragment while the current one is spent.</summary>
    private void Settle()
    {
        while (true)
        {
            if (_run < _runs.Count)
            {
                var run = _runs[_run];
                if (_inRun < run.Count)
                {
                    Load(run);
                    return;
                }

                if (++_run < _runs.Count)
                {
                    EnterRun();
                }

                continue;
            }

            if (_fragments is null || _fragment + 1 >= _fragments.Count)
            {
                HasSample = false;
                return;
            }

            _fragment++;
            var fragment = _fragments[_fragment];
            if (_moof.Length < fragment.Length)
            {
                _moof = new byte[Math.Max(fragment.Length, Math.Min(MaxMoofLength, _moof.Length * 2))];
            }

            _source.ReadAt(fragment.Offset, _moof.AsSpan(0, fragment.Length));
            ReadFragment(fragment);
        }
    }

    /// <summary>
    /// Walks the runs of <paramref name="moof"/> (the whole box, number <paramref name="index"/> of the stream), handed
    /// over by a reader that gets the file in pieces; the cursor keeps the array until the next one.
    /// </summary>
    public void Take(byte[] moof, in Mp4Fragment fragment, int index)
    {
        _moof = moof;
        _fragment = index;
        ReadFragment(fragment);
        Settle();
    }

    private void EnterRun()
    {
        var run = _runs[_run];
        _inRun = 0;
        _entryAt = run.EntriesAt;
        Offset = run.DataStart;
        if (run.HasBaseDts)
        {
            if (run.BaseDts < _lastDts)
            {
                // A decode time may meet the end of the previous sample's duration early (a writer's rounding), never go back past its start.
                Mp4.Throw(run.TfdtOffset, $"moof[{_fragment}]/traf[{run.Traf}]/tfdt: base decode time {run.BaseDts} goes back before the track's previous sample at {_lastDts}");
            }

            _nextDts = run.BaseDts;
        }
    }

    private void Load(in Run run)
    {
        var entry = _moof.AsSpan(_entryAt, run.EntrySize);
        int at = 0;
        uint duration = run.DefaultDuration, size = run.DefaultSize;
        uint flags = _inRun == 0 && run.HasFirstFlags ? run.FirstFlags : run.DefaultFlags;
        int composition = 0;
        if ((run.Flags & Mp4.TrunDuration) != 0)
        {
            duration = BinaryPrimitives.ReadUInt32BigEndian(entry[at..]);
            at += 4;
        }

        if ((run.Flags & Mp4.TrunSize) != 0)
        {
            size = BinaryPrimitives.ReadUInt32BigEndian(entry[at..]);
            at += 4;
        }

        if ((run.Flags & Mp4.TrunFlags) != 0)
        {
            flags = BinaryPrimitives.ReadUInt32BigEndian(entry[at..]);
            at += 4;
        }

        if ((run.Flags & Mp4.TrunCompositionOffset) != 0)
        {
            // Signed in version 1; ffmpeg reads version 0's as signed too, and so does Sluice.
            composition = BinaryPrimitives.ReadInt32BigEndian(entry[at..]);
        }

        Dts = _nextDts;
        _lastDts = Dts;
        Duration = duration;
        Size = size;
        CompositionOffset = composition;
        IsSync = !_syncByFlags || (flags & (Mp4.SampleIsNonSync | Mp4.SampleDependsOnOthers)) == 0;
        HasSample = true;
        if (size > Mp4FileReader.MaxSampleSize || Offset < 0 || Offset > _source.Length - size)
        {
            Mp4.Throw(run.FileOffset, $"moof[{_fragment}]/traf[{run.Traf}]/trun[{run.Trun}]: sample {_inRun} of {size} bytes at byte {Offset} is {(size > Mp4FileReader.MaxSampleSize ? $"larger than {Mp4FileReader.MaxSampleSize} bytes" : $"outside the file of {_source.Length} bytes")}");
        }
    }

    /// <summary>Keeps the runs of this track's trafs in the moof now in the buffer, and goes to the first.</summary>
    private void ReadFragment(in Mp4Fragment fragment)
    {
        _runs.Clear();
        int index = _fragment;
        var moof = new Mp4Box(Mp4.Moof, fragment.HeaderLength, fragment.Length - fragment.HeaderLength, fragment.Offset, fragment.HeaderLength, $"moof[{index}]");
        var trafs = new Mp4Children(_moof.AsSpan(0, fragment.Length), fragment.Offset, moof);
        long previousEnd = fragment.Offset;
        int trafIndex = 0;
        while (trafs.Find(Mp4.Traf, out var traf))
        {
            previousEnd = ReadTraf(traf, fragment, index, trafIndex++, previousEnd);
        }

        _run = 0;
        if (_runs.Count > 0)
        {
            EnterRun();
        }
    }

    /// <summary>One traf: its tfhd, tfdt and truns; returns where its data ends.</summary>
    private long ReadTraf(in Mp4Box traf, in Mp4Fragment fragment, int fragmentIndex, int trafIndex, long previousEnd)
    {
        var data = _moof.AsSpan(0, fragment.Length);
        var children = new Mp4Children(data, fragment.Offset, traf);
        if (!children.Next(out var tfhd) || tfhd.Type != Mp4.Tfhd || tfhd.BodyLength < 8)
        {
            Mp4.Throw(traf.FileOffset, $"moof[{fragmentIndex}]/traf[{trafIndex}]: does not begin with a tfhd of at least 8 bytes");
        }

        var head = data.Slice(tfhd.BodyStart, tfhd.BodyLength);
        uint flags = BinaryPrimitives.ReadUInt32BigEndian(head) & 0xFFFFFF;
        uint trackId = BinaryPrimitives.ReadUInt32BigEndian(head[4..]);
        var defaults = _defaults.GetValueOrDefault(trackId);
        int at = 8;
        int need = 8 + ((flags & Mp4.TfhdBaseDataOffset) != 0 ? 8 : 0) + ((flags & Mp4.TfhdSampleDescriptionIndex) != 0 ? 4 : 0)
            + ((flags & Mp4.TfhdDefaultDuration) != 0 ? 4 : 0) + ((flags & Mp4.TfhdDefaultSize) != 0 ? 4 : 0) + ((flags & Mp4.TfhdDefaultFlags) != 0 ? 4 : 0);
        if (head.Length < need)
        {
            Mp4.Throw(tfhd.FileOffset, $"moof[{fragmentIndex}]/traf[{trafIndex}]/tfhd: flags 0x{flags:X6} need {need} bytes, the box holds {head.Length}");
        }

        long baseOffset = (flags & Mp4.TfhdDefaultBaseIsMoof) != 0 || trafIndex == 0 ? fragment.Offset : previousEnd;
        if ((flags & Mp4.TfhdBaseDataOffset) != 0)
        {
            baseOffset = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(head[at..]), long.MaxValue / 2);
            at += 8;
        }

        at += (flags & Mp4.TfhdSampleDescriptionIndex) != 0 ? 4 : 0;
        uint duration = defaults.Duration, size = defaults.Size, sampleFlags = defaults.Flags;
        if ((flags & Mp4.TfhdDefaultDuration) != 0)
        {
            duration = BinaryPrimitives.ReadUInt32BigEndian(head[at..]);
            at += 4;
        }

        if ((flags & Mp4.TfhdDefaultSize) != 0)
        {
            size = BinaryPrimitives.ReadUInt32BigEndian(head[at..]);
            at += 4;
        }

        if ((flags & Mp4.TfhdDefaultFlags) != 0)
        {
            sampleFlags = BinaryPrimitives.ReadUInt32BigEndian(head[at..]);
        }

        bool mine = trackId == _trackId;
        bool hasBaseDts = false;
        long baseDts = 0;
        long tfdtOffset = traf.FileOffset;
        long runEnd = baseOffset;
        int trunIndex = 0;
        bool firstRun = true;
        while (children.Next(out var box))
        {
            var body = data.Slice(box.BodyStart, box.BodyLength);
            if (box.Type == Mp4.Tfdt)
            {
                int version = body.Length > 0 ? body[0] : 0;
                if (body.Length < (version == 1 ? 12 : 8))
                {
                    Mp4.Throw(box.FileOffset, $"moof[{fragmentIndex}]/traf[{trafIndex}]/tfdt: box of {body.Length} bytes is too short for version {version}");
                }

                baseDts = version == 1 ? (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(body[4..]), long.MaxValue / 4) : BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                hasBaseDts = true;
                tfdtOffset = box.FileOffset;
                continue;
            }

            if (box.Type != Mp4.Trun)
            {
                continue;
            }

            string Where() => $"moof[{fragmentIndex}]/traf[{trafIndex}]/trun[{trunIndex}]";
            if (body.Length < 8)
            {
                Mp4.Throw(box.FileOffset, $"{Where()}: box of {body.Length} bytes is too short for its header");
            }

            uint trunFlags = BinaryPrimitives.ReadUInt32BigEndian(body) & 0xFFFFFF;
            uint count = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
            int fieldsAt = 8;
            long start = runEnd;
            if ((trunFlags & Mp4.TrunDataOffset) != 0)
            {
                if (body.Length < fieldsAt + 4)
                {
                    Mp4.Throw(box.FileOffset, $"{Where()}: too short for its data_offset");
                }

                start = baseOffset + BinaryPrimitives.ReadInt32BigEndian(body[fieldsAt..]);
                fieldsAt += 4;
            }

            bool hasFirst = (trunFlags & Mp4.TrunFirstSampleFlags) != 0;
            uint firstFlags = 0;
            if (hasFirst)
            {
                if (body.Length < fieldsAt + 4)
                {
                    Mp4.Throw(box.FileOffset, $"{Where()}: too short for its first_sample_flags");
                }

                firstFlags = BinaryPrimitives.ReadUInt32BigEndian(body[fieldsAt..]);
                fieldsAt += 4;
            }

            int entrySize = 4 * (((trunFlags & Mp4.TrunDuration) != 0 ? 1 : 0) + ((trunFlags & Mp4.TrunSize) != 0 ? 1 : 0)
                + ((trunFlags & Mp4.TrunFlags) != 0 ? 1 : 0) + ((trunFlags & Mp4.TrunCompositionOffset) != 0 ? 1 : 0));
            if ((long)count * entrySize > body.Length - fieldsAt)
            {
                Mp4.Throw(box.FileOffset, $"{Where()}: {count} samples need {(long)count * entrySize} bytes, the box holds {body.Length - fieldsAt}");
            }

            if (entrySize == 0 && count > 0 && (size == 0 || count > _source.Length / size))
            {
                // Every sample alike and none stored: bounded by the file, or it is not a run at all.
                Mp4.Throw(box.FileOffset, $"{Where()}: {count} samples of the default size {size} cannot lie in a file of {_source.Length} bytes");
            }

            long total = 0;
            if ((trunFlags & Mp4.TrunSize) != 0)
            {
                int sizeAt = box.BodyStart + fieldsAt + ((trunFlags & Mp4.TrunDuration) != 0 ? 4 : 0);
                for (uint i = 0; i < count; i++)
                {
                    total += BinaryPrimitives.ReadUInt32BigEndian(data[(sizeAt + (int)(i * entrySize))..]);
                }
            }
            else
            {
                total = (long)count * size;
            }

            if (mine && count > 0)
            {
                if ((trunFlags & Mp4.TrunCompositionOffset) != 0)
                {
                    int compositionAt = box.BodyStart + fieldsAt + entrySize - 4;
                    for (uint i = 0; i < count; i++)
                    {
                        CompositionShift = Math.Max(CompositionShift, -(long)BinaryPrimitives.ReadInt32BigEndian(data[(compositionAt + (int)(i * entrySize))..]));
                    }
                }

                _runs.Add(new Run(box.BodyStart + fieldsAt, count, trunFlags, entrySize, start, duration, size, sampleFlags, hasFirst, firstFlags,
                    firstRun && hasBaseDts, baseDts, tfdtOffset, trafIndex, trunIndex, box.FileOffset));
                firstRun = false;
            }

            runEnd = start + total;
            trunIndex++;
        }

        return runEnd;
    }

    /// <summary>One trun of this track: where its entries are in the moof buffer, its flags and defaults, where its data starts.</summary>
    private readonly record struct Run(
        int EntriesAt, uint Count, uint Flags, int EntrySize, long DataStart, uint DefaultDuration, uint DefaultSize, uint DefaultFlags,
        bool HasFirstFlags, uint FirstFlags, bool HasBaseDts, long BaseDts, long TfdtOffset, int Traf, int Trun, long FileOffset);
}
