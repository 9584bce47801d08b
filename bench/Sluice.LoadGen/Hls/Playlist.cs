using System.Globalization;

namespace Sluice.LoadGen.Hls;

/// <summary>One media segment or partial segment of a media playlist, numbered as the playlist numbers it.</summary>
/// <param name="Msn">Media sequence number of the segment (a part carries its parent segment's number).</param>
/// <param name="Part">Index of the part within its segment, or -1 for a whole segment.</param>
internal readonly record struct MediaUnit(long Msn, int Part, Uri Uri, double Duration);

/// <summary>A variant of a multivariant playlist, and the group of audio renditions it plays with, if any.</summary>
internal sealed record Variant(Uri Uri, string? AudioGroup);

/// <summary>An EXT-X-MEDIA rendition of a multivariant playlist (one without a URI is carried in the variant itself).</summary>
internal sealed record Rendition(string Type, string GroupId, bool Default, Uri? Uri);

/// <summary>
/// What a player needs from an HLS playlist (RFC 8216 and its low-latency revision): the variant URIs of a
/// multivariant playlist, or the segments, parts, map and server control of a media playlist. Only the tags a
/// live player acts on are read; everything else is skipped, as a player would.
/// </summary>
internal sealed class Playlist
{
    public bool IsMultivariant { get; private init; }
    public List<Variant> Variants { get; } = [];
    public List<Rendition> Renditions { get; } = [];
    public double TargetDuration { get; private set; }
    public long MediaSequence { get; private set; }
    public List<MediaUnit> Segments { get; } = [];
    /// <summary>Parts in playlist order, those of complete segments and of the one still being written.</summary>
    public List<MediaUnit> Parts { get; } = [];
    public Uri? Map { get; private set; }
    public double PartTarget { get; private set; }
    public bool CanBlockReload { get; private set; }
    public bool Ended { get; private set; }

    /// <summary>
    /// The media playlists a player of the first variant follows: the variant's own, and that of the audio rendition
    /// it would pick from the variant's AUDIO group (the DEFAULT=YES one, else the first) when that has a URI.
    /// </summary>
    public List<Uri> FirstVariantPlaylists()
    {
        var variant = Variants.Count > 0 ? Variants[0] : throw new FormatException("multivariant playlist without a variant URI");
        var uris = new List<Uri> { variant.Uri };
        if (variant.AudioGroup is { } group)
        {
            var audio = Renditions.Where(r => r.Type == "AUDIO" && r.GroupId == group).OrderByDescending(r => r.Default).FirstOrDefault();
            if (audio?.Uri is { } audioUri && audioUri != variant.Uri)
            {
                uris.Add(audioUri);
            }
        }

        return uris;
    }

    /// <summary>Media sequence number of the segment after the last complete one (the one parts are being added to).</summary>
    public long NextMsn => MediaSequence + Segments.Count;

    public static Playlist Parse(string text, Uri baseUri)
    {
        var lines = text.Split('\n');
        if (lines.Length == 0 || !lines[0].TrimEnd('\r').TrimStart('\uFEFF').StartsWith("#EXTM3U", StringComparison.Ordinal))
        {
            throw new FormatException("not a playlist: the first line is not #EXTM3U");
        }

        var multivariant = text.Contains("#EXT-X-STREAM-INF", StringComparison.Ordinal);
        var p = new Playlist { IsMultivariant = multivariant };
        double extinf = -1;
        string? expectVariant = null; // the attribute list of the EXT-X-STREAM-INF whose URI comes next
        var partIndex = 0;
        foreach (var raw in lines.Skip(1))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] != '#')
            {
                var uri = new Uri(baseUri, line);
                if (multivariant)
                {
                    if (expectVariant is not null)
                    {
                        p.Variants.Add(new Variant(uri, Attribute(expectVariant, "AUDIO")));
                        expectVariant = null;
                    }
                }
                else if (extinf >= 0)
                {
                    p.Segments.Add(new MediaUnit(p.MediaSequence + p.Segments.Count, -1, uri, extinf));
                    extinf = -1;
                    partIndex = 0;
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var tag = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            switch (tag)
            {
                case "#EXT-X-STREAM-INF":
                    expectVariant = value;
                    break;
                case "#EXT-X-MEDIA":
                    var renditionUri = Attribute(value, "URI");
                    p.Renditions.Add(new Rendition(Attribute(value, "TYPE") ?? "", Attribute(value, "GROUP-ID") ?? "",
                        Attribute(value, "DEFAULT") == "YES", renditionUri is null ? null : new Uri(baseUri, renditionUri)));
                    break;
                case "#EXT-X-TARGETDURATION":
                    p.TargetDuration = Number(value, tag);
                    break;
                case "#EXT-X-MEDIA-SEQUENCE":
                    p.MediaSequence = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                    break;
                case "#EXTINF":
                    extinf = Number(value.Split(',')[0], tag);
                    break;
                case "#EXT-X-MAP":
                    p.Map = new Uri(baseUri, Attribute(value, "URI") ?? throw new FormatException("EXT-X-MAP without URI"));
                    break;
                case "#EXT-X-PART-INF":
                    p.PartTarget = Number(Attribute(value, "PART-TARGET") ?? "0", "PART-TARGET");
                    break;
                case "#EXT-X-SERVER-CONTROL":
                    p.CanBlockReload = Attribute(value, "CAN-BLOCK-RELOAD") == "YES";
                    break;
                case "#EXT-X-PART":
                    var partUri = Attribute(value, "URI") ?? throw new FormatException("EXT-X-PART without URI");
                    p.Parts.Add(new MediaUnit(p.MediaSequence + p.Segments.Count, partIndex++, new Uri(baseUri, partUri),
                        Number(Attribute(value, "DURATION") ?? "0", "DURATION")));
                    break;
                case "#EXT-X-ENDLIST":
                    p.Ended = true;
                    break;
            }
        }

        if (!multivariant && p.TargetDuration <= 0)
        {
            throw new FormatException("media playlist without #EXT-X-TARGETDURATION");
        }

        return p;
    }

    /// <summary>The value of NAME=value or NAME="value" in an attribute list, or null.</summary>
    private static string? Attribute(string list, string name)
    {
        var i = 0;
        while (i < list.Length)
        {
            var eq = list.IndexOf('=', i);
            if (eq < 0)
            {
                return null;
            }

            var key = list[i..eq].Trim();
            string val;
            int next;
            if (eq + 1 < list.Length && list[eq + 1] == '"')
            {
                var close = list.IndexOf('"', eq + 2);
                if (close < 0)
                {
                    throw new FormatException($"unterminated quoted attribute {key}");
                }

                val = list[(eq + 2)..close];
                next = list.IndexOf(',', close);
            }
            else
            {
                next = list.IndexOf(',', eq);
                val = next < 0 ? list[(eq + 1)..] : list[(eq + 1)..next];
            }

            if (key == name)
            {
                return val;
            }

            if (next < 0)
            {
                return null;
            }

            i = next + 1;
        }

        return null;
    }

    private static double Number(string s, string what) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"{what}: not a number: '{s}'");
}
