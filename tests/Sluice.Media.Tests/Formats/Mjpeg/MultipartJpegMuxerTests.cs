using System.Runtime.InteropServices;
using System.Text;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Mjpeg;

namespace Sluice.Media.Tests.Formats.Mjpeg;

public sealed class MultipartJpegMuxerTests
{
    public static TheoryData<MultipartJpegLayout> Layouts => new(MultipartJpegLayout.ContentLength, MultipartJpegLayout.ShowOnArrival);

    private static readonly TrackInfo Mjpeg = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.MJPEG, Width = 160, Height = 120 };

    private static PacketRecorder Source() => Feeder.Feed(new MatroskaDemuxer(), MuxerSources.Bytes(MuxerSources.Mjpeg), int.MaxValue);

    [Fact]
    public void A_part_is_the_boundary_line_the_headers_and_the_JPEG_itself()
    {
        var muxer = new MultipartJpegMuxer([Mjpeg], "frame");
        var packet = new MediaPacket(0, 0, 0, true, new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 });
        var chunk = muxer.Write(packet);

        Assert.Equal("multipart/x-mixed-replace;boundary=frame", muxer.ContentType);
        Assert.True(muxer.Header.IsEmpty);
        Assert.Equal("\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n", Encoding.ASCII.GetString(chunk.Prefix.Span));
        Assert.True(chunk.IsJoinPoint);
        Assert.True(MemoryMarshal.TryGetArray(chunk.Payload, out var a));
        Assert.True(MemoryMarshal.TryGetArray(packet.Payload, out var b));
        Assert.Same(b.Array, a.Array);
    }

    [Fact]
    public void Show_on_arrival_opens_the_next_part_right_after_each_JPEG()
    {
        var muxer = new MultipartJpegMuxer([Mjpeg], "frame", MultipartJpegLayout.ShowOnArrival);
        var chunk = muxer.Write(new MediaPacket(0, 0, 0, true, "JPEG"u8.ToArray()));

        const string open = "\r\n--frame\r\nContent-Type: image/jpeg\r\n\r\n";
        Assert.Equal(open, Encoding.ASCII.GetString(muxer.Header.Span));
        Assert.Equal("JPEG" + open, Encoding.ASCII.GetString(chunk.Prefix.Span));
        Assert.True(chunk.Payload.IsEmpty);
        Assert.True(chunk.IsJoinPoint);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Ffmpeg_reads_every_frame_back_unchanged_and_decodes_it(MultipartJpegLayout layout)
    {
        var source = Source();
        var muxer = new MultipartJpegMuxer(source.Tracks!, layout: layout);
        var chunks = source.Packets.Select(muxer.Write).ToList();
        string path = MuxerSources.Output($"mjpeg-{layout}.mpjpeg");
        File.WriteAllBytes(path, MuxedOutput.Concat(muxer.Header, chunks));

        Assert.Equal("", DecodeErrors(path));
        Assert.Equal(source.Packets.Select(p => p.Payload.Length), ProbeSizes(path));

        // a viewer joining at any frame gets a valid stream
        string later = MuxerSources.Output($"mjpeg-{layout}-join.mpjpeg");
        File.WriteAllBytes(later, MuxedOutput.Concat(muxer.Header, chunks.Skip(7)));
        Assert.Equal("", DecodeErrors(later));
        Assert.Equal(source.Packets.Skip(7).Select(p => p.Payload.Length), ProbeSizes(later));
    }

    [Fact]
    public void Bare_sends_the_JPEGs_back_to_back_which_ffmpeg_decodes_from_any_frame()
    {
        var single = new MultipartJpegMuxer([Mjpeg], layout: MultipartJpegLayout.Bare);
        var packet = new MediaPacket(0, 0, 0, true, new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 });
        var one = single.Write(packet);
        Assert.Equal("video/x-mjpeg", single.ContentType);
        Assert.True(single.Header.IsEmpty && one.Prefix.IsEmpty && one.IsJoinPoint);
        Assert.True(MemoryMarshal.TryGetArray(one.Payload, out var a) && MemoryMarshal.TryGetArray(packet.Payload, out var b) && ReferenceEquals(a.Array, b.Array));

        var source = Source();
        var muxer = new MultipartJpegMuxer(source.Tracks!, layout: MultipartJpegLayout.Bare);
        var chunks = source.Packets.Select(muxer.Write).ToList();
        var bytes = MuxedOutput.Concat(muxer.Header, chunks);
        Assert.Equal(source.Packets.Sum(p => p.Payload.Length), bytes.Length);
        foreach (int skip in new[] { 0, 7 })
        {
            string path = MuxerSources.Output($"mjpeg-bare-{skip}.mjpeg");
            File.WriteAllBytes(path, MuxedOutput.Concat(muxer.Header, chunks.Skip(skip)));
            Assert.Equal("", MediaTools.DecodeErrors(path));
        }
    }

    [Fact]
    public void Only_one_MJPEG_track_and_a_plain_boundary_are_accepted()
    {
        Assert.Throws<ArgumentException>(() => new MultipartJpegMuxer([Mjpeg with { Codec = CodecId.H264 }]));
        Assert.Throws<ArgumentException>(() => new MultipartJpegMuxer([Mjpeg, Mjpeg with { Index = 1 }]));
        Assert.Throws<ArgumentException>(() => new MultipartJpegMuxer([Mjpeg with { Index = 3 }]));
        Assert.Throws<ArgumentException>(() => new MultipartJpegMuxer([Mjpeg], ""));
        Assert.Throws<ArgumentException>(() => new MultipartJpegMuxer([Mjpeg], "needs quoting"));
        Assert.Throws<ArgumentException>(() => new MultipartJpegMuxer([Mjpeg], new string('a', 71)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultipartJpegMuxer([Mjpeg]).Write(new MediaPacket(1, 0, 0, true, new byte[1])));
        Assert.True(MultipartJpegMuxer.IsValidBoundary(MultipartJpegMuxer.DefaultBoundary));
    }

    private static string DecodeErrors(string path)
    {
        var result = MediaTools.Run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-f", "mpjpeg", "-i", path, "-f", "null", "-"]);
        return result.ExitCode == 0 ? result.Stderr : $"exit code {result.ExitCode}: {result.Stderr}";
    }

    private static List<int> ProbeSizes(string path)
    {
        var json = MediaTools.Ffprobe("-f", "mpjpeg", "-show_entries", "packet=size", "-show_packets", path);
        return [.. json.GetProperty("packets").EnumerateArray().Select(p => int.Parse(p.GetProperty("size").GetString()!, System.Globalization.CultureInfo.InvariantCulture))];
    }
}
