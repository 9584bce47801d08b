using System.Diagnostics;

namespace Sluice.Tests.Support.Conformance;

/// <summary>
/// Fetches a live stream's HLS media playlist (and its multivariant playlist) at each <see cref="PollAsync"/>, and every
/// init segment, segment and part it lists the first time it is listed, into an <see cref="HlsCapture"/>; a status other
/// than 200 or a wrong Content-Type is a finding of the capture.
/// </summary>
internal sealed class HlsFetcher(HttpClient http, string baseUrl, HlsCapture capture)
{
    public HlsCapture Capture => capture;

    public int Segments { get; private set; }

    public int Parts { get; private set; }

    public async Task PollAsync()
    {
        using var response = await http.GetAsync(baseUrl + capture.MediaUri);
        if ((int)response.StatusCode == 503)
        {
            return; // nothing published yet
        }

        string text = await response.Content.ReadAsStringAsync();
        if (!Expect(response, capture.MediaUri, "application/vnd.apple.mpegurl", capture.Fetching))
        {
            return;
        }

        capture.Multivariant ??= await http.GetStringAsync(baseUrl + "index.m3u8");
        capture.Playlists.Add(text);
        var playlist = HlsMediaPlaylist.Parse(text);
        string type = capture.Cmaf ? "video/mp4" : "video/mp2t";
        foreach (var segment in playlist.Segments)
        {
            if (segment.Map is { } map)
            {
                await FetchAsync(map, "video/mp4");
            }

            foreach (var part in segment.Parts)
            {
                Parts += await FetchAsync(part.Uri, type) ? 1 : 0;
            }

            Segments += await FetchAsync(segment.Uri, type) ? 1 : 0;
        }

        foreach (var part in playlist.OpenParts)
        {
            Parts += await FetchAsync(part.Uri, type) ? 1 : 0;
        }
    }

    private Task<bool> FetchAsync(string uri, string type) => FetchOnceAsync(http, baseUrl, uri, type, capture.Bodies, capture.Fetching);

    /// <summary>Fetches a listed URI the first time it is listed into <paramref name="bodies"/>; true when it came, with the type, and not empty.</summary>
    public static async Task<bool> FetchOnceAsync(HttpClient http, string baseUrl, string uri, string type, Dictionary<string, byte[]> bodies, List<Finding> findings)
    {
        if (bodies.ContainsKey(uri))
        {
            return false;
        }

        using var response = await http.GetAsync(baseUrl + uri);
        byte[] bytes = await response.Content.ReadAsByteArrayAsync();
        bodies[uri] = bytes;
        return Expect(response, uri, type, findings) && bytes.Length > 0;
    }

    /// <summary>200 with the Content-Type, or a finding.</summary>
    public static bool Expect(HttpResponseMessage response, string uri, string type, List<Finding> findings)
    {
        string? actual = response.Content.Headers.ContentType?.MediaType;
        if ((int)response.StatusCode == 200 && actual == type)
        {
            return true;
        }

        findings.Add(new Finding(Rules.Http, uri, $"{(int)response.StatusCode} {actual} where 200 {type} was expected"));
        return false;
    }
}

/// <summary>Fetches a live stream's MPD at each <see cref="PollAsync"/>, and each Representation's init and every $Time$ segment it lists, once.</summary>
internal sealed class DashFetcher(HttpClient http, string baseUrl, DashCapture capture)
{
    public DashCapture Capture => capture;

    public int Segments { get; private set; }

    public async Task PollAsync()
    {
        using var response = await http.GetAsync(baseUrl + "manifest.mpd");
        if ((int)response.StatusCode == 503)
        {
            return;
        }

        string text = await response.Content.ReadAsStringAsync();
        if (!HlsFetcher.Expect(response, "manifest.mpd", "application/dash+xml", capture.Fetching))
        {
            return;
        }

        capture.Manifests.Add(text);
        foreach (var rep in DashMpd.Parse(text).Representations)
        {
            string type = rep.ContentType == "audio" ? "audio/mp4" : "video/mp4";
            await FetchAsync(rep.InitUri, type);
            foreach (var s in rep.Timeline)
            {
                Segments += await FetchAsync(rep.MediaUri(s.T), type) ? 1 : 0;
            }
        }
    }

    private Task<bool> FetchAsync(string uri, string type) => HlsFetcher.FetchOnceAsync(http, baseUrl, uri, type, capture.Bodies, capture.Fetching);
}

/// <summary>Reads a progressive response for a while (the first bytes of a live fMP4 stream).</summary>
internal static class ProgressiveFetcher
{
    public static async Task<byte[]> ReadAsync(HttpClient http, string url, TimeSpan duration)
    {
        using var cts = new CancellationTokenSource(duration);
        using var body = new MemoryStream();
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
            await stream.CopyToAsync(body, cts.Token);
        }
        catch (OperationCanceledException) when (clock.Elapsed >= duration - TimeSpan.FromMilliseconds(50))
        {
            // The time is up: what arrived is the sample.
        }

        return body.ToArray();
    }
}
