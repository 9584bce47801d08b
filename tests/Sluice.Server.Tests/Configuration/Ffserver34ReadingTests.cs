using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

/// <summary>
/// Lines that ffserver 3.4 started with and Sluice once refused: trailing comments (and the lines where 3.4 read the
/// comment as a value), stream names with '/', relative redirects, file streams, RTP streams, a doubled '>', and
/// warnings said once for many lines.
/// </summary>
public sealed class Ffserver34ReadingTests
{
    private const string Feed = "<Feed f.ffm>\n</Feed>\n";

    private static ConfigParseResult Parse(string text) => ConfigParser.Parse(text, "t.conf");

    private static ServerConfig ParseOk(string text, params string[] warnings)
    {
        var result = Parse(text);
        Assert.Equal([], result.Errors.Select(e => e.ToString()));
        Assert.Equal(warnings, result.Warnings.Select(w => w.ToString()));
        return result.Config!;
    }

    [Theory]
    [InlineData("HTTPPort 8090 # port")]
    [InlineData("HTTPPort 8090 #port")]
    [InlineData("HTTPPort 8090\t# port")]
    [InlineData("HTTPPort \"8090\"# port")]
    [InlineData("HTTPPort 8090 # port # and more")]
    [InlineData("HTTPPort 8090 # the viewers' port, not \"quoted")]
    public void A_comment_after_the_arguments_is_a_comment(string line) =>
        Assert.Equal(8090, ParseOk(line + "\n").HTTPPort);

    [Fact]
    public void Words_after_those_a_directive_takes_are_ignored_as_ffserver_3_4_did_with_a_warning()
    {
        var config = ParseOk(
            "HTTPPort 8090 8091\n" + Feed + "<Stream s.webm>\nFeed f.ffm\nNoAudio please\n</Stream>\n",
            "t.conf:1: HTTPPort takes one argument; ignoring '8091', as ffserver 3.4 did (usage: HTTPPort <port>; quote a value that contains spaces)",
            "t.conf:6: NoAudio takes no arguments; ignoring 'please', as ffserver 3.4 did (usage: NoAudio)");
        Assert.Equal(8090, config.HTTPPort);
        var stream = Assert.Single(config.Streams);
        Assert.True(stream.NoAudio);
    }

    [Fact]
    public void A_comment_after_a_stream_directive_and_on_the_section_tag_lines_is_a_comment()
    {
        var config = ParseOk(
            "<Feed f.ffm> # the camera\n</Feed> # end of the feed\n"
            + "<Stream frontyard.webm> # Output stream URL definition\nFeed f.ffm # the feed\nVideoSize 288x352 # Staand\nNoAudio # none\nNoDefaults # no encoder defaults\n</Stream> # end\n");
        var stream = Assert.Single(config.Streams);
        Assert.Equal("frontyard.webm", stream.Name);
        Assert.Equal("f.ffm", stream.Feed);
        Assert.Equal((288, 352), (stream.Video.Width, stream.Video.Height));
        Assert.True(stream.NoAudio);
    }

    [Fact]
    public void A_comment_glued_to_the_closing_bracket_of_a_section_tag_is_a_comment() =>
        Assert.Equal("a.webm", ParseOk(Feed + "<Stream a.webm>#front door\nFeed f.ffm\n</Stream>\n").Streams[0].Name);

    [Theory]
    [InlineData("Title \"Cam #1\"", "Cam #1")]
    [InlineData("Title 'Cam #1' # the front door", "Cam #1")]
    [InlineData("Title Cam#1", "Cam#1")]
    [InlineData("Title Front door # camera 1", "Front door")]
    public void A_hash_inside_a_quoted_value_or_glued_to_a_word_stays_in_the_value(string line, string title)
    {
        var config = ParseOk(Feed + "<Stream s.webm>\nFeed f.ffm\n" + line + "\n</Stream>\n");
        Assert.Equal(title, config.Streams[0].Metadata["title"]);
    }

