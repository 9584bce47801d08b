using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Ogg;

namespace Sluice.Media.Tests.Formats.Ogg;

public sealed class OggMuxerTests
{
    /// <summary>The sources every round-trip test runs on.</summary>
    public static TheoryData<string> Sources => new(MuxerSources.Vorbis, MuxerSources.Opus, MuxerSources.TheoraVorbis, MuxerSources.TheoraLarge);

    private sealed record Muxed(IReadOnlyList<TrackInfo> Tracks, List<MediaPacket> Packets, OggMuxer Muxer, List<MuxedChunk> Chunks, byte[] Bytes, string Path);

    private static Muxed Mux(string source)
    {
        var recorder = Feeder.Feed(new MatroskaDemuxer(), MuxerSources.Bytes(source), int.MaxValue);
        var muxer = new OggMuxer(recorder.Tracks!);
        var chunks = recorder.Packets.Select(muxer.Write).ToList();
        byte[] bytes = MuxerSources.Concat(muxer.Header, chunks);
        string path = MuxerSources.Output($"{source}.ogg");
        File.WriteAllBytes(path, bytes);
        return new Muxed(recorder.Tracks!, recorder.Packets, muxer, chunks, bytes, path);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Dump(string source)
    {
        var m = Mux(source);
        var r = MediaTools.Run("ffprobe", ["-v", "error", "-show_entries", "packet=stream_index,pts,pts_time,duration,size,flags:stream=index,start_time,duration,time_base", "-of", "csv", m.Path]);
        File.WriteAllText(MuxerSources.Output(source + ".txt"), string.Join("\n", m.Packets.Select(p => p.ToString())) + "\n----\n" + Encoding.UTF8.GetString(r.Stdout) + r.Stderr + "\n----\n" + MediaTools.DecodeErrors(m.Path));
        File.Copy(m.Path, "/tmp/ogg/" + source + ".ogg", true);
        File.Copy(MuxerSources.Output(source + ".txt"), "/tmp/ogg/" + source + ".txt", true);
    }
}
