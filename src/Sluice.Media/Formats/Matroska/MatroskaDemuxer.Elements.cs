using System.Buffers;
using Sluice.Media.Codecs;

namespace Sluice.Media.Formats.Matroska;

/// <summary>Parsing of complete elements: EBML header, Info, Tracks, blocks.</summary>
public sealed partial class MatroskaDemuxer
{
    private void ParseEbmlHeader(ReadOnlySequence<byte> body, long bodyOffset)
    {
        string docType = "matroska";
        var children = new ChildReader(body, bodyOffset, ElementId.Ebml);
        while (children.Next(out uint id, out var value, out long offset))
        {
            switch ((ElementId)id)
            {
                case ElementId.DocType:
                    docType = ReadString(value, offset, id);
                    break;
                case ElementId.EbmlReadVersion when ReadUInt(value, offset, id) > 1:
                    Ebml.ThrowFormat(offset, $"EBMLReadVersion {ReadUInt(value, offset, id)} is not supported (only 1)");
                    break;
                case ElementId.EbmlMaxIdLength when ReadUInt(value, offset, id) > 4:
                    Ebml.ThrowFormat(offset, $"EBMLMaxIDLength {ReadUInt(value, offset, id)} is not supported (at most 4)");
                    break;
                case ElementId.EbmlMaxSizeLength when ReadUInt(value, offset, id) > 8:
                    Ebml.ThrowFormat(offset, $"EBMLMaxSizeLength {ReadUInt(value, offset, id)} is not supported (at most 8)");
                    break;
            }
        }

        if (docType is not ("webm" or "matroska"))
        {
            Ebml.ThrowFormat(bodyOffset, $"DocType \"{docType}\" is neither webm nor matroska");
        }

        DocType = docType;
    }

    private void ParseInfo(ReadOnlySequence<byte> body, long bodyOffset)
    {
        var children = new ChildReader(body, bodyOffset, ElementId.Info);
        while (children.Next(out uint id, out var value, out long offset))
        {
            if ((ElementId)id == ElementId.TimestampScale)
            {
                ulong scale = ReadUInt(value, offset, id);
                if (scale == 0 || scale > int.MaxValue)
                {
                    Ebml.ThrowFormat(offset, $"TimestampScale {scale} is out of range");
                }

                TimestampScale = (long)scale;
            }
        }
    }

    private void ParseTracks(ReadOnlySequence<byte> body, long bodyOffset, IPacketSink sink)
    {
        if (Tracks is not null)
        {
            // A repeated Tracks element (a writer restating its header) changes nothing for an ongoing feed.
            return;
        }

        var tracks = new List<TrackInfo>();
        var states = new List<TrackState>();
        var children = new ChildReader(body, bodyOffset, ElementId.Tracks);
        while (children.Next(out uint id, out var value, out long offset))
        {
            if ((ElementId)id == ElementId.TrackEntry)
            {
                var (info, number) = ParseTrackEntry(value, offset, tracks.Count);
                info = info with { TimePrecision = TimePrecisionTicks };
                if (!_trackByNumber.TryAdd(number, tracks.Count))
                {
                    Ebml.ThrowFormat(offset, $"TrackNumber {number} appears twice in Tracks");
                }

                tracks.Add(info);
                states.Add(new TrackState(info.DefaultDuration, info.CodecDelayNs));
            }
        }

        _trackStates = [.. states];
        // Video with B-frames gets decode times derived from the presentation times; every track is delayed by the
        // deepest lead, so that no decode time falls before the stream's start.
        _timelines = new DecodeTimeline?[tracks.Count];
        _lead = 0;
        foreach (var track in tracks)
        {
            int depth = track.Kind == MediaKind.Video ? DecodeTimeline.DepthOf(track) : 0;
            if (depth > 0)
            {
                var timeline = new DecodeTimeline(depth, track.DefaultDuration > 0 ? track.DefaultDuration : MediaTime.TicksPerSecond / 25);
                _timelines[track.Index] = timeline;
                _lead = Math.Max(_lead, timeline.Lead);
            }
        }

        Tracks = tracks;
        sink.OnTracks(tracks);
    }

