namespace Sluice.Tests.Support.Conformance;

/// <summary>
/// What was fetched of one HLS media playlist over a run: each reload's text in order, the multivariant playlist, and
/// the body of every URI listed (init segments, segments, parts), by the URI as the playlist wrote it.
/// </summary>
public sealed class HlsCapture(string name, bool cmaf)
{
    /// <summary>What the findings call it (the feed and the output, e.g. "matroska/hls-fmp4").</summary>
    public string Name => name;

    /// <summary>CMAF (fMP4) segments and parts; else MPEG-TS segments.</summary>
    public bool Cmaf => cmaf;

    public string? Multivariant { get; set; }

    /// <summary>The URI of the media playlist as the multivariant playlist lists it.</summary>
    public string MediaUri { get; set; } = "media.m3u8";

    public List<string> Playlists { get; } = [];

    public Dictionary<string, byte[]> Bodies { get; } = new(StringComparer.Ordinal);

    /// <summary>Findings of the fetching itself (a status other than 200, a wrong Content-Type).</summary>
    public List<Finding> Fetching { get; } = [];
}

/// <summary>What was fetched of one DASH MPD over a run: each reload's text, and the body of every init and $Time$ segment listed.</summary>
public sealed class DashCapture(string name)
{
    public string Name => name;

    public List<string> Manifests { get; } = [];

    public Dictionary<string, byte[]> Bodies { get; } = new(StringComparer.Ordinal);

    public List<Finding> Fetching { get; } = [];
}
