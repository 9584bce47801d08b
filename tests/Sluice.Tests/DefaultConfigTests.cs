using System.Net;
using System.Net.Http;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Tests;

/// <summary>The built-in config of scripts/run: the seed config plus a Launch feeder and a status page.</summary>
public sealed class DefaultConfigTests
{
    private static string BuiltInConfig => File.ReadAllText(Path.Combine(Configs.RepoRoot, "src", "Sluice", "default.conf"));

    [Fact]
    public async Task The_launched_feeder_publishes_and_the_status_page_shows_it()
    {
        await using var server = await TestServer.StartAsync(BuiltInConfig, "default.conf");
        await Tools.WaitForStreamAsync(server, "livestream", TimeSpan.FromSeconds(30));

        var probe = await Tools.ProbeStreamsAsync(server.Url("livestream"));
        Assert.Equal(0, probe.ExitCode);
        Assert.Contains("\"codec_name\": \"vp8\"", probe.StdOut);
        Assert.Contains("\"width\": 320", probe.StdOut);
        Assert.Contains("\"codec_name\": \"vorbis\"", probe.StdOut);
        Assert.Contains("\"channels\": 2", probe.StdOut);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var json = JsonDocument.Parse(await client.GetStringAsync(server.Url("stat.json")));
        var feed = json.RootElement.GetProperty("feeds").EnumerateArray().Single();
        Assert.Equal("livestream.ffm", feed.GetProperty("name").GetString());
        var publisher = feed.GetProperty("publisher");
        Assert.Equal("127.0.0.1", publisher.GetProperty("address").GetString());
        Assert.Equal("Matroska", publisher.GetProperty("format").GetString());
        Assert.True(publisher.GetProperty("bytesReceived").GetInt64() > 0);
        Assert.Equal(["video", "audio"], feed.GetProperty("tracks").EnumerateArray().Select(t => t.GetProperty("kind").GetString()));

        string html = await client.GetStringAsync(server.Url("stat.html"));
        Assert.Contains("Number of connections:", html);
        Assert.Contains("Bandwidth in use:", html);

        string index = await client.GetStringAsync(server.Url("/"));
        Assert.Contains("<video id=\"livestream\" src=\"/livestream\"", index);

        // The launched feeder meets the stream's settings (with ffserver's default 22050 Hz): nothing to warn about.
        Assert.DoesNotContain(server.Log.Lines, l => l.Contains("codec settings not met", StringComparison.Ordinal));
        Assert.Contains("\"sample_rate\": \"22050\"", probe.StdOut);
    }

    [Fact]
    public async Task A_launched_feeder_that_dies_is_started_again()
    {
        // A Launch command that exits at once: the server restarts it with backoff and logs each exit.
        await using var server = await TestServer.StartAsync("""
            <Feed f.ffm>
            Launch ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=160x120:rate=30 -t 0.5 -c:v libvpx -f webm
            </Feed>
            <Stream s>
            Feed f.ffm
            </Stream>
            """);
        await server.Log.WaitForAsync("Feed f.ffm: launched process exited with code 0; restarting in 1 s", TimeSpan.FromSeconds(20));
        await server.Log.WaitForAsync("Feed f.ffm: launched process exited with code 0; restarting in 2 s", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_launched_feeder_is_stopped_with_the_server()
    {
        string marker = $"sine=frequency={Random.Shared.Next(300, 3000)}";
        var server = await TestServer.StartAsync(
            "<Feed f.ffm>\n" +
            $"Launch ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=160x120:rate=30 -re -f lavfi -i {marker} -c:v libvpx -deadline realtime -cpu-used 8 -c:a libvorbis -f webm\n" +
            "</Feed>\n<Stream s>\nFeed f.ffm\n</Stream>\n");
        await Tools.WaitForStreamAsync(server, "s", TimeSpan.FromSeconds(20));
        Assert.True(Running(marker));
        await server.DisposeAsync();
        Assert.False(Running(marker), "the launched ffmpeg outlived the server");
    }

    private static bool Running(string marker) =>
        Processes.All().Any(p => p.CommandLine.Contains(marker, StringComparison.Ordinal));
}
