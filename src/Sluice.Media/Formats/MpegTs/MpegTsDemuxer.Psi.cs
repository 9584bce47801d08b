using System.Buffers.Binary;

namespace Sluice.Media.Formats.MpegTs;

public sealed partial class MpegTsDemuxer
{
    private void ReadSectionPayload(PidState state, ReadOnlySpan<byte> payload, bool unitStart, long offset, IPacketSink sink)
    {
        if (unitStart)
        {
            int pointer = payload[0];
            if (pointer + 1 > payload.Length)
            {
                BadSections++;
                state.Active = false;
                state.Length = 0;
                return;
            }

            if (state.Active)
            {
                Append(state, payload.Slice(1, pointer));
                FinishSections(state, offset, sink);
            }

            state.Active = true;
            state.Length = 0;
            Append(state, payload[(1 + pointer)..]);
        }
        else if (state.Active)
        {
            Append(state, payload);
        }
        else
        {
            return;
        }

        FinishSections(state, offset, sink);
    }

    private void Append(PidState state, ReadOnlySpan<byte> data)
    {
        if (state.Length + data.Length > MpegTs.MaxSectionSize + MpegTs.PacketSize)
        {
            BadSections++;
            state.Active = false;
            state.Length = 0;
            return;
        }

        state.Append(data);
    }

    private void FinishSections(PidState state, long offset, IPacketSink sink)
    {
        while (state.Active && state.Length >= 3)
        {
            var buffer = state.Buffer;
            if (buffer[0] == 0xFF)
            {
                // Stuffing: nothing more in this packet.
                state.Active = false;
                state.Length = 0;
                return;
            }

            int total = 3 + (((buffer[1] & 0x0F) << 8) | buffer[2]);
            if (total > MpegTs.MaxSectionSize)
            {
                BadSections++;
                state.Active = false;
                state.Length = 0;
                return;
            }

            if (state.Length < total)
            {
                return;
            }

            ReadSection(buffer.AsSpan(0, total), offset, sink);
            buffer.AsSpan(total, state.Length - total).CopyTo(buffer);
            state.Length -= total;
        }
    }

    private void ReadSection(ReadOnlySpan<byte> section, long offset, IPacketSink sink)
    {
        // Both tables use the long form: 8 bytes of header, the body, a CRC-32.
        if (section.Length < 12 || (section[1] & 0x80) == 0 || MpegTs.Crc32(section) != 0)
        {
            BadSections++;
            return;
        }

        if ((section[5] & 1) == 0)
        {
            return; // not yet applicable
        }

        var body = section[8..^4];
        switch (section[0])
        {
            case MpegTs.PatTableId when _pmtPid < 0:
                ReadPat(body);
                break;
            case MpegTs.PmtTableId when !_pmtRead:
                ReadPmt(body, offset);
                break;
        }
    }

    private void ReadPat(ReadOnlySpan<byte> body)
    {
        for (int at = 0; at + 4 <= body.Length; at += 4)
        {
            int program = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
            int pid = ((body[at + 2] & 0x1F) << 8) | body[at + 3];
            if (program == 0)
            {
                continue; // the network PID
            }

            if (pid is MpegTs.PatPid or MpegTs.NullPid)
            {
                BadSections++;
                return;
            }

            _pmtPid = pid;
            _pids[pid] = new PidState(null);
            return;
        }
    }

    private void ReadPmt(ReadOnlySpan<byte> body, long offset)
    {
        if (body.Length < 4)
        {
            BadSections++;
            return;
        }

        int programInfoLength = ((body[2] & 0x0F) << 8) | body[3];
        if (4 + programInfoLength > body.Length)
        {
            BadSections++;
            return;
        }

        var programDescriptors = body.Slice(4, programInfoLength);
        var streams = new List<StreamState>();
        for (int at = 4 + programInfoLength; at + 5 <= body.Length;)
        {
            int type = body[at];
            int pid = ((body[at + 1] & 0x1F) << 8) | body[at + 2];
            int infoLength = ((body[at + 3] & 0x0F) << 8) | body[at + 4];
            if (at + 5 + infoLength > body.Length)
            {
                BadSections++;
                return;
            }

            var descriptors = body.Slice(at + 5, infoLength);
            at += 5 + infoLength;
            if (pid is MpegTs.PatPid or MpegTs.NullPid || pid == _pmtPid || streams.Exists(s => s.Pid == pid))
            {
                continue;
            }

            var codec = (MpegTsStreamType)type switch
            {
                MpegTsStreamType.H264 => CodecId.H264,
                MpegTsStreamType.H265 => CodecId.H265,
                MpegTsStreamType.AdtsAac => CodecId.AAC,
                // MPEG-1 or MPEG-2 video, Layer II or III audio: which one, the first sequence header or frame tells.
                MpegTsStreamType.Mpeg1Video or MpegTsStreamType.Mpeg2Video => CodecId.MPEG2Video,
                MpegTsStreamType.Mpeg4Visual => CodecId.MPEG4,
                MpegTsStreamType.Mpeg1Audio or MpegTsStreamType.Mpeg2Audio => CodecId.MP3,
                MpegTsStreamType.PrivatePes when IsOpus(descriptors) || IsOpus(programDescriptors) => CodecId.Opus,
                _ => CodecId.Unknown,
            };
            if (codec == CodecId.Unknown)
            {
                _ignored.Add((pid, type));
                continue;
            }

            streams.Add(new StreamState(pid, type, codec) { OpusChannelCode = codec == CodecId.Opus ? OpusChannelCode(descriptors) : -1 });
        }

        if (streams.Count == 0)
        {
            ThrowFormat(offset, $"the PMT has no stream of a codec Sluice reads (H.264, H.265, MPEG-4 Part 2, MPEG-1/2 video, AAC in ADTS, MP2, MP3, Opus); its stream types are [{string.Join(", ", _ignored.Select(s => $"0x{s.StreamType:X2}"))}]");
        }

        _pmtRead = true;
        foreach (var stream in streams)
        {
            _streams.Add(stream);
            _pids[stream.Pid] = new PidState(stream);
        }
    }

    private static bool IsOpus(ReadOnlySpan<byte> descriptors)
    {
        foreach (var (tag, data) in Descriptors(descriptors))
        {
            if (tag == MpegTs.RegistrationDescriptor && data.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(data) == MpegTs.OpusRegistration)
            {
                return true;
            }
        }

        return false;
    }

    private static int OpusChannelCode(ReadOnlySpan<byte> descriptors)
    {
        foreach (var (tag, data) in Descriptors(descriptors))
        {
            if (tag == MpegTs.ExtensionDescriptor && data.Length >= 2 && data[0] == OpusInTs.OpusExtensionTag)
            {
                return data[1];
            }
        }

        return 2; // no descriptor: assume stereo
    }

    private static List<(byte Tag, byte[] Data)> Descriptors(ReadOnlySpan<byte> descriptors)
    {
        var list = new List<(byte, byte[])>();
        for (int at = 0; at + 2 <= descriptors.Length;)
        {
            int length = descriptors[at + 1];
            if (at + 2 + length > descriptors.Length)
            {
                break;
            }

            list.Add((descriptors[at], descriptors.Slice(at + 2, length).ToArray()));
            at += 2 + length;
        }

        return list;
    }
}