    private static (TrackInfo Info, ulong Number) ParseTrackEntry(ReadOnlySequence<byte> body, long bodyOffset, int index)
    {
        ulong number = 0;
        ulong type = 0;
        string codecName = "";
        byte[] codecPrivate = [];
        ulong defaultDurationNs = 0, codecDelay = 0, seekPreRoll = 0;
        string language = "eng";
        string? languageBcp47 = null;
        int width = 0, height = 0, channels = 1, bitDepth = 0;
        double samplingFrequency = 8000;

        var children = new ChildReader(body, bodyOffset, ElementId.TrackEntry);
        while (children.Next(out uint id, out var value, out long offset))
        {
            switch ((ElementId)id)
            {
                case ElementId.TrackNumber: number = ReadUInt(value, offset, id); break;
                case ElementId.TrackType: type = ReadUInt(value, offset, id); break;
                case ElementId.CodecId: codecName = ReadString(value, offset, id); break;
                case ElementId.CodecPrivate: codecPrivate = value.ToArray(); break;
                case ElementId.DefaultDuration: defaultDurationNs = ReadUInt(value, offset, id); break;
                case ElementId.CodecDelay: codecDelay = ReadUInt(value, offset, id); break;
                case ElementId.SeekPreRoll: seekPreRoll = ReadUInt(value, offset, id); break;
                case ElementId.Language: language = ReadString(value, offset, id); break;
                case ElementId.LanguageBcp47: languageBcp47 = ReadString(value, offset, id); break;
                case ElementId.ContentEncodings:
                    Ebml.ThrowFormat(offset, "a track uses ContentEncodings (compressed or encrypted frames), which is not supported");
                    break;
                case ElementId.Video:
                {
                    var video = new ChildReader(value, offset, ElementId.Video);
                    while (video.Next(out uint vid, out var v, out long vOffset))
                    {
                        if ((ElementId)vid == ElementId.PixelWidth)
                        {
                            width = ClampToInt(ReadUInt(v, vOffset, vid));
                        }
                        else if ((ElementId)vid == ElementId.PixelHeight)
                        {
                            height = ClampToInt(ReadUInt(v, vOffset, vid));
                        }
                    }

                    break;
                }

                case ElementId.Audio:
                {
                    var audio = new ChildReader(value, offset, ElementId.Audio);
                    while (audio.Next(out uint aid, out var a, out long aOffset))
                    {
                        switch ((ElementId)aid)
                        {
                            case ElementId.SamplingFrequency: samplingFrequency = ReadFloat(a, aOffset, aid); break;
                            case ElementId.Channels: channels = ClampToInt(ReadUInt(a, aOffset, aid)); break;
                            case ElementId.BitDepth: bitDepth = ClampToInt(ReadUInt(a, aOffset, aid)); break;
                        }
                    }

                    break;
                }
            }
        }

        if (number == 0)
        {
            Ebml.ThrowFormat(bodyOffset, "a TrackEntry has no TrackNumber (or 0)");
        }

        var kind = (TrackType)Math.Min(type, 0xFF) switch
        {
            TrackType.Video => MediaKind.Video,
            TrackType.Audio => MediaKind.Audio,
            TrackType.Subtitle => MediaKind.Subtitle,
            _ => MediaKind.Data,
        };

        var codec = MatroskaCodecs.FromMatroska(codecName);
        if (codecName == MatroskaCodecs.VideoForWindows)
        {
            codec = MatroskaCodecs.FromVideoForWindows(codecPrivate, out var own);
            codecPrivate = own.ToArray();
        }
        else if (codecName == MatroskaCodecs.AudioCompressionManager)
        {
            codec = MatroskaCodecs.FromAudioCompressionManager(codecPrivate);
        }

        var info = new TrackInfo
        {
            Index = index,
            Kind = kind,
            Codec = codec,
            ContainerCodecName = codecName,
            CodecPrivate = codecPrivate,
            Width = width,
            Height = height,
            DefaultDuration = defaultDurationNs > long.MaxValue / 2 ? 0 : MediaTime.FromNanoseconds((long)defaultDurationNs),
            SampleRate = kind == MediaKind.Audio && double.IsFinite(samplingFrequency) && samplingFrequency is > 0 and < int.MaxValue
                ? (int)Math.Round(samplingFrequency)
                : 0,
            Channels = kind == MediaKind.Audio ? channels : 0,
            BitDepth = bitDepth,
            CodecDelayNs = (long)Math.Min(codecDelay, long.MaxValue),
            SeekPreRollNs = (long)Math.Min(seekPreRoll, long.MaxValue),
            Language = languageBcp47 ?? language,
        };
        return (info, number);
    }

