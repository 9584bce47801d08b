using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Media;
using Sluice.Server.Configuration;
using Sluice.Server.Feeds;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>
/// Feed files with the real server, a real ffmpeg publishing and decoding: the file outlives the server, a
/// ReadOnlyFile refuses publishers, a full disk stops writing and never the live feed, and --check names the lines.
/// </summary>
public sealed class FeedFileTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private static string Sluice => Path.Combine(AppContext.BaseDirectory, "sluice.dll");

    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-feedfile-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(string file, string size = "8M", string directive = "File") => Configs.Open(extraFeed: $"{directive} {file}\nFileMaxSize {size}");

    private static async Task<JsonElement> FeedFileStatusAsync(ServerProcess server)
    {
        using var http = new HttpClient();
        using var status = JsonDocument.Parse(await http.GetStringAsync(server.Url("stat.json")));
        return status.RootElement.GetProperty("feeds")[0].GetProperty("file").Clone();
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, ServerProcess server)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; the server said:\n{server.Output}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_feed_file_is_reopened_after_a_restart_with_its_tracks_and_packets()
    {
        string path = Path.Combine(_dir, "live.sff");
        JsonElement before;
        await using (var server = await ServerProcess.StartAsync(Config(path)))
        {
            using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"), seconds: 8);
            Assert.True(await feeder.WaitForExitAsync(TimeSpan.FromSeconds(20)), "ffmpeg did not finish publishing");
            Assert.Equal(0, feeder.ExitCode);
            await Task.Delay(1500); // the writer's checkpoint (once a second) covers the last packets
            before = await FeedFileStatusAsync(server);
            Assert.Equal("writing", before.GetProperty("state").GetString());
            Assert.Contains($"feed file {path} begun for tracks", server.Output, StringComparison.Ordinal);
        } // killed, as a crash would: the file must still be whole up to its last complete packet

        Assert.True(before.GetProperty("packets").GetInt64() > 300, before.ToString());
        await using var again = await ServerProcess.StartAsync(Config(path));
        Assert.Contains($"feed file {path} reopened: tracks", again.Output, StringComparison.Ordinal);
        var after = await FeedFileStatusAsync(again);
        Assert.Equal(before.GetProperty("packets").GetInt64(), after.GetProperty("packets").GetInt64());
        Assert.Equal(before.GetProperty("tracks").ToString(), after.GetProperty("tracks").ToString());
        Assert.Equal(2, after.GetProperty("tracks").GetArrayLength());
        Assert.Equal(before.GetProperty("oldestDts").GetInt64(), after.GetProperty("oldestDts").GetInt64());
        Assert.Equal(before.GetProperty("newestDts").GetInt64(), after.GetProperty("newestDts").GetInt64());
        Assert.Empty(Directory.GetFiles(_dir, "*.aside"));
    }

    [Fact]
    public async Task A_ReadOnlyFile_refuses_a_publisher_with_the_reason_and_its_feed_s_stream_starts()
    {
        string path = Path.Combine(_dir, "archive.sff");
        var video = new TrackInfo { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240 };
        using (var file = FeedFile.Open(new FeedConfig { Name = "livestream.ffm", File = path, FileMaxSize = 8 << 20 }, NullLogger.Instance))
        {
            file.OnSession([video], truncate: false);
            for (int n = 0; n < 90; n++)
            {
                var packet = new MediaPacket(0, n * 3000L, n * 3000L, n % 30 == 0, new byte[100]);
                file.Enqueue(in packet, packet.IsKeyframe, n);
            }
        }

        byte[] bytes = await File.ReadAllBytesAsync(path);
        await using var server = await ServerProcess.StartAsync(Config(path, directive: "ReadOnlyFile"));
        using var http = new HttpClient();
        using var refused = await http.PostAsync(server.Url("livestream.ffm"), new ByteArrayContent(new byte[1000]));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains($"livestream.ffm is served from its ReadOnlyFile {path}", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var status = await FeedFileStatusAsync(server);
        Assert.Equal("readonly", status.GetProperty("state").GetString());
        Assert.Equal(90, status.GetProperty("packets").GetInt64());
        Assert.Contains("vp8", status.GetProperty("tracks").ToString(), StringComparison.Ordinal);
        using var stat = await http.GetAsync(server.Url("stat.html"));
        Assert.Contains("livestream", await stat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task A_full_disk_stops_writing_with_a_log_line_while_a_live_viewer_decodes_and_writing_resumes_when_space_is_freed()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test mounts a small tmpfs to fill it: run it as root");
        string mount = Path.Combine(_dir, "disk");
        Directory.CreateDirectory(mount);
        var mounted = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], TimeSpan.FromSeconds(10));
        Assert.True(mounted.ExitCode == 0, $"mount failed: {mounted}");
        try
        {
            string filler = Path.Combine(mount, "filler");
            await File.WriteAllBytesAsync(filler, new byte[850 * 1024]); // leaves about 170 KiB: two seconds of the feed
            string path = Path.Combine(mount, "live.sff");
            await using var server = await ServerProcess.StartAsync(Config(path));
            using var feeder = FfmpegPublisher.Start(server.Url("livestream.ffm"));
            await WaitForAsync(() => server.Output.Contains("Feed livestream.ffm: tracks", StringComparison.Ordinal), "the publisher", server);
            var viewer = ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "10000000", "-i", server.Url("livestream"), "-t", "9", "-map", "0:v", "-f", "framecrc", "-"], TimeSpan.FromSeconds(30));

            await WaitForAsync(() => server.Output.Contains($"writing feed file {path} stopped", StringComparison.Ordinal), "writing to stop on the full disk", server);
            var stopped = await FeedFileStatusAsync(server);
            Assert.Equal("stopped", stopped.GetProperty("state").GetString());
            Assert.Contains("space", stopped.GetProperty("stopReason").GetString(), StringComparison.OrdinalIgnoreCase);

            File.Delete(filler);
            await WaitForAsync(() => server.Output.Contains($"writing feed file {path} resumed", StringComparison.Ordinal), "writing to resume", server);
            Assert.Equal("writing", (await FeedFileStatusAsync(server)).GetProperty("state").GetString());

            var decoded = await viewer;
            Assert.True(decoded.ExitCode == 0, decoded.ToString());
            int frames = decoded.StdOut.Split('\n').Count(l => l.StartsWith("0,", StringComparison.Ordinal));
            Assert.True(frames >= 200, $"the live viewer decoded {frames} frames in 9 s:\n{decoded}");
            Assert.False(server.HasExited);
        }
        finally
        {
            await ProcessRunner.RunAsync("umount", ["-l", mount], TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Check_names_the_line_of_a_File_that_cannot_be_written_and_of_a_missing_ReadOnlyFile()
    {
        string config = Path.Combine(_dir, "files.conf");
        string missing = Path.Combine(_dir, "nowhere", "a.sff");
        string archive = Path.Combine(_dir, "archive.sff");
        await File.WriteAllTextAsync(config, $"<Feed a.ffm>\nFile {missing}\n</Feed>\n<Feed b.ffm>\nReadOnlyFile {archive}\n</Feed>\n");
        var result = await ProcessRunner.RunAsync("dotnet", [Sluice, "--check", "-f", config], TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{config}:2: File {missing} cannot be written: its directory {Path.GetDirectoryName(missing)} does not exist", result.StdErr, StringComparison.Ordinal);
        Assert.Contains($"{config}:5: ReadOnlyFile {archive} does not exist;", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("sluice: the configuration has 2 error(s); not starting.", result.StdErr, StringComparison.Ordinal);
    }
}
