using System.Globalization;

namespace Sluice.Tests.Support;

/// <summary>
/// Checks every media playlist of one stream it is asked to fetch against the HLS rules (RFC 8216 and the LL-HLS
/// draft): EXT-X-TARGETDURATION at least every segment's rounded duration, media sequence never going back, parts of
/// a segment numbered 0, 1, 2... and never fewer than before, no part longer than PART-TARGET, PROGRAM-DATE-TIME
/// rising; every URI it lists answers 200 with the right Content-Type, and every segment starts with a keyframe
/// (ffprobe on the init segment and the segment).
/// </summary>
internal sealed class PlaylistChecker(HttpClient http, string baseUrl, bool cmaf)
{
    private readonly HashSet<string> _fetched = [];
    private readonly Dictionary<string, byte[]> _inits = [];
    private readonly Dictionary<long, int> _partCounts = [];
    private readonly Dictionary<long, DateTimeOffset> _dates = [];
    private long _lastMediaSequence = -1;

    public string Base => baseUrl;

    public bool Cmaf => cmaf;

    public int Playlists { get; private set; }

    public int Segments { get; private set; }

    public int Parts { get; private set; }

    public async Task CheckAsync()
    {
        using var response = await http.GetAsync(baseUrl + "media.m3u8");
        if ((int)response.StatusCode == 503)
        {
            return; // nothing published yet
        }

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("application/vnd.apple.mpegurl", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        Playlists++;
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("#EXTM3U", lines[0]);

        int target = -1;
        double partTarget = double.MaxValue;
        long sequence = -1;
        string? init = null;
        DateTimeOffset? date = null, lastDate = null;
        int partIndex = 0;
        double extinf = -1;
        foreach (string line in lines)
        {
            if (line.StartsWith("#EXT-X-TARGETDURATION:", StringComparison.Ordinal))
            {
                target = int.Parse(line[22..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXT-X-PART-INF:PART-TARGET=", StringComparison.Ordinal))
            {
                partTarget = double.Parse(line[28..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXT-X-MEDIA-SEQUENCE:", StringComparison.Ordinal))
            {
                sequence = long.Parse(line[22..], CultureInfo.InvariantCulture);
                Assert.True(sequence >= _lastMediaSequence, $"{baseUrl}: media sequence went back from {_lastMediaSequence} to {sequence}");
                _lastMediaSequence = sequence;
            }
            else if (line.StartsWith("#EXT-X-MAP:URI=", StringComparison.Ordinal))
            {
                init = line[16..^1];
                await FetchAsync(init, "video/mp4", isSegment: false);
            }
            else if (line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            {
                date = DateTimeOffset.Parse(line[25..], CultureInfo.InvariantCulture);
                Assert.True(lastDate is null || date > lastDate, $"{baseUrl}: PROGRAM-DATE-TIME {date:O} not after {lastDate:O}\n{text}");
                lastDate = date;
                if (_dates.TryGetValue(sequence, out var before))
                {
                    Assert.Equal(before, date);
                }

                _dates[sequence] = date.Value;
            }
            else if (line.StartsWith("#EXT-X-PART:", StringComparison.Ordinal))
            {
                var attributes = line[12..].Split(',').Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1].Trim('"'));
                double duration = double.Parse(attributes["DURATION"], CultureInfo.InvariantCulture);
                Assert.True(duration <= partTarget + 0.001, $"{baseUrl}: part {attributes["URI"]} of {duration} s exceeds PART-TARGET {partTarget}");
                string expected = $"-{sequence}.{partIndex}.m4s";
                Assert.True(attributes["URI"].EndsWith(expected, StringComparison.Ordinal), $"{baseUrl}: part {attributes["URI"]} where *{expected} comes next\n{text}");
                partIndex++;
                await FetchAsync(attributes["URI"], "video/mp4", isSegment: false);
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                extinf = double.Parse(line[8..].TrimEnd(','), CultureInfo.InvariantCulture);
                Assert.True((int)Math.Round(extinf, MidpointRounding.AwayFromZero) <= target, $"{baseUrl}: segment of {extinf} s in a playlist whose target duration is {target}");
            }
            else if (line.StartsWith("#EXT-X-PRELOAD-HINT:", StringComparison.Ordinal))
            {
                Assert.EndsWith($"-{sequence}.{partIndex}.m4s\"", line, StringComparison.Ordinal);
                NoteParts(sequence, partIndex);
            }
            else if (!line.StartsWith('#'))
            {
                Assert.True(extinf > 0, $"{baseUrl}: {line} has no EXTINF");
                Assert.EndsWith($"-{sequence}.{(cmaf ? "m4s" : "ts")}", line, StringComparison.Ordinal);
                if (await FetchAsync(line, cmaf ? "video/mp4" : "video/mp2t", isSegment: true) is { } bytes)
                {
                    await FirstSampleIsKeyframeAsync(line, init is null ? bytes : [.. _inits[init], .. bytes]);
                }

                NoteParts(sequence, partIndex);
                sequence++;
                partIndex = 0;
                extinf = -1;
            }
        }

        Assert.True(target > 0 && sequence >= 0, $"{baseUrl}: no target duration or media sequence\n{text}");
    }

    private void NoteParts(long sequence, int count)
    {
        if (!cmaf || count == 0)
        {
            return;
        }

        Assert.True(!_partCounts.TryGetValue(sequence, out int before) || count >= before, $"{baseUrl}: segment {sequence} had {before} parts, now {count}");
        _partCounts[sequence] = count;
    }

    /// <summary>Fetches a URI the first time it is listed; returns its bytes then, null when it was fetched before.</summary>
    private async Task<byte[]?> FetchAsync(string uri, string type, bool isSegment)
    {
        if (!_fetched.Add(uri))
        {
            return null;
        }

        using var response = await http.GetAsync(baseUrl + uri);
        Assert.True((int)response.StatusCode == 200, $"{baseUrl}{uri}: {(int)response.StatusCode}");
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.NotEmpty(bytes);
        if (uri.EndsWith(".mp4", StringComparison.Ordinal))
        {
            _inits[uri] = bytes;
        }
        else if (isSegment)
        {
            Segments++;
        }
        else
        {
            Parts++;
        }

        return bytes;
    }

    private async Task FirstSampleIsKeyframeAsync(string uri, byte[] bytes)
    {
        string file = Path.Combine(Path.GetTempPath(), $"sluice-hls-{Guid.NewGuid():N}{(cmaf ? ".mp4" : ".ts")}");
        await File.WriteAllBytesAsync(file, bytes);
        try
        {
            var probe = await ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-read_intervals", "%+#1", "-of", "csv=p=0", file], TimeSpan.FromSeconds(20));
            Assert.True(probe.StdOut.TrimStart().StartsWith('K'), $"{baseUrl}{uri}: the first video packet is not a keyframe ({probe})");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