    private void ParseBlockGroup(ReadOnlySequence<byte> body, long bodyOffset, IPacketSink sink)
    {
        ReadOnlySequence<byte> block = default;
        long blockOffset = -1;
        bool hasReference = false;
        long duration = -1;
        var children = new ChildReader(body, bodyOffset, ElementId.BlockGroup);
        while (children.Next(out uint id, out var value, out long offset))
        {
            switch ((ElementId)id)
            {
                case ElementId.Block:
                    block = value;
                    blockOffset = offset;
                    break;
                case ElementId.ReferenceBlock:
                    hasReference = true;
                    break;
                case ElementId.BlockDuration:
                    duration = (long)Math.Min(ReadUInt(value, offset, id), int.MaxValue);
                    break;
            }
        }

        if (blockOffset < 0)
        {
            Ebml.ThrowFormat(bodyOffset, "BlockGroup without a Block");
        }

        ParseBlock(block, blockOffset, simple: false, groupKeyframe: !hasReference, groupDuration: duration, sink);
    }

    /// <summary>A SimpleBlock or Block: track, relative timestamp, flags, lacing, frames.</summary>
    private void ParseBlock(ReadOnlySequence<byte> body, long bodyOffset, bool simple, bool groupKeyframe, long groupDuration, IPacketSink sink)
    {
        string name = simple ? "SimpleBlock" : "Block";
        if (Tracks is null)
        {
            Ebml.ThrowFormat(bodyOffset, $"{name} before Tracks");
        }

        if (_clusterTimestamp < 0)
        {
            Ebml.ThrowFormat(bodyOffset, $"{name} before the Cluster Timestamp");
        }

        var reader = new SequenceReader<byte>(body);
        Span<byte> scratch = stackalloc byte[8];
        if (!reader.TryPeek(out byte first))
        {
            Ebml.ThrowFormat(bodyOffset, $"empty {name}");
        }

        int numberLength = Ebml.VintLength(first);
        if (numberLength > 8)
        {
            Ebml.ThrowFormat(bodyOffset, $"{name} track number has no VINT length marker");
        }

        if (reader.Remaining < numberLength + 3)
        {
            Ebml.ThrowFormat(bodyOffset, $"{name} of {body.Length} bytes is too short for its header");
        }

        reader.TryCopyTo(scratch[..numberLength]);
        reader.Advance(numberLength);
        ulong number = (ulong)Ebml.ReadVintValue(scratch[..numberLength], out _);
        reader.TryReadBigEndian(out short relative);
        reader.TryRead(out byte flags);

        if (!_trackByNumber.TryGetValue(number, out int index))
        {
            Ebml.ThrowFormat(bodyOffset, $"{name} for track number {number}, which Tracks does not declare");
        }

        int lacing = (flags >> 1) & 3;
        int frameCount = 1;
        if (lacing != 0)
        {
            if (!reader.TryRead(out byte countMinusOne))
            {
                Ebml.ThrowFormat(bodyOffset, $"{name} is too short for its lacing header");
            }

            frameCount = countMinusOne + 1;
        }

        Span<int> sizes = stackalloc int[frameCount];
        ReadLaceSizes(ref reader, lacing, sizes, bodyOffset, name);

        bool keyframe = simple ? (flags & 0x80) != 0 : groupKeyframe;
        // CodecDelay (Opus pre-skip) is part of the stored block times; the presentation time is without it
        // (RFC 9559, CodecDelay), as ffmpeg reports it. Subtracted in Segment Ticks, as ffmpeg does.
        var state = _trackStates[index];
        long delay = state.CodecDelayNs > 0 ? (state.CodecDelayNs + (TimestampScale / 2)) / TimestampScale : 0;
        long time = ToTicks(_clusterTimestamp + relative - delay, bodyOffset);
        long frameDuration = state.DefaultDuration;
        long blockDuration = groupDuration >= 0 ? ToTicks(groupDuration, bodyOffset) : 0;
        if (frameDuration == 0 && blockDuration > 0)
        {
            frameDuration = blockDuration / frameCount;
        }

        for (int i = 0; i < frameCount; i++)
        {
            reader.UnreadSequence.Slice(0, sizes[i]).CopyTo(_payloads.Reserve(sizes[i]));
            var payload = _payloads.Commit(sizes[i], out var owner);
            reader.Advance(sizes[i]);
            long pts = time + (i * frameDuration) + _lead;
            long dts = _timelines[index] is { } timeline ? timeline.Next(pts) : pts;
            sink.Accept(new MediaPacket(index, dts, pts, keyframe, payload, frameDuration, owner));
        }
    }

