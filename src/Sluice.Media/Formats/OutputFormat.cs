using Sluice.Media.Formats.Matroska;

namespace Sluice.Media.Formats;

/// <summary>A container Sluice can write for viewers, by the name ffserver's <c>Format</c> directive used.</summary>
public sealed class OutputFormat
{
    private readonly Func<IReadOnlyList<TrackInfo>, IMuxer> _create;
    private readonly HashSet<CodecId> _codecs;

    private OutputFormat(string name, string contentType, CodecId[] codecs, Func<IReadOnlyList<TrackInfo>, IMuxer> create)
    {
        Name = name;
        ContentType = contentType;
        _codecs = [.. codecs];
        _create = create;
    }

    public string Name { get; }

    public string ContentType { get; }

    public IReadOnlyCollection<CodecId> Codecs => _codecs;

    public bool CanCarry(CodecId codec) => _codecs.Contains(codec);

    public IMuxer CreateMuxer(IReadOnlyList<TrackInfo> tracks) => _create(tracks);

    public static readonly OutputFormat WebM = new(
        "webm",
        "video/webm",
        [CodecId.VP8, CodecId.VP9, CodecId.AV1, CodecId.Vorbis, CodecId.Opus],
        tracks => new WebmMuxer(tracks));

    private static readonly Dictionary<string, OutputFormat> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["webm"] = WebM,
    };

    /// <summary>The writer for a Format name, or null when Sluice does not write it (yet).</summary>
    public static OutputFormat? Find(string name) => ByName.GetValueOrDefault(name);

    public static IEnumerable<string> Names => ByName.Keys;
}
