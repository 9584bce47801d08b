using System.Globalization;
using System.Text.Json;
using Sluice.Tests.Support;
using Xunit.Abstractions;

namespace Sluice.Tests;

/// <summary>
/// Every ingest container against every output container its codecs allow, checked with the real ffprobe and
/// ffmpeg: the packets a viewer gets are the source's packets (times relative to the first video packet,
/// keyframe flags, and sizes and payload hashes where both containers keep the payload as it is), and they
/// decode without an error. The source is a file ffmpeg writes at test time, pushed live with -re.
/// </summary>
public sealed class FormatMatrixTests(ITestOutputHelper output)
{
    /// <summary>An ingest: how ffmpeg writes the source, and the payload form of each kind in it.</summary>
    public sealed record Ingest(string Name, string Extension, string[] Encode, string VideoForm, string AudioForm);

    private static readonly string[] H264 = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p"];

    private static readonly string[] BFrames = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", "25", "-pix_fmt", "yuv420p"];

    private static readonly Dictionary<string, Ingest> Ingests = new()
    {
        ["matroska"] = new("matroska", "mkv", [.. H264, "-c:a", "aac", "-f", "matroska"], "avcc", "raw"),
        ["mpegts"] = new("mpegts", "ts", [.. H264, "-c:a", "aac", "-f", "mpegts"], "annexb", "adts"),
        ["flv"] = new("flv", "flv", [.. H264, "-c:a", "aac", "-f", "flv"], "avcc", "raw"),
        // With B-frames: containers that carry decode times (MPEG-TS, FLV) keep them to every output that has them;
        // from Matroska, which stores none, they are derived (as ffprobe derives them).
        ["matroska-bframes"] = new("matroska", "mkv", [.. BFrames, "-c:a", "aac", "-f", "matroska"], "avcc", "raw"),
        ["mpegts-bframes"] = new("mpegts", "ts", [.. BFrames, "-c:a", "aac", "-f", "mpegts"], "annexb", "adts"),
        ["flv-bframes"] = new("flv", "flv", [.. BFrames, "-c:a", "aac", "-f", "flv"], "avcc", "raw"),
        ["webm"] = new("webm", "webm", ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-g", "25", "-c:a", "libopus", "-f", "webm"], "vpx", "raw"),
    };

    /// <summary>Output Format, whether the stream keeps video, and the payload form of each kind in it.</summary>
    private static readonly Dictionary<string, (bool Video, string VideoForm, string AudioForm)> Outputs = new()
    {
        ["matroska"] = (true, "*", "raw"),
        ["mpegts"] = (true, "annexb", "adts"),
        ["adts"] = (false, "", "adts"),
        ["webm"] = (true, "vpx", "raw"),
        ["ogg"] = (false, "", "raw"),
        ["mp4"] = (true, "avcc", "raw"),
        ["flv"] = (true, "avcc", "raw"),
    };

    public static TheoryData<string, string> Pairs => new()
    {
        { "matroska", "matroska,mpegts,adts,mp4,flv" },
        { "mpegts", "matroska,mpegts,adts,mp4,flv" },
        { "flv", "matroska,mpegts,adts,mp4,flv" },
        { "matroska-bframes", "matroska,mpegts,mp4,flv" },
        { "mpegts-bframes", "mpegts,mp4,flv" },
        { "flv-bframes", "mpegts,mp4,flv" },
        { "webm", "webm,matroska,ogg" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task Viewers_get_the_source_packets_in_every_container(string ingestName, string outputList)
    {
        var ingest = Ingests[ingestName];
        var formats = outputList.Split(',');
        string dir = Directory.CreateTempSubdirectory("sluice-matrix-").FullName;
        try
        {
            string source = Path.Combine(dir, $"source.{ingest.Extension}");
            var made = await ProcessRunner.RunAsync("ffmpeg", [
                "-hide_banner", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                "-t", "4", .. ingest.Encode, "-y", source], TimeSpan.FromSeconds(60));
            Assert.Equal(0, made.ExitCode);

            string streams = string.Join("\n", formats.Select(f => $"<Stream s-{f}>\nFeed in.ffm\nFormat {f}\n{(Outputs[f].Video ? "" : "NoVideo\n")}</Stream>"));
            await using var server = await TestServer.StartAsync($"MaxClients 100\nMaxBandwidth 1000000\n<Feed in.ffm>\nFileMaxSize 20M\n</Feed>\n{streams}\n");

            // Viewers wait before the feed starts, so each gets the stream from its first keyframe on.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var captures = formats.ToDictionary(f => f, f => Capture(server.Url($"s-{f}"), Path.Combine(dir, $"out-{f}"), stop.Token));
            await Task.Delay(300);
            var feed = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-v", "error", "-nostdin", "-re", "-i", source, "-c", "copy", "-f", ingest.Name, server.Url("in.ffm")], TimeSpan.FromSeconds(30));
            Assert.Equal(0, feed.ExitCode);
            await Task.Delay(1500);
            await stop.CancelAsync();
            await Task.WhenAll(captures.Values);

            var sourcePackets = await ProbeAsync(source);
            foreach (var format in formats)
            {
                string file = Path.Combine(dir, $"out-{format}");
                var decoded = await ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-i", file, "-f", "null", "-"], TimeSpan.FromSeconds(30));
                Assert.True(decoded.ExitCode == 0 && decoded.StdErr.Trim() == "", $"{ingestName} -> {format}: {decoded}");
                var outPackets = await ProbeAsync(file);
                var (video, videoForm, audioForm) = Outputs[format];
                if (video)
                {
                    videoForm = videoForm == "*" ? ingest.VideoForm : videoForm;
                    Compare($"{ingestName} -> {format} video", Of(sourcePackets, "video"), Of(outPackets, "video"), SamePayload(ingest.VideoForm, videoForm), keyframes: true, SizeDelta(ingest.VideoForm, videoForm));
                }

                Compare($"{ingestName} -> {format} audio", Of(sourcePackets, "audio"), Of(outPackets, "audio"), SamePayload(ingest.AudioForm, audioForm), keyframes: false, SizeDelta(ingest.AudioForm, audioForm));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private void Compare(string what, List<Packet> source, List<Packet> viewer, bool samePayload, bool keyframes, int? sizeDelta)
    {
        Assert.True(viewer.Count > 0, $"{what}: the viewer got no packets");
        // The viewer's first packet is one of the source's; from there on, the two lists are the same.
        int start = source.FindIndex(p => Matches(p, viewer[0], samePayload, sizeDelta));
        Assert.True(start >= 0, $"{what}: the viewer's first packet ({viewer[0]}) is not in the source");
        double sourceBase = source[start].Pts, viewerBase = viewer[0].Pts;
        int compared = Math.Min(viewer.Count, source.Count - start);
        int dtsCompared = 0;
        Assert.True(compared >= source.Count - start - 2, $"{what}: the viewer got {viewer.Count} packets, the source has {source.Count - start} from the join on");
        for (int i = 0; i < compared; i++)
        {
            var s = source[start + i];
            var v = viewer[i];
            Assert.True(Math.Abs((s.Pts - sourceBase) - (v.Pts - viewerBase)) < 0.0021, $"{what} packet {i}: pts {v.Pts - viewerBase:0.####} s, source {s.Pts - sourceBase:0.####} s");
            if (s.Dts is double sd && v.Dts is double vd)
            {
                Assert.True(Math.Abs((sd - sourceBase) - (vd - viewerBase)) < 0.0021, $"{what} packet {i}: dts {vd - viewerBase:0.####} s, source {sd - sourceBase:0.####} s");
                dtsCompared++;
            }
            if (keyframes)
            {
                Assert.True(s.Key == v.Key, $"{what} packet {i}: keyframe {v.Key}, source {s.Key}");
            }

            if (!samePayload && sizeDelta is int d)
            {
                Assert.True(s.Size + d == v.Size, $"{what} packet {i}: {v.Size} B, source {s.Size} B (+{d})");
            }

            if (samePayload)
            {
                Assert.True(s.Size == v.Size && s.Hash == v.Hash, $"{what} packet {i}: {v.Size} B {v.Hash}, source {s.Size} B {s.Hash}");
            }
        }

        output.WriteLine($"{what}: {compared} packets match from source packet {start} (decode times compared: {dtsCompared}, payload compared: {samePayload})");
    }

    /// <summary>The same packet: same payload, or (another payload form) the size the form adds, or a keyframe.</summary>
    private static bool Matches(Packet source, Packet viewer, bool samePayload, int? sizeDelta) =>
        samePayload ? source.Hash == viewer.Hash
        : sizeDelta is int delta ? source.Size + delta == viewer.Size
        : source.Key == viewer.Key;

    /// <summary>
    /// Whether ffprobe reads the very same bytes on both sides. Annex B and ADTS are written anew by each muxer
    /// (access unit delimiters, parameter sets, header fields such as buffer fullness), so only sizes, or nothing, compare.
    /// </summary>
    private static bool SamePayload(string from, string to) => from == to && from is not ("annexb" or "adts");

    /// <summary>Bytes a payload form adds to another: an ADTS header (7) on raw AAC; unknown for Annex B.</summary>
    private static int? SizeDelta(string from, string to) => (from, to) switch
    {
        ("annexb", _) or (_, "annexb") => null,
        _ when from == to => 0,
        ("raw", "adts") => 7,
        ("adts", "raw") => -7,
        _ => null,
    };

    private static List<Packet> Of(List<Packet> packets, string kind) => packets.Where(p => p.Kind == kind).ToList();

    public sealed record Packet(string Kind, double Pts, double? Dts, int Size, bool Key, string Hash)
    {
        public override string ToString() => $"{Kind} pts {Pts:0.####} {Size} B{(Key ? " key" : "")}";
    }

    private static async Task<List<Packet>> ProbeAsync(string file)
    {
        var probe = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-show_data_hash", "md5", "-show_entries",
            "packet=stream_index,pts_time,dts_time,size,flags,data_hash:stream=index,codec_type", "-of", "json", file], TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, probe.ToString());
        using var json = JsonDocument.Parse(probe.StdOut);
        var kinds = json.RootElement.GetProperty("streams").EnumerateArray()
            .ToDictionary(s => s.GetProperty("index").GetInt32(), s => s.GetProperty("codec_type").GetString()!);
        return json.RootElement.GetProperty("packets").EnumerateArray().Select(p => new Packet(
            kinds[p.GetProperty("stream_index").GetInt32()],
            double.Parse(p.GetProperty("pts_time").GetString()!, CultureInfo.InvariantCulture),
            p.TryGetProperty("dts_time", out var dts) && double.TryParse(dts.GetString(), CultureInfo.InvariantCulture, out double d) ? d : null,
            int.Parse(p.GetProperty("size").GetString()!, CultureInfo.InvariantCulture),
            p.GetProperty("flags").GetString()!.StartsWith('K'),
            p.GetProperty("data_hash").GetString()!)).ToList();
    }

    /// <summary>Saves what a viewer receives until <paramref name="stop"/>.</summary>
    private static async Task Capture(string url, string file, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        await using var target = File.Create(file);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, stop);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(stop);
            await body.CopyToAsync(target, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