    [Fact]
    public void A_hash_glued_to_a_number_is_part_of_the_number_and_refused_as_ffserver_refused_it() =>
        Assert.Equal(
            ["t.conf:1: invalid port '8090#port' for HTTPPort: expected a whole number from 1 to 65535"],
            Parse("HTTPPort 8090#port\n").Errors.Select(e => e.ToString()));

    [Fact]
    public void A_comment_where_a_required_value_should_be_is_a_missing_value_with_a_hint() =>
        Assert.Equal(
            ["t.conf:1: HTTPPort needs an argument; usage: HTTPPort <port> ('# port' is a comment; quote a value that begins with #)"],
            Parse("HTTPPort # port\n").Errors.Select(e => e.ToString()));

    [Fact]
    public void An_acl_range_end_left_out_before_a_comment_warns_that_ffserver_applied_no_rule()
    {
        var config = ParseOk(
            "<Feed f.ffm>\nACL allow 127.0.0.1 # Allowed IPs\nACL allow 10.0.0.1 10.0.0.9 # a whole range\n</Feed>\n"
            + "<Stream s.webm>\nFeed f.ffm\nACL deny 192.168.0.7 # the lobby\n</Stream>\n",
            "t.conf:2: ffserver 3.4 took '#' as the last address of the range, refused this line and applied no rule, so the feed took any publisher this line was meant to limit; Sluice reads '# Allowed IPs' as a comment and reads the line as 'ACL allow 127.0.0.1'",
            "t.conf:7: ffserver 3.4 took '#' as the last address of the range, refused this line and applied no rule, so the stream served any viewer this line was meant to limit; Sluice reads '# the lobby' as a comment and reads the line as 'ACL deny 192.168.0.7'");
        var rules = config.Feeds[0].Acl.Rules;
        Assert.Equal(2, rules.Length);
        Assert.Equal(System.Net.IPAddress.Loopback, rules[0].Last);
        Assert.False(config.Feeds[0].Acl.Allows(System.Net.IPAddress.Parse("192.0.2.1")));
        Assert.False(config.Streams[0].Acl.Allows(System.Net.IPAddress.Parse("192.168.0.7")));
    }

    [Fact]
    public void Truncate_and_launch_before_a_comment_warn_that_ffserver_read_the_comment()
    {
        var config = ParseOk(
            "<Feed f.ffm>\nTruncate # start empty\nLaunch ffmpeg -f lavfi -i testsrc # the test pattern\n</Feed>\n",
            "t.conf:2: ffserver 3.4 took '#' as the number of the deprecated 'Truncate N', read it as 0 and did not truncate the feed; Sluice reads '# start empty' as a comment and reads the line as 'Truncate'",
            "t.conf:3: ffserver 3.4 passed '#' and every word after it to the program as arguments; Sluice reads '# the test pattern' as a comment and reads the line as 'Launch ffmpeg -f lavfi -i testsrc'");
        Assert.True(config.Feeds[0].Truncate);
        Assert.Equal(["ffmpeg", "-f", "lavfi", "-i", "testsrc"], config.Feeds[0].Launch.ToArray());
    }

    [Fact]
    public void A_comment_in_place_of_a_value_ffserver_took_as_that_value_warns_and_the_line_sets_nothing()
    {
        var config = ParseOk(
            Feed + "<Stream s.webm>\nFeed f.ffm\nTitle # to do\nPreroll # later\nMetadata author # someone\n</Stream>\n",
            "t.conf:5: ffserver 3.4 took '#' as the title; Sluice reads '# to do' as a comment and ignores this line (quote a value that begins with #)",
            "t.conf:6: ffserver 3.4 took '#' as the number of seconds and read it as 0; Sluice reads '# later' as a comment and ignores this line (quote a value that begins with #)",
            "t.conf:7: ffserver 3.4 took '#' as the value of author; Sluice reads '# someone' as a comment and ignores this line (quote a value that begins with #)");
        Assert.Empty(config.Streams[0].Metadata);
        Assert.Null(config.Streams[0].Preroll);
    }

