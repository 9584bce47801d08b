using Sluice.Server.Configuration;

namespace Sluice.Server.Tests.Configuration;

public sealed class ConfigParserErrorTests
{
    private const string Feed = "<Feed feed1.ffm>\n</Feed>\n";

    public static TheoryData<string, string, string[]> InvalidConfigs => new()
    {
        {
            "unknown directive with a suggestion",
            "Prot 8090\n",
            ["t.conf:1: unknown directive 'Prot'; did you mean 'Port'?"]
        },
        {
            "unknown directive with no close name",
            Feed + "<Stream s>\nFeed feed1.ffm\nXyzzyPlugh 1\n</Stream>\n",
            ["t.conf:5: unknown directive 'XyzzyPlugh' inside <Stream s> (line 3); see docs/configuration.md for the directives Sluice reads"]
        },
        {
            "HLS settings out of range",
            Feed + "<Stream s>\nFeed feed1.ffm\nHLS maybe\nHLSFormat mp4\nHLSSegmentDuration 0.1\nHLSPartDuration 9\nHLSListSize 2\n</Stream>\n",
            [
                "t.conf:5: invalid HLS 'maybe': write HLS on or HLS off",
                "t.conf:6: invalid HLSFormat 'mp4': write fmp4 (CMAF, low latency, also used by DASH) or ts (MPEG-TS, the widest reach)",
                "t.conf:7: invalid HLSSegmentDuration '0.1': expected seconds from 0.5 to 60 (segments are cut at the first keyframe after it)",
                "t.conf:8: invalid HLSPartDuration '9': expected seconds from 0.1 to 5",
                "t.conf:9: invalid HLSListSize '2': expected a whole number of segments from 3 to 1000",
            ]
        },
        {
            "non-numeric port",
            "HTTPPort http\n",
            ["t.conf:1: invalid port 'http' for HTTPPort: expected a whole number from 1 to 65535"]
        },
        {
            "port out of range",
            "Port 70000\n",
            ["t.conf:1: invalid port '70000' for Port: expected a whole number from 1 to 65535"]
        },
        {
            "missing argument",
            "HTTPPort\n",
            ["t.conf:1: HTTPPort needs an argument; usage: HTTPPort <port>"]
        },
        {
            "bad address",
            "HTTPBindAddress 1.2.3\n",
            ["t.conf:1: invalid address '1.2.3' for HTTPBindAddress: expected an IPv4 address such as 0.0.0.0 or an IPv6 address such as ::; host names other than localhost are not resolved"]
        },
        {
            "bad MaxBandwidth",
            "MaxBandwidth 5\n",
            ["t.conf:1: invalid MaxBandwidth '5': expected a whole number of kbit/s from 10 to 10000000"]
        },
        {
            "MaxClients above MaxHTTPConnections",
            "MaxHTTPConnections 10\nMaxClients 20\n",
            ["t.conf:2: MaxClients 20 is more than MaxHTTPConnections 10; lower MaxClients or raise MaxHTTPConnections"]
        },
        {
            "FileMaxSize without suffix",
            "<Feed f.ffm>\nFileMaxSize 200\n</Feed>\n",
            ["t.conf:2: invalid FileMaxSize '200': expected a number with a K, M or G suffix (1024-based), e.g. 200K or 5M"]
        },
        {
            "FileMaxSize with a bad suffix",
            "<Feed f.ffm>\nFileMaxSize 200T\n</Feed>\n",
            ["t.conf:2: invalid FileMaxSize '200T': expected a number with a K, M or G suffix (1024-based), e.g. 200K or 5M"]
        },
        {
            "FileMaxSize too small",
            "<Feed f.ffm>\nFileMaxSize 8K\n</Feed>\n",
            ["t.conf:2: FileMaxSize 8K is too small: the minimum is 16K (16384 bytes)"]
        },
        {
            "bad VideoSize",
            Feed + "<Stream s>\nFeed feed1.ffm\nVideoSize big\n</Stream>\n",
            ["t.conf:5: invalid VideoSize 'big': expected <width>x<height> (e.g. 320x240) or a name such as sqcif, qcif, cif, 4cif, qvga, vga, svga, xga, hd480, hd720, hd1080"]
        },
        {
            "bad VideoFrameRate",
            Feed + "<Stream s>\nFeed feed1.ffm\nVideoFrameRate 0\n</Stream>\n",
            ["t.conf:5: invalid VideoFrameRate '0': expected a positive number or fraction of frames per second, e.g. 25, 29.97, 30000/1001 or ntsc"]
        },
        {
            "bad bitrate",
            Feed + "<Stream s>\nFeed feed1.ffm\nVideoBitRate fast\n</Stream>\n",
            ["t.conf:5: invalid VideoBitRate 'fast': expected a positive whole number of kbit/s, e.g. 512"]
        },
        {
            "stream directive outside a section",
            "VideoCodec libvpx\n",
            ["t.conf:1: VideoCodec is not allowed outside a section; it belongs inside <Stream>"]
        },
        {
            "stream directive inside a feed",
            "<Feed f.ffm>\nVideoCodec libvpx\n</Feed>\n",
            ["t.conf:2: VideoCodec is not allowed inside <Feed f.ffm> (line 1); it belongs inside <Stream>"]
        },
        {
            "global directive inside a stream",
            Feed + "<Stream s>\nFeed feed1.ffm\nMaxBandwidth 10\n</Stream>\n",
            ["t.conf:5: MaxBandwidth is not allowed inside <Stream s> (line 3); it belongs outside any section"]
        },
        {
            "ACL outside a section",
            "ACL allow 127.0.0.1\n",
            ["t.conf:1: ACL is not allowed outside a section; it belongs inside <Feed> or <Stream>"]
        },
        {
            "unclosed section",
            "<Feed f.ffm>\nFileMaxSize 1M\n",
            ["t.conf:1: <Feed f.ffm> is never closed; add </Feed> after its last directive"]
        },
        {
            "closing tag without opening",
            "</Stream>\n",
            ["t.conf:1: </Stream> without an opening <Stream name>; remove it or add the opening tag"]
        },
        {
            "mismatched closing tag",
            "<Feed f.ffm>\n</Stream>\n",
            ["t.conf:2: </Stream> does not match the open <Feed f.ffm> (line 1); close it with </Feed>"]
        },
        {
            "nested sections",
            "<Feed f.ffm>\n<Stream s>\nFeed f.ffm\n</Stream>\n",
            ["t.conf:2: <Stream s> cannot be inside <Feed f.ffm> (line 1); sections do not nest, close it with </Feed> first"]
        },
        {
            "section without a name",
            "<Feed>\n</Feed>\n",
            ["t.conf:1: <Feed> needs a name; write <Feed name>, the name is the URL path (http://host:port/name)"]
        },
        {
            "unknown section",
            "<Steam s>\n",
            ["t.conf:1: unknown section <Steam>; did you mean <Stream>?"]
        },
        {
            "duplicate feed",
            "<Feed a.ffm>\n</Feed>\n<Feed a.ffm>\n</Feed>\n",
            ["t.conf:3: duplicate <Feed a.ffm>: already defined on line 1; feed names must be unique"]
        },
        {
            "duplicate stream",
            Feed + "<Stream s>\nFeed feed1.ffm\n</Stream>\n<Stream s>\nFeed feed1.ffm\n</Stream>\n",
            ["t.conf:6: duplicate <Stream s>: already defined on line 3; stream names must be unique"]
        },
        {
            "stream named like a feed",
            Feed + "<Stream feed1.ffm>\nFormat status\n</Stream>\n",
            ["t.conf:3: <Stream feed1.ffm> has the same name as <Feed feed1.ffm> on line 1; feeds, streams and redirects are URLs and need different names"]
        },
        {
            "stream reading a feed that does not exist",
            "<Feed a.ffm>\n</Feed>\n<Feed b.ffm>\n</Feed>\n<Stream live>\nFeed livestream.ffm\n</Stream>\n",
            ["t.conf:6: <Stream live> reads Feed livestream.ffm, but no <Feed livestream.ffm> is defined; defined feeds: a.ffm, b.ffm"]
        },
        {
            "feed names are case-sensitive",
            "<Feed Live.ffm>\n</Feed>\n<Stream live>\nFeed live.ffm\n</Stream>\n",
            ["t.conf:4: <Stream live> reads Feed live.ffm, but no <Feed live.ffm> is defined; defined feeds: Live.ffm; feed names are case-sensitive, did you mean 'Live.ffm'?"]
        },
        {
            "stream without a feed",
            "<Stream live>\nFormat webm\n</Stream>\n",
            ["t.conf:1: <Stream live> has no Feed; add 'Feed <name>' naming one of the defined feeds: (none) (only a 'Format status' stream needs no feed)"]
        },
        {
            "feed name that is not a URL path segment",
            "<Feed live/feed.ffm>\n</Feed>\n",
            ["t.conf:1: feed name 'live/feed.ffm' is not a URL path segment (http://host:port/live/feed.ffm); use letters, digits and . - _ ~ only, no '/', '?', '#', '%' or spaces"]
        },
        {
            "bad ACL action",
            "<Feed f.ffm>\nACL permit 10.0.0.1\n</Feed>\n",
            ["t.conf:2: ACL action 'permit' should be allow or deny; usage: ACL allow|deny <first-address> [<last-address>]"]
        },
        {
            "bad ACL address",
            "<Feed f.ffm>\nACL allow example.com\n</Feed>\n",
            ["t.conf:2: invalid ACL address 'example.com': expected an IPv4 or IPv6 address such as 192.168.0.1 or ::1; host names other than localhost are not resolved"]
        },
        {
            "reversed ACL range",
            "<Feed f.ffm>\nACL allow 10.0.0.9 10.0.0.1\n</Feed>\n",
            ["t.conf:2: ACL range 10.0.0.9 10.0.0.1 is reversed; write the lower address first: ACL allow 10.0.0.1 10.0.0.9"]
        },
        {
            "ACL range across families",
            "<Feed f.ffm>\nACL deny 10.0.0.1 ::1\n</Feed>\n",
            ["t.conf:2: ACL range 10.0.0.1 ::1 mixes IPv4 and IPv6; write one ACL line for each family"]
        },
        {
            "unknown Format",
            Feed + "<Stream s>\nFeed feed1.ffm\nFormat wbm\n</Stream>\n",
            ["t.conf:5: unknown Format 'wbm'; did you mean 'webm'? Sluice serves webm, matroska, mkv, ogg, mpjpeg, mp3, jpeg, mpegts, adts, mp4, flv, hls, dash, mjpeg, mp2, mpeg, asf, swf, ismv, status"]
        },
        {
            "redirect without URL",
            "<Redirect old>\n</Redirect>\n",
            ["t.conf:1: <Redirect old> has no URL; add 'URL <url>' inside it"]
        },
        {
            "redirect with an empty URL",
            "<Redirect old>\nURL \"\"\n</Redirect>\n",
            ["t.conf:2: URL of <Redirect old> is empty; write the address to send clients to, such as http://example.com/live.webm, /live.webm or status.html"]
        },
        {
            "unterminated quote",
            "CustomLog \"/var/log/sluice.log\n",
            ["t.conf:1: unterminated quote: \" at column 11 has no closing \""]
        },
        {
            "NoDefaults without the essentials",
            Feed + "<Stream s>\nFeed feed1.ffm\nNoDefaults\nAudioCodec libvorbis\nVideoCodec libvpx\n</Stream>\n",
            [
                "t.conf:3: <Stream s> has NoDefaults but no AudioBitRate; add AudioBitRate <kbit/s> or remove NoDefaults",
                "t.conf:3: <Stream s> has NoDefaults but no AudioSampleRate; add AudioSampleRate <Hz> or remove NoDefaults",
                "t.conf:3: <Stream s> has NoDefaults but no VideoSize; add VideoSize <width>x<height> or remove NoDefaults",
            ]
        },
        {
            "an option set twice",
            Feed + "<Stream s>\nFeed feed1.ffm\nAVOptionVideo crf 30\nAVOptionVideo crf 20\n</Stream>\n",
            ["t.conf:6: AVOptionVideo crf is already set to '30' on line 5; keep one of them"]
        },
        {
            "every error is reported, in line order",
            "Prot 8090\nMaxBandwidth lots\n<Feed f.ffm>\nFileMaxSize 12\n</Feed>\n<Stream s>\nFeed nope.ffm\nVideoSize 320y\n</Stream>\n</Feed>\n",
            [
                "t.conf:1: unknown directive 'Prot'; did you mean 'Port'?",
                "t.conf:2: invalid MaxBandwidth 'lots': expected a whole number of kbit/s from 10 to 10000000",
                "t.conf:4: invalid FileMaxSize '12': expected a number with a K, M or G suffix (1024-based), e.g. 200K or 5M",
                "t.conf:7: <Stream s> reads Feed nope.ffm, but no <Feed nope.ffm> is defined; defined feeds: f.ffm",
                "t.conf:8: invalid VideoSize '320y': expected <width>x<height> (e.g. 320x240) or a name such as sqcif, qcif, cif, 4cif, qvga, vga, svga, xga, hd480, hd720, hd1080",
                "t.conf:10: </Feed> without an opening <Feed name>; remove it or add the opening tag",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void InvalidConfigIsRefusedWithEveryError(string name, string text, string[] expected)
    {
        var result = ConfigParser.Parse(text, "t.conf");

        Assert.False(result.Succeeded, name);
        Assert.Null(result.Config);
        Assert.Equal(expected, result.Errors.Select(e => e.ToString()));
    }
}
