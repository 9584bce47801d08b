using System.Buffers.Binary;
using System.Text;

namespace Sluice.Media.Tests.Formats.Mp4;

/// <summary>Finds boxes in an MP4 file's bytes, for tests that damage one on purpose.</summary>
internal static class Mp4Boxes
{
    private static readonly HashSet<string> Containers = ["moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "edts"];

    /// <summary>Every box (32-bit sizes only, as ffmpeg writes small files): its offset, size and path, children after their parent.</summary>
    public static List<(int Offset, int Size, string Path)> All(byte[] data)
    {
        var boxes = new List<(int, int, string)>();
        Walk(data, 0, data.Length, "", boxes);
        return boxes;
    }

    /// <summary>The offset of the first box at <paramref name="path"/> ("moov/trak/mdia/minf/stbl/stsz", no indexes).</summary>
    public static int Find(byte[] data, string path) => All(data).First(b => b.Path == path).Offset;

    private static void Walk(byte[] data, int at, int end, string parent, List<(int, int, string)> boxes)
    {
        while (at + 8 <= end)
        {
            int size = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            if (size < 8 || size > end - at)
            {
                return;
            }

            string type = Encoding.ASCII.GetString(data, at + 4, 4);
            string path = parent.Length == 0 ? type : $"{parent}/{type}";
            boxes.Add((at, size, path));
            if (Containers.Contains(type))
            {
                Walk(data, at + 8, at + size, path, boxes);
            }

            at += size;
        }
    }
}