    /// <summary>Fills the frame sizes of a block (one frame when not laced) and checks they fill the block exactly.</summary>
    private static void ReadLaceSizes(ref SequenceReader<byte> reader, int lacing, scoped Span<int> sizes, long bodyOffset, string name)
    {
        int count = sizes.Length;
        long sum = 0;
        switch (lacing)
        {
            case 0:
                break;

            case 1: // Xiph: each size but the last as a run of 255s and a final byte below 255
                for (int i = 0; i < count - 1; i++)
                {
                    long size = 0;
                    byte b;
                    do
                    {
                        if (!reader.TryRead(out b))
                        {
                            Ebml.ThrowFormat(bodyOffset, $"{name} ends inside its Xiph lacing sizes");
                        }

                        size += b;
                    }
                    while (b == 255);

                    sizes[i] = (int)Math.Min(size, int.MaxValue);
                    sum += size;
                }

                break;

            case 3: // EBML: first size as a VINT, the others as signed VINT differences from the previous
            {
                Span<byte> scratch = stackalloc byte[8];
                long previous = 0;
                for (int i = 0; i < count - 1; i++)
                {
                    if (!reader.TryPeek(out byte first) || Ebml.VintLength(first) > 8 || reader.Remaining < Ebml.VintLength(first))
                    {
                        Ebml.ThrowFormat(bodyOffset, $"{name} has an invalid or truncated EBML lacing size");
                    }

                    int length = Ebml.VintLength(first);
                    reader.TryCopyTo(scratch[..length]);
                    reader.Advance(length);
                    long raw = Ebml.ReadVintValue(scratch[..length], out _);
                    long size = i == 0 ? raw : previous + (raw - ((1L << ((7 * length) - 1)) - 1));
                    if (size < 0 || size > MaxBlockSize)
                    {
                        Ebml.ThrowFormat(bodyOffset, $"{name} has an invalid EBML lacing size {size} for frame {i}");
                    }

                    sizes[i] = (int)size;
                    sum += size;
                    previous = size;
                }

                break;
            }

            case 2: // fixed-size: all frames the same size
            {
                long data = reader.Remaining;
                if (data % count != 0)
                {
                    Ebml.ThrowFormat(bodyOffset, $"{name} with fixed-size lacing: {data} bytes do not split into {count} equal frames");
                }

                sizes.Fill((int)(data / count));
                return;
            }
        }

        long last = reader.Remaining - sum;
        if (last < 0)
        {
            Ebml.ThrowFormat(bodyOffset, $"{name} lacing sizes add up to {sum} bytes, more than the {reader.Remaining} the block holds");
        }

        sizes[count - 1] = (int)last;
    }

    /// <summary>The TimestampScale in <see cref="MediaTime"/> ticks when it is coarser than one (90 at the usual 1 ms), else 0.</summary>
    private long TimePrecisionTicks => TimestampScale * 9 / 100_000 is var ticks and > 1 ? ticks : 0;

