namespace Sluice.Media.Tests.Formats;

/// <summary>What a muxer's output looks like to a viewer and to ffprobe.</summary>
internal static class MuxedOutput
{
    /// <summary>The header followed by every chunk's prefix and payload, as a viewer receives them.</summary>
    public static byte[] Concat(ReadOnlyMemory<byte> header, IEnumerable<MuxedChunk> chunks)
    {
        var output = new MemoryStream();
        output.Write(header.Span);
        foreach (var chunk in chunks)
        {
            output.Write(chunk.Prefix.Span);
            output.Write(chunk.Payload.Span);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Gives packets from a source that only knows presentation times (Matroska) decode times: the sorted presentation
    /// times of each track, moved earlier by the largest reorder so no decode time follows its presentation time.
    /// </summary>
    public static List<MediaPacket> WithDecodeTimes(IReadOnlyList<MediaPacket> packets)
    {
        var result = new List<MediaPacket>(packets);
        foreach (var track in packets.Select(p => p.Track).Distinct())
        {
            var indexes = Enumerable.Range(0, packets.Count).Where(i => packets[i].Track == track).ToList();
            var sorted = indexes.Select(i => packets[i].Pts).Order().ToList();
            long delay = indexes.Select((at, k) => sorted[k] - packets[at].Pts).Max();
            for (int k = 0; k < indexes.Count; k++)
            {
                var p = packets[indexes[k]];
                result[indexes[k]] = new MediaPacket(p.Track, sorted[k] - delay, p.Pts, p.IsKeyframe, p.Payload, p.Duration);
            }
        }

        return result;
    }
}
