using System.Collections.Frozen;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Media;
using Sluice.Media.Buffers;
using Sluice.Server.Configuration;
using Sluice.Server.Delivery;
using Sluice.Server.Feeds;
using Sluice.Server.Hls;
using Sluice.Server.Hosting;
using Sluice.Server.Status;
using Sluice.Server.Streams;

namespace Sluice.Server.Tests.Status;

/// <summary>The status snapshot of a server built without a host, and its HTML and JSON forms.</summary>
public sealed class StatusPageTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);
    private static readonly TrackInfo Vp8 = new() { Index = 0, Kind = MediaKind.Video, Codec = CodecId.VP8, Width = 320, Height = 240 };
    private static readonly TrackInfo Vorbis = new() { Index = 1, Kind = MediaKind.Audio, Codec = CodecId.Vorbis, SampleRate = 48000, Channels = 2 };

    private static readonly ServerConfig Config = new()
    {
        MaxClients = 5,
        MaxBandwidth = 1000,
        Feeds = [new FeedConfig { Name = "feed.ffm", PublishKey = "s3cret" }],
        Streams =
        [
            new StreamConfig
            {
                Name = "live.webm",
                Feed = "feed.ffm",
                Format = "webm",
                Video = new CodecSettings { BitRate = 256 },
                Audio = new CodecSettings { BitRate = 64 },
            },
            new StreamConfig { Name = "stat.html", Format = "status" },
        ],
    };

    private readonly FakeTimeProvider _time = new(Start);
    private readonly SluiceServer _server;

    public StatusPageTests() => _server = new SluiceServer(Config, NullLoggerFactory.Instance, _time);

    public void Dispose() => _server.Dispose();

    private Feed Source => _server.Feeds["feed.ffm"];

    /// <summary>The JSON form of a snapshot, as a GET of stat.json gets it.</summary>
    private static async Task<JsonDocument> JsonOf(StatusSnapshot snapshot)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        var body = new MemoryStream();
        context.Response.Body = body;
        await StatusPage.WriteAsync(context, snapshot, json: true);
        return JsonDocument.Parse(body.ToArray());
    }

    private ClientConnection Connect(IPAddress remote, string method, string target)
    {
        var connection = new ClientConnection(_server.Limits.NextId(), remote, method, target, "HTTP/1.1", _time.GetUtcNow());
        Assert.Null(_server.Limits.Open(connection));
        return connection;
    }

    /// <summary>A publisher (its key in its URL) sending VP8 and Vorbis, and one viewer of the stream.</summary>
    private Publisher PublishAndWatch()
    {
        var publishing = Connect(IPAddress.Parse("192.0.2.7"), "POST", "/feed.ffm?key=s3cret");
        Assert.Null(_server.Admission.Publish(Source, publishing, "s3cret", "?key=..."));
        publishing.State = "RECEIVE_DATA";
        publishing.AddReceived(1234);
        var publisher = Source.TryAcquire(publishing.Remote, "HTTP POST")!;
        publisher.Format = "Matroska";
        publisher.AddBytes(1234);
        publisher.OnTracks([Vp8, Vorbis]);
        publisher.Accept(new MediaPacket(0, 0, 0, true, new byte[100]));
        publisher.Accept(new MediaPacket(1, 900, 900, true, new byte[20]));

        _time.Advance(TimeSpan.FromSeconds(1));
        var viewing = Connect(IPAddress.Parse("::ffff:198.51.100.4"), "GET", "/live.webm");
        var stream = _server.Streams["live.webm"];
        Assert.Null(_server.Limits.Admit(viewing, ClientKind.Viewer, stream.Config, stream.BitRateKbps));
        viewing.State = "SEND_DATA";
        viewing.AddSent(5000);
        return publisher;
    }

    [Fact]
    public void A_feed_with_a_file_shows_where_it_is_what_it_holds_and_whether_it_is_written()
    {
        string dir = Directory.CreateTempSubdirectory("sluice-status-").FullName;
        try
        {
            string path = Path.Combine(dir, "feed.sff");
            var config = Config with { Feeds = [Config.Feeds[0] with { File = path, FileMaxSize = 1 << 20 }] };
            using (var server = new SluiceServer(config, NullLoggerFactory.Instance, _time))
            {
                var feed = server.Feeds["feed.ffm"];
                using (var publisher = feed.TryAcquire(System.Net.IPAddress.Loopback, "test")!)
                {
                    publisher.OnTracks([Vp8]);
                    for (int n = 0; n < 60; n++)
                    {
                        publisher.Accept(new MediaPacket(0, n * 3000L, n * 3000L, n % 30 == 0, new byte[100]));
                    }
                }

                Assert.True(feed.File!.Drain(TimeSpan.FromSeconds(10)));
                var file = Assert.Single(EndpointWiring.Status(server).Feeds).File!;
                Assert.Equal((path, "writing", 60L, 60L, 0L, 59 * 3000L), (file.Path, file.State, file.Packets, file.Written, file.OldestDts!.Value, file.NewestDts!.Value));
                Assert.Equal("vp8", Assert.Single(file.Tracks).Codec);
                Assert.Equal(Start, file.Oldest);
                string html = StatusPage.Html(EndpointWiring.Status(server));
                Assert.Contains($"<h2>Feed files</h2>", html, StringComparison.Ordinal);
                Assert.Contains($"<td>{path}</td><td>writing</td>", html, StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_server_without_publishers_shows_its_limits_its_feeds_and_its_idle_streams()
    {
        _time.Advance(TimeSpan.FromSeconds(30));
        var snapshot = EndpointWiring.Status(_server);

        Assert.Equal("Sluice", snapshot.Server);
        Assert.Equal(Start + TimeSpan.FromSeconds(30), snapshot.Time);
        Assert.Equal(Start, snapshot.Started);
        Assert.Equal((0, 2000, 0, 5, 0L, 1000L), (snapshot.Connections, snapshot.MaxHTTPConnections, snapshot.Clients, snapshot.MaxClients, snapshot.BandwidthKbps, snapshot.MaxBandwidthKbps));

        var feed = Assert.Single(snapshot.Feeds);
        Assert.Equal(("feed.ffm", (PublisherStatus?)null, 0L, 0L, 0L), (feed.Name, feed.Publisher, feed.BitRateKbps, feed.Packets, feed.BufferedBytes));
        Assert.Empty(feed.Tracks);

        var stream = Assert.Single(snapshot.Streams); // the status page is no stream of its own
        Assert.Equal(("live.webm", "feed.ffm", "webm", "video/webm", 320L, 0, "idle"), (stream.Name, stream.Feed, stream.Format, stream.ContentType, stream.BitRateKbps, stream.Viewers, stream.Mode));
        Assert.Empty(stream.Tracks);
        Assert.Equal(new HlsStatus("fmp4", "no publisher has sent it yet", 0, -1, 2, 0, 0, 0, 0, 0), stream.Hls);
        Assert.Empty(snapshot.Encoders);
        Assert.Empty(snapshot.ConnectionList);
    }

    [Fact]
    public void A_snapshot_is_taken_from_the_parts_it_reads_without_a_server()
    {
        var buffers = new BlockPool();
        var limits = new Limits(Config, _time);
        var feed = new Feed(Config.Feeds[0], NullLogger.Instance, _time, buffers);
        var directory = new StreamDirectory(
            new Dictionary<string, Feed> { [feed.Name] = feed }.ToFrozenDictionary(),
            FrozenDictionary<string, LiveStream>.Empty,
            FrozenDictionary<string, LiveStream>.Empty,
            FrozenDictionary<string, HlsSegmenter>.Empty);
        using (var publisher = feed.TryAcquire(IPAddress.Loopback, "HTTP PUT")!)
        {
            publisher.OnTracks([Vp8]);
            for (int i = 0; i <= 8; i++)
            {
                // 2500 bytes every 250 ms: 80 kbit/s over the feed's first window of 2 s.
                publisher.Accept(new MediaPacket(0, i * 250 * MediaTime.TicksPerMillisecond, i * 250 * MediaTime.TicksPerMillisecond, i == 0, new byte[2500]));
                _time.Advance(TimeSpan.FromMilliseconds(250));
            }
        }

        var snapshot = StatusSnapshot.Capture(directory, [], limits, Config, buffers, _time, Start - TimeSpan.FromMinutes(1));

        Assert.Equal((Start + TimeSpan.FromMilliseconds(2250), Start - TimeSpan.FromMinutes(1)), (snapshot.Time, snapshot.Started));
        Assert.Equal((5, 1000L), (snapshot.MaxClients, snapshot.MaxBandwidthKbps));
        var status = Assert.Single(snapshot.Feeds);
        Assert.Equal(("feed.ffm", (PublisherStatus?)null, 80L, 9L), (status.Name, status.Publisher, status.BitRateKbps, status.Packets));
        Assert.Empty(snapshot.Streams);
        Assert.Empty(snapshot.Encoders);
        Assert.Equal(buffers.Rented, snapshot.Buffers.BlocksLent);
        feed.ReleaseBuffers();
    }

    [Fact]
    public void A_publisher_and_a_viewer_are_counted_with_their_tracks_and_the_key_is_never_shown()
    {
        using var publisher = PublishAndWatch();
        var snapshot = EndpointWiring.Status(_server);

        Assert.Equal(2, snapshot.Clients);
        Assert.Equal(320, snapshot.BandwidthKbps);

        var feed = Assert.Single(snapshot.Feeds);
        Assert.Equal(new PublisherStatus("192.0.2.7", "HTTP POST", "Matroska", Start, 1234), feed.Publisher);
        Assert.Equal(2, feed.Packets);
        Assert.Equal(["vp8 320x240", "vorbis 48000 Hz 2 ch"], feed.Tracks.Select(t => t.ToString()));

        var stream = Assert.Single(snapshot.Streams);
        Assert.Equal(1, stream.Viewers);
        Assert.Equal("pass-through", stream.Mode);
        Assert.Equal([new TrackStatus(0, "video", "vp8", 320, 240, 0, 0), new TrackStatus(1, "audio", "vorbis", 0, 0, 48000, 2)], stream.Tracks);
        Assert.Equal("its tracks (#0 video vp8 320x240, #1 audio vorbis 48000 Hz 2 ch) are not ones HLS CMAF segments can carry", stream.Hls?.Unavailable);

        Assert.Equal(
            [
                new ConnectionStatus(1, "192.0.2.7", "POST", "/feed.ffm?key=REDACTED", "publisher", "RECEIVE_DATA", 0, 0, 1234, Start),
                new ConnectionStatus(2, "198.51.100.4", "GET", "/live.webm", "viewer", "SEND_DATA", 320, 5000, 0, Start + TimeSpan.FromSeconds(1)),
            ],
            snapshot.ConnectionList);
    }

    [Fact]
    public void The_HTML_page_shows_the_counts_and_the_masked_key_and_encodes_what_clients_chose()
    {
        using var publisher = PublishAndWatch();
        Connect(IPAddress.Loopback, "GET", "/<script>alert(1)</script>?token=abc");
        string html = StatusPage.Html(EndpointWiring.Status(_server));

        Assert.DoesNotContain("s3cret", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("<td>POST /feed.ffm?key=REDACTED</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td>GET /&lt;script&gt;alert(1)&lt;/script&gt;?token=REDACTED</td>", html, StringComparison.Ordinal);
        Assert.Contains("<p>Time 2026-12-03 09:00:01Z, up since 2026-12-03 09:00:00Z.</p>", html, StringComparison.Ordinal);
        Assert.Contains("Number of connections: 2 / 5 (HTTP connections 0 / 2000)<br>", html, StringComparison.Ordinal);
        Assert.Contains("Bandwidth in use: 320k / 1000k<br>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td><a href=\"/live.webm\">live.webm</a></td><td class=n>0</td><td class=n>1</td><td class=n>0</td><td>webm</td><td class=n>320</td><td>vp8 320x240, vorbis 48000 Hz 2 ch</td><td>feed.ffm</td><td>pass-through</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<td>feed.ffm</td><td>192.0.2.7 (HTTP POST) since 2026-12-03 09:00:00Z</td><td>Matroska</td>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>HLS and DASH</h2>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<h2>Encoders</h2>", html, StringComparison.Ordinal); // no stream is encoded
    }

    [Fact]
    public async Task The_JSON_form_has_the_same_data_with_web_names_and_the_masked_key()
    {
        using var publisher = PublishAndWatch();
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        var body = new MemoryStream();
        context.Response.Body = body;

        await StatusPage.WriteAsync(context, EndpointWiring.Status(_server), json: true);

        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal("no-cache", context.Response.Headers.CacheControl.ToString());
        Assert.Equal(body.Length, context.Response.ContentLength);
        string text = Encoding.UTF8.GetString(body.ToArray());
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("Sluice", root.GetProperty("server").GetString());
        Assert.Equal(2, root.GetProperty("clients").GetInt32());
        Assert.Equal(5, root.GetProperty("maxClients").GetInt32());
        Assert.Equal(320, root.GetProperty("bandwidthKbps").GetInt64());
        var connections = root.GetProperty("connectionList").EnumerateArray().ToList();
        Assert.Equal(["/feed.ffm?key=REDACTED", "/live.webm"], connections.Select(c => c.GetProperty("url").GetString()));
        Assert.Equal(["publisher", "viewer"], connections.Select(c => c.GetProperty("kind").GetString()));
        var stream = root.GetProperty("streams")[0];
        Assert.Equal("live.webm", stream.GetProperty("name").GetString());
        Assert.Equal(1, stream.GetProperty("viewers").GetInt32());
        Assert.Equal("pass-through", stream.GetProperty("mode").GetString());
        Assert.Equal("192.0.2.7", root.GetProperty("feeds")[0].GetProperty("publisher").GetProperty("address").GetString());
        Assert.Equal(0, root.GetProperty("encoders").GetArrayLength());
    }

    [Fact]
    public async Task A_stream_whose_container_ffmpeg_writes_has_a_row_of_its_ffmpeg_in_the_html_and_the_json()
    {
        var config = Config with
        {
            Streams = [.. Config.Streams, new StreamConfig { Name = "live.mpg", Feed = "feed.ffm", Format = "mpeg" }],
        };
        using var server = new SluiceServer(config, NullLoggerFactory.Instance, _time);

        var snapshot = EndpointWiring.Status(server);
        // Only the ffmpeg-written stream has one (live.webm is Sluice's own muxer); no publisher yet: idle, never started.
        var row = Assert.Single(snapshot.ContainerFfmpegs);
        Assert.Equal(("live.mpg", "feed.ffm", "mpeg", "idle", (int?)null, 0, 0, (string?)null, 0), (row.Stream, row.Feed, row.Format, row.State, row.ProcessId, row.Starts, row.Restarts, row.LastError, row.SameFailures));
        Assert.Empty(snapshot.Encoders);

        string html = StatusPage.Html(snapshot);
        Assert.Contains("<h2>Containers written by ffmpeg</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>live.mpg</td><td>feed.ffm</td><td>mpeg</td><td>idle</td><td class=n></td><td class=n>0</td><td class=n>0</td><td class=n>0</td><td></td></tr>", html, StringComparison.Ordinal);

        using var json = await JsonOf(snapshot);
        var ffmpeg = Assert.Single(json.RootElement.GetProperty("containerFfmpegs").EnumerateArray());
        Assert.Equal("live.mpg", ffmpeg.GetProperty("stream").GetString());
        Assert.Equal("idle", ffmpeg.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, ffmpeg.GetProperty("processId").ValueKind);
        Assert.Equal(0, ffmpeg.GetProperty("sameFailures").GetInt32());
    }

    [Fact]
    public void A_server_without_ffmpeg_written_streams_has_no_such_section()
    {
        var snapshot = EndpointWiring.Status(_server);
        Assert.Empty(snapshot.ContainerFfmpegs);
        Assert.DoesNotContain("Containers written by ffmpeg", StatusPage.Html(snapshot), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streams_the_config_names_and_that_are_not_served_are_listed_with_why_and_where_and_a_file_stream_with_its_file()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("sluice-status-").FullName, "old.mp4");
        File.WriteAllBytes(file, [0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p']);
        var result = ConfigParser.Parse(
            $"<Feed f.ffm>\n</Feed>\n<Stream cam.rtp>\nFeed f.ffm\nFormat rtp\n</Stream>\n<Stream old.mp4>\nFormat webm\nFile \"{file}\"\n</Stream>\n<Stream live.webm>\nFeed f.ffm\n</Stream>\n",
            "t.conf");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        using var server = new SluiceServer(result.Config!, NullLoggerFactory.Instance, _time);
        var snapshot = EndpointWiring.Status(server);
        Assert.Equal(
            [("cam.rtp", "Format rtp: RTSP/RTP is not served yet", "t.conf:3")],
            snapshot.SkippedStreams.Select(s => (s.Name, s.Reason, s.Location.ToString())));
        Assert.Equal($"file {file}", Assert.Single(snapshot.Streams, s => s.Name == "old.mp4").Feed);

        string html = StatusPage.Html(snapshot);
        Assert.Contains("<h2>Streams not served</h2>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>cam.rtp</td><td>Format rtp: RTSP/RTP is not served yet</td><td>t.conf:3</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains($"<td>file {file}</td>", html, StringComparison.Ordinal);

        using var json = await JsonOf(snapshot);
        var skipped = json.RootElement.GetProperty("skippedStreams").EnumerateArray().ToList();
        Assert.Equal(["cam.rtp"], skipped.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(3, skipped[0].GetProperty("location").GetProperty("line").GetInt32());
        Assert.DoesNotContain("Streams not served", StatusPage.Html(EndpointWiring.Status(_server)), StringComparison.Ordinal);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    [Fact]
    public async Task The_HTML_form_is_served_as_HTML_and_a_HEAD_gets_the_length_without_the_body()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        var body = new MemoryStream();
        context.Response.Body = body;
        await StatusPage.WriteAsync(context, EndpointWiring.Status(_server), json: false);
        Assert.Equal("text/html; charset=utf-8", context.Response.ContentType);
        Assert.StartsWith("<!DOCTYPE html>", Encoding.UTF8.GetString(body.ToArray()), StringComparison.Ordinal);
        long length = body.Length;

        var head = new DefaultHttpContext();
        head.Request.Method = "HEAD";
        var none = new MemoryStream();
        head.Response.Body = none;
        await StatusPage.WriteAsync(head, EndpointWiring.Status(_server), json: false);
        Assert.Equal(length, head.Response.ContentLength);
        Assert.Equal(0, none.Length);
    }

    [Theory]
    [InlineData("stat.html", "stat.html", false)]
    [InlineData("stat.json", "stat.html", true)]
    [InlineData("live.webm", null, false)]      // a stream, but not a status one
    [InlineData("live.json", null, false)]
    [InlineData("nothing", null, false)]
    public void A_status_stream_is_found_by_its_name_or_its_json_name(string name, string? found, bool json)
    {
        Assert.Equal(found, StatusPage.Find(Config, name, out bool isJson)?.Name);
        Assert.Equal(json, isJson);
    }

    [Theory]
    [InlineData("stat.html", "stat.json")]
    [InlineData("status", "status.json")]
    [InlineData("a.b.html", "a.b.json")]
    public void The_json_name_replaces_the_extension(string name, string json) => Assert.Equal(json, StatusPage.JsonName(name));
}