    [Fact]
    public void A_value_that_begins_with_a_hash_unquoted_is_a_comment_and_the_warning_names_the_word_ffserver_took()
    {
        var config = ParseOk(
            Feed + "<Stream s.webm>\nFeed f.ffm\nTitle #1 camera\nTitle \"#2 camera\"\n</Stream>\n",
            "t.conf:5: ffserver 3.4 took '#1' as the title; Sluice reads '#1 camera' as a comment and ignores this line (quote a value that begins with #)");
        Assert.Equal("#2 camera", config.Streams[0].Metadata["title"]);
    }

    /// <summary>Every directive of the table, written with nothing but a comment after its name: one reading each.</summary>
    public static TheoryData<string> Directives => [.. ConfigDirectives.List.Select(d => d.Name).Distinct()];

    [Theory]
    [MemberData(nameof(Directives))]
    public void Every_directive_followed_by_only_a_comment_is_read_one_way(string name)
    {
        var directive = ConfigDirectives.ByName[name];
        var section = new[] { ConfigSection.Global, ConfigSection.Feed, ConfigSection.Stream, ConfigSection.Redirect }.First(s => directive.Sections.HasFlag(s));
        var (text, line) = section switch
        {
            ConfigSection.Global => ($"{name} # note\n" + Feed, 1),
            ConfigSection.Feed => ($"<Feed f.ffm>\n{name} # note\n</Feed>\n", 2),
            ConfigSection.Stream => (Feed + $"<Stream s.webm>\nFeed f.ffm\n{name} # note\n</Stream>\n", 5),
            _ => ($"<Redirect r>\nURL /x\n{name} # note\n</Redirect>\n", 3),
        };
        var result = Parse(text);
        var errors = result.Errors.Where(e => e.Location.Line == line).Select(e => e.Message).ToList();
        var readings = result.Warnings.Where(w => w.Location.Line == line && w.Message.StartsWith("ffserver 3.4 ", StringComparison.Ordinal)).ToList();
        if (directive.Ffserver34?.Invoke([], "#", section) is { } reading)
        {
            // ffserver took '#' as the value: a warning saying so, and no error.
            Assert.Empty(errors);
            Assert.Equal($"ffserver 3.4 {reading}; Sluice reads '# note' as a comment and {(directive.MinArgs > 0 ? "ignores this line (quote a value that begins with #)" : $"reads the line as '{name}'")}", Assert.Single(readings).Message);
        }
        else if (directive.MinArgs > 0)
        {
            // ffserver refused '#' as the value (or Sluice's own directive): the missing value, with the hint.
            Assert.Empty(readings);
            Assert.EndsWith("('# note' is a comment; quote a value that begins with #)", Assert.Single(errors), StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(readings);
            Assert.Empty(errors);
        }
    }

    [Fact]
    public void A_stream_name_with_slashes_is_a_url_path()
    {
        var config = ParseOk(Feed + "<Stream live/cam.webm>\nFeed f.ffm\n</Stream>\n<Stream live/cam:1.webm>\nFeed f.ffm\n</Stream>\n");
        Assert.Equal("/live/cam.webm", config.FindStream("live/cam.webm")!.UrlPath);
        Assert.Equal("webm", config.FindStream("live/cam.webm")!.Format);
        Assert.Equal("/live/cam%3A1.webm", config.FindStream("live/cam:1.webm")!.UrlPath);
    }

    [Theory]
    [InlineData("live//cam.webm")]
    [InlineData("/live.webm")]
    [InlineData("live/")]
    [InlineData("live/../cam.webm")]
    [InlineData("live/cam?.webm")]
    public void A_stream_name_with_an_empty_or_dot_part_is_refused(string name) =>
        Assert.Equal(
            [$"t.conf:3: stream name '{name}' is not a URL path (http://host:port/{name}); use letters, digits and . - _ ~ only, with '/' between the parts (live/cam.webm), no '?', '#', '%' or spaces"],
            Parse(Feed + $"<Stream {name}>\nFeed f.ffm\n</Stream>\n").Errors.Select(e => e.ToString()));

    [Fact]
    public void A_feed_name_still_takes_no_slash() =>
        Assert.Single(Parse("<Feed live/f.ffm>\n</Feed>\n").Errors);

    [Fact]
    public void Redirect_urls_are_kept_as_written_relative_ones_too()
    {
        var config = ParseOk(
            "<Redirect index.html>\nURL status.html\n</Redirect>\n<Redirect old>\nURL url/\n</Redirect>\n<Redirect cam>\nURL rtsp://example.com/cam\n</Redirect>\n"
            + "<Redirect cafe>\nURL \"/le café.webm\"\n</Redirect>\n",
            "t.conf:11: URL '/le café.webm' of <Redirect cafe> has characters an HTTP Location header cannot carry; Sluice sends it percent-encoded: /le%20caf%C3%A9.webm");
        Assert.Equal(["status.html", "url/", "rtsp://example.com/cam", "/le%20caf%C3%A9.webm"], config.Redirects.Select(r => r.Url!).ToArray());
    }

    [Fact]
    public void A_redirect_whose_url_is_only_a_comment_starts_with_no_target_and_says_how_ffserver_read_it()
    {
        var config = ParseOk(
            "<Redirect old>\nURL # the new site, soon\n</Redirect>\n<Redirect cam>\nURL /cam.webm\n</Redirect>\n",
            "t.conf:1: <Redirect old> has no URL (line 2 is only a comment): Sluice answers its requests with 404, where ffserver 3.4 redirected them to \"#\"; write the address after URL to redirect",
            "t.conf:2: ffserver 3.4 took '#' as the URL and redirected clients to \"#\"; Sluice reads '# the new site, soon' as a comment and ignores this line (quote a value that begins with #)");
        Assert.Equal([("old", null), ("cam", "/cam.webm")], config.Redirects.Select(r => (r.Name, r.Url)).ToArray());
    }

    [Fact]
    public void A_redirect_with_a_url_after_the_commented_one_takes_it_and_one_with_no_url_line_is_still_refused()
    {
        Assert.Equal("/x", Assert.Single(ParseOk(
            "<Redirect old>\nURL # soon\nURL /x\n</Redirect>\n",
            "t.conf:2: ffserver 3.4 took '#' as the URL and redirected clients to \"#\"; Sluice reads '# soon' as a comment and ignores this line (quote a value that begins with #)").Redirects).Url);
        Assert.Equal(
            ["t.conf:1: <Redirect old> has no URL; add 'URL <url>' inside it"],
            Parse("<Redirect old>\n# URL /x\n</Redirect>\n").Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void A_doubled_closing_bracket_warns_and_the_name_loses_it()
    {
        var config = ParseOk(
            "<Redirect index.html>>\nURL status.html\n</Redirect>\n",
            "t.conf:1: '<Redirect index.html>>' has more than one closing '>'; ffserver 3.4 named it 'index.html>', a URL no client asks for, Sluice names it 'index.html'");
        Assert.Equal("index.html", Assert.Single(config.Redirects).Name);
    }

    [Fact]
    public void A_stream_with_a_file_and_no_feed_plays_the_file_with_no_defaults_and_ReadOnlyFile_means_File()
    {
        using var folder = new TempFolder();
        string mp4 = folder.Write("t.mp4", [0, 0, 0, 0x18, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m']);
        string webm = folder.Write("t2.webm", [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81]);
        var config = ParseOk(
            Feed + $"<Stream t.mp4>\nFile \"{mp4}\"\nVideoCodec libx264\nAudioCodec aac\nNoLoop\n</Stream>\n"
            + $"NoDefaults\n<Stream t2.webm>\nReadOnlyFile {webm}\nVideoCodec libvpx\n</Stream>\n"
            + "<Stream live.webm>\nFeed f.ffm\n</Stream>\n");
        Assert.Equal(["t.mp4", "t2.webm", "live.webm"], config.Streams.Select(s => s.Name).ToArray());
        Assert.Equal((mp4, true, null), (config.Streams[0].SourceFile, config.Streams[0].NoLoop, config.Streams[0].Video.BitRate));
        Assert.Equal((webm, false, null), (config.Streams[1].SourceFile, config.Streams[1].NoLoop, config.Streams[1].Feed));
        Assert.Empty(config.SkippedStreams);
    }

    [Fact]
    public void A_relative_file_is_taken_from_the_config_files_folder()
    {
        using var folder = new TempFolder();
        string ts = folder.Write("clip.ts", [0x47, 0x40, 0x00, 0x10, 0, 0, 0, 0]);
        var result = ConfigParser.Parse("<Stream clip>\nFormat mpegts\nFile clip.ts\n</Stream>\n", Path.Combine(folder.Path, "s.conf"));
        Assert.Equal([], result.Errors.Select(e => e.ToString()));
        Assert.Equal(ts, Assert.Single(result.Config!.Streams).SourceFile);
    }

    [Fact]
    public void A_file_stream_whose_file_is_missing_or_not_media_is_an_error_at_its_file_line()
    {
        using var folder = new TempFolder();
        string text = folder.Write("notes.txt", "hello, world"u8.ToArray());
        Assert.Equal(
            [
                "t.conf:2: <Stream a.webm> plays the file /nonexistent/a.mp4, which does not exist; give the path of a Matroska/WebM, MPEG-TS, FLV or MP4/MOV file",
                $"t.conf:6: <Stream b.webm> plays the file {text}, which is not a container Sluice reads (Matroska/WebM, MPEG-TS, FLV or MP4/MOV); give the path of a Matroska/WebM, MPEG-TS, FLV or MP4/MOV file",
            ],
            Parse($"<Stream a.webm>\nFile /nonexistent/a.mp4\n</Stream>\n<Stream b.webm>\nFormat webm\nReadOnlyFile {text}\n</Stream>\n").Errors.Select(e => e.ToString()));
    }

    /// <summary>A folder of the test's own files, removed after it.</summary>
    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sluice-config-").FullName;

        public string Write(string name, byte[] bytes)
        {
            string file = System.IO.Path.Combine(Path, name);
            File.WriteAllBytes(file, bytes);
            return file;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    [Fact]
    public void A_file_beside_a_feed_is_not_read_as_in_ffserver()
    {
        var config = ParseOk(
            Feed + "<Stream s.webm>\nFeed f.ffm\nFile /srv/s.webm\n</Stream>\n",
            "t.conf:5: File inside <Stream> is not read when the stream has a Feed: the stream reads its Feed, as ffserver 3.4 did");
        Assert.Equal("f.ffm", Assert.Single(config.Streams).Feed);
    }

    [Theory]
    [InlineData("rtp")]
    [InlineData("RTSP")]
    public void An_rtp_stream_is_skipped_with_one_warning_and_the_rest_is_served(string format)
    {
        var config = ParseOk(
            Feed + $"<Stream live/cam_1080.rtsp>\nFeed f.ffm\nFormat {format}\nVideoCodec libx264\n</Stream>\n<Stream cam.ts>\nFeed f.ffm\n</Stream>\n",
            $"t.conf:5: Format {format.ToLowerInvariant()}: RTSP/RTP is not served yet, so <Stream live/cam_1080.rtsp> is skipped (the other streams are served)");
        Assert.Equal(["cam.ts"], config.Streams.Select(s => s.Name).ToArray());
    }

    [Fact]
    public void An_rtp_stream_still_needs_a_feed_that_exists() =>
        Assert.Equal(
            ["t.conf:4: <Stream s.rtp> reads Feed g.ffm, but no <Feed g.ffm> is defined; defined feeds: f.ffm; did you mean 'f.ffm'?"],
            Parse(Feed + "<Stream s.rtp>\nFeed g.ffm\nFormat rtp\n</Stream>\n").Errors.Select(e => e.ToString()));

    [Fact]
    public void The_same_warning_on_many_lines_is_said_once_with_the_count_and_the_lines()
    {
        var streams = string.Concat(Enumerable.Range(1, 3).Select(i => $"<Stream s{i}.webm>\nFeed f.ffm\nStrict -1\n</Stream>\n"));
        ParseOk(
            Feed + streams,
            "t.conf:5: Strict is not supported; encoders run with ffmpeg's default strictness, but mpeg1video at a frame rate MPEG-1 lacks, which gets -strict unofficial (3 times, on lines 5, 9, 13)");
    }
}
