using System.Buffers.Binary;
using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Tests.Formats.Matroska;

/// <summary>Builds small Matroska documents by hand for tests that ffmpeg's output does not reach.</summary>
internal static class MatroskaDocument
{
    public static EbmlWriter Header(string docType = "webm")
    {
        var w = new EbmlWriter();
        w.Master(ElementId.Ebml, e => e.UInt(ElementId.EbmlVersion, 1).UInt(ElementId.EbmlReadVersion, 1).String(ElementId.DocType, docType));
        return w;
    }

    /// <summary>EBML header, unknown-size Segment, Info and Tracks with one audio track (number 1) and one video track (number 2).</summary>
    public static EbmlWriter Start(ulong timestampScale = 1_000_000, ulong audioDefaultDurationNs = 20_000_000)
    {
        var w = Header();
        w.UnknownSizeHeader(ElementId.Segment);
        w.Master(ElementId.Info, i => i.UInt(ElementId.TimestampScale, timestampScale).UInt((ElementId)0x4321, 7));
        w.Master(ElementId.Tracks, t => t
            .Master(ElementId.TrackEntry, e =>
            {
                e.UInt(ElementId.TrackNumber, 1).UInt(ElementId.TrackType, 2).String(ElementId.CodecId, "A_OPUS");
                if (audioDefaultDurationNs > 0)
                {
                    e.UInt(ElementId.DefaultDuration, audioDefaultDurationNs);
                }

                e.Binary((ElementId)0x5A5A, [1, 2, 3]);
                e.Master(ElementId.Audio, a => a.Float(ElementId.SamplingFrequency, 48000).UInt(ElementId.Channels, 2));
            })
            .Master(ElementId.TrackEntry, e => e
                .UInt(ElementId.TrackNumber, 2).UInt(ElementId.TrackType, 1).String(ElementId.CodecId, "V_VP8")
                .Master(ElementId.Video, v => v.UInt(ElementId.PixelWidth, 64).UInt(ElementId.PixelHeight, 48))));
        return w;
    }

    public static EbmlWriter ClusterOfUnknownSize(this EbmlWriter w, ulong timestamp) =>
        w.UnknownSizeHeader(ElementId.Cluster).UInt(ElementId.Timestamp, timestamp);

    public static byte[] Block(int track, short relative, byte flags, params byte[][] laceHeaderAndData)
    {
        var bytes = new List<byte> { (byte)(0x80 | track) };
        Span<byte> time = stackalloc byte[2];
        BinaryPrimitives.WriteInt16BigEndian(time, relative);
        bytes.AddRange(time.ToArray());
        bytes.Add(flags);
        foreach (byte[] part in laceHeaderAndData)
        {
            bytes.AddRange(part);
        }

        return [.. bytes];
    }

    public static byte[] Frame(int length, byte fill) => Enumerable.Repeat(fill, length).ToArray();
}