    /// <summary>Segment ticks (TimestampScale units) to <see cref="MediaTime"/> ticks, rounded to nearest.</summary>
    private long ToTicks(long segmentTicks, long offset)
    {
        Int128 numerator = (Int128)segmentTicks * TimestampScale * 9;
        Int128 ticks = numerator >= 0 ? (numerator + 50_000) / 100_000 : -((-numerator + 50_000) / 100_000);
        if (ticks > long.MaxValue / 4 || ticks < long.MinValue / 4)
        {
            Ebml.ThrowFormat(offset, $"timestamp {segmentTicks} × {TimestampScale} ns is out of range");
        }

        return (long)ticks;
    }

    private static int ClampToInt(ulong value) => (int)Math.Min(value, int.MaxValue);

    private static ulong ReadUInt(in ReadOnlySequence<byte> value, long offset, uint id)
    {
        if (value.Length > 8)
        {
            Ebml.ThrowFormat(offset, $"{Ebml.NameOf(id)} is {value.Length} bytes long; an unsigned integer has at most 8");
        }

        Span<byte> buffer = stackalloc byte[8];
        value.CopyTo(buffer);
        return Ebml.ReadUInt(buffer[..(int)value.Length], offset, id);
    }

    private static double ReadFloat(in ReadOnlySequence<byte> value, long offset, uint id)
    {
        if (value.Length > 8)
        {
            Ebml.ThrowFormat(offset, $"{Ebml.NameOf(id)} is {value.Length} bytes long; a float has 0, 4 or 8");
        }

        Span<byte> buffer = stackalloc byte[8];
        value.CopyTo(buffer);
        return Ebml.ReadFloat(buffer[..(int)value.Length], offset, id);
    }

    private static string ReadString(in ReadOnlySequence<byte> value, long offset, uint id)
    {
        if (value.Length > 4096)
        {
            Ebml.ThrowFormat(offset, $"{Ebml.NameOf(id)} of {value.Length} bytes is too long for a string");
        }

        return Ebml.ReadString(value.ToArray());
    }

    /// <summary>Per-track state the block parser needs.</summary>
    private readonly record struct TrackState(long DefaultDuration, long CodecDelayNs);

    /// <summary>Iterates the children of a complete master element. Children must lie within it.</summary>
    private ref struct ChildReader
    {
        private readonly ReadOnlySequence<byte> _body;
        private readonly long _bodyOffset;
        private readonly ElementId _parent;
        private long _at;

        public ChildReader(ReadOnlySequence<byte> body, long bodyOffset, ElementId parent)
        {
            _body = body;
            _bodyOffset = bodyOffset;
            _parent = parent;
        }

        public bool Next(out uint id, out ReadOnlySequence<byte> value, out long valueOffset)
        {
            value = default;
            valueOffset = 0;
            id = 0;
            long left = _body.Length - _at;
            if (left == 0)
            {
                return false;
            }

            Span<byte> head = stackalloc byte[Ebml.MaxHeaderLength];
            int have = (int)Math.Min(head.Length, left);
            _body.Slice(_at, have).CopyTo(head);
            long offset = _bodyOffset + _at;
            if (!Ebml.TryReadHeader(head[..have], offset, out id, out long size, out int headerLength))
            {
                Ebml.ThrowFormat(offset, $"element header runs past the end of its parent {Ebml.NameOf(_parent)}");
            }

            if (size == Ebml.UnknownSize)
            {
                Ebml.ThrowFormat(offset, $"{Ebml.NameOf(id)} in {Ebml.NameOf(_parent)} has an unknown size");
            }

            if (size > left - headerLength)
            {
                Ebml.ThrowFormat(offset, $"{Ebml.NameOf(id)} of {size} bytes runs past the end of its parent {Ebml.NameOf(_parent)}");
            }

            value = _body.Slice(_at + headerLength, size);
            valueOffset = offset + headerLength;
            _at += headerLength + size;
            return true;
        }
    }
}
