using System.Globalization;

namespace Sluice.Server.Hls;

/// <summary>What a name under <c>/&lt;stream&gt;/</c> asks for; see <see cref="MediaUrl"/>.</summary>
internal enum MediaUrlKind : byte
{
    /// <summary><c>index.m3u8</c>: the multivariant playlist.</summary>
    Multivariant,

    /// <summary><c>media.m3u8</c>: the media playlist.</summary>
    MediaPlaylist,

    /// <summary><c>manifest.mpd</c>: the DASH manifest.</summary>
    DashManifest,

    /// <summary><c>&lt;epoch&gt;-init&lt;generation&gt;.mp4</c>: the init segment of CMAF segments (every track).</summary>
    Init,

    /// <summary><c>&lt;epoch&gt;-&lt;sequence&gt;.m4s</c>: a CMAF segment.</summary>
    Segment,

    /// <summary><c>&lt;epoch&gt;-&lt;sequence&gt;.ts</c>: an MPEG-TS segment.</summary>
    TsSegment,

    /// <summary><c>&lt;epoch&gt;-&lt;sequence&gt;.&lt;part&gt;.m4s</c>: an LL-HLS part.</summary>
    Part,

    /// <summary><c>&lt;epoch&gt;-dash&lt;generation&gt;-&lt;track&gt;.mp4</c>: the init segment of one track (DASH).</summary>
    DashInit,

    /// <summary><c>&lt;epoch&gt;-t&lt;track&gt;-&lt;time&gt;.m4s</c>: one track of the segment starting at a time (DASH, <c>$Time$</c>).</summary>
    DashSegment,
}

/// <summary>
/// The one grammar of the names the HLS playlists and the DASH manifest list and the endpoints answer (both live in
/// <c>Hls/</c> and <c>Dash/</c>; this type is shared, and sits here with the segmenter they share): written with
/// <see cref="TryFormat(Span{char}, out int)"/> or <see cref="ToString()"/>, read back with
/// <see cref="TryParse(ReadOnlySpan{char}, out MediaUrl)"/>, so what is listed is what is understood.
/// </summary>
/// <remarks>
/// Every name of a body (all kinds but the playlists and the manifest) begins with the server's epoch in base 36: after
/// a restart the same numbers are other bytes, and a cache must not mix them. Numbers are read as written (decimal
/// digits only, no sign), leading zeros allowed as they always were; the epoch must be written as
/// <see cref="EpochText"/> writes it (lowercase, no leading zero).
/// </remarks>
/// <param name="Kind">What is asked for.</param>
/// <param name="Epoch">The server's epoch (Unix seconds of its start); 0 for the playlists and the manifest.</param>
/// <param name="Number">The generation (<see cref="MediaUrlKind.Init"/>, <see cref="MediaUrlKind.DashInit"/>), the
/// sequence (<see cref="MediaUrlKind.Segment"/>, <see cref="MediaUrlKind.TsSegment"/>, <see cref="MediaUrlKind.Part"/>)
/// or the start time in 90 kHz ticks (<see cref="MediaUrlKind.DashSegment"/>); else 0.</param>
/// <param name="Index">The part (<see cref="MediaUrlKind.Part"/>) or the track (<see cref="MediaUrlKind.DashInit"/>,
/// <see cref="MediaUrlKind.DashSegment"/>); else 0.</param>
internal readonly record struct MediaUrl(MediaUrlKind Kind, long Epoch, long Number, int Index) : ISpanFormattable
{
    public const string MultivariantName = "index.m3u8";
    public const string MediaPlaylistName = "media.m3u8";
    public const string ManifestName = "manifest.mpd";

    /// <summary>Longer than the longest name: a 13-digit epoch, "-t", an 11-character track, "-", a 20-character time, ".m4s".</summary>
    public const int MaxLength = 64;

    private const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";

    public static MediaUrl Multivariant => new(MediaUrlKind.Multivariant, 0, 0, 0);

    public static MediaUrl MediaPlaylist => new(MediaUrlKind.MediaPlaylist, 0, 0, 0);

    public static MediaUrl DashManifest => new(MediaUrlKind.DashManifest, 0, 0, 0);

    public static MediaUrl Init(long epoch, int generation) => new(MediaUrlKind.Init, epoch, generation, 0);

    /// <summary>A segment: <c>.m4s</c> when <paramref name="cmaf"/>, else <c>.ts</c>.</summary>
    public static MediaUrl Segment(long epoch, long sequence, bool cmaf) =>
        new(cmaf ? MediaUrlKind.Segment : MediaUrlKind.TsSegment, epoch, sequence, 0);

    public static MediaUrl Part(long epoch, long sequence, int index) => new(MediaUrlKind.Part, epoch, sequence, index);

    public static MediaUrl DashInit(long epoch, int generation, int track) => new(MediaUrlKind.DashInit, epoch, generation, track);

    public static MediaUrl DashSegment(long epoch, int track, long startTicks) => new(MediaUrlKind.DashSegment, epoch, startTicks, track);

    /// <summary>The playlists and the manifest: the names that change, and carry no epoch.</summary>
    public bool IsPlaylist => Kind is MediaUrlKind.Multivariant or MediaUrlKind.MediaPlaylist or MediaUrlKind.DashManifest;

    /// <summary>The SegmentTemplate <c>media</c> of one track: a <see cref="MediaUrlKind.DashSegment"/> name with <c>$Time$</c> for the time.</summary>
    public static string DashTimeTemplate(long epoch, int track) =>
        string.Create(CultureInfo.InvariantCulture, $"{EpochText(epoch)}-t{track}-$Time$.m4s");

    /// <summary>The epoch as names carry it: base 36, lowercase.</summary>
    public static string EpochText(long epoch)
    {
        Span<char> text = stackalloc char[13];
        int written = WriteBase36(text, epoch);
        return new string(text[..written]);
    }

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        Span<char> name = stackalloc char[MaxLength];
        int length = Write(name);
        bool fits = length <= destination.Length;
        if (fits)
        {
            name[..length].CopyTo(destination);
        }

        charsWritten = fits ? length : 0;
        return fits;
    }

    /// <summary>Writes the name into <paramref name="name"/>, at least <see cref="MaxLength"/> long; returns its length.</summary>
    private int Write(Span<char> name)
    {
        switch (Kind)
        {
            case MediaUrlKind.Multivariant:
                MultivariantName.CopyTo(name);
                return MultivariantName.Length;
            case MediaUrlKind.MediaPlaylist:
                MediaPlaylistName.CopyTo(name);
                return MediaPlaylistName.Length;
            case MediaUrlKind.DashManifest:
                ManifestName.CopyTo(name);
                return ManifestName.Length;
        }

        int at = WriteBase36(name, Epoch);
        var rest = name[at..];
        var invariant = CultureInfo.InvariantCulture;
        int written = 0;
        _ = Kind switch
        {
            MediaUrlKind.Init => rest.TryWrite(invariant, $"-init{Number}.mp4", out written),
            MediaUrlKind.Segment => rest.TryWrite(invariant, $"-{Number}.m4s", out written),
            MediaUrlKind.TsSegment => rest.TryWrite(invariant, $"-{Number}.ts", out written),
            MediaUrlKind.Part => rest.TryWrite(invariant, $"-{Number}.{Index}.m4s", out written),
            MediaUrlKind.DashInit => rest.TryWrite(invariant, $"-dash{Number}-{Index}.mp4", out written),
            MediaUrlKind.DashSegment => rest.TryWrite(invariant, $"-t{Index}-{Number}.m4s", out written),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "not a kind of name"),
        };
        return at + written;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    string IFormattable.ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public override string ToString()
    {
        Span<char> name = stackalloc char[MaxLength];
        return TryFormat(name, out int written) ? new string(name[..written]) : "";
    }

    /// <summary>Reads a name as <see cref="TryFormat(Span{char}, out int)"/> writes it; false for any other (no allocation).</summary>
    public static bool TryParse(ReadOnlySpan<char> name, out MediaUrl url)
    {
        url = default;
        if (name.SequenceEqual(MultivariantName))
        {
            url = Multivariant;
            return true;
        }

        if (name.SequenceEqual(MediaPlaylistName))
        {
            url = MediaPlaylist;
            return true;
        }

        if (name.SequenceEqual(ManifestName))
        {
            url = DashManifest;
            return true;
        }

        if (!TryReadEpoch(name, out long epoch, out var rest))
        {
            return false;
        }

        if (rest.StartsWith("init") && rest.EndsWith(".mp4") && rest.Length >= 8 && Int(rest[4..^4], out int generation))
        {
            url = Init(epoch, generation);
            return true;
        }

        if (rest.StartsWith("dash") && rest.EndsWith(".mp4") && rest.Length >= 8 && rest[4..^4] is var pair
            && pair.IndexOf('-') is int hyphen and >= 0 && Int(pair[..hyphen], out int dashGeneration) && Int(pair[(hyphen + 1)..], out int initTrack))
        {
            url = DashInit(epoch, dashGeneration, initTrack);
            return true;
        }

        if (rest.StartsWith("t") && rest.EndsWith(".m4s") && rest.Length >= 5 && rest[1..^4] is var address
            && address.IndexOf('-') is int dash and >= 0 && Int(address[..dash], out int track) && Long(address[(dash + 1)..], out long startTicks))
        {
            url = DashSegment(epoch, track, startTicks);
            return true;
        }

        // <sequence>.ts, <sequence>.m4s or <sequence>.<part>.m4s
        int dot = rest.IndexOf('.');
        if (dot < 0 || !Long(rest[..dot], out long sequence))
        {
            return false;
        }

        var tail = rest[dot..];
        if (tail.SequenceEqual(".m4s") || tail.SequenceEqual(".ts"))
        {
            url = Segment(epoch, sequence, cmaf: tail.Length == 4);
            return true;
        }

        if (tail.EndsWith(".m4s") && tail.Length > 5 && Int(tail[1..^4], out int part))
        {
            url = Part(epoch, sequence, part);
            return true;
        }

        return false;
    }

    /// <summary>Whether <paramref name="name"/> begins with <paramref name="epoch"/> as a body's name does (it may still name nothing).</summary>
    public static bool HasEpoch(ReadOnlySpan<char> name, long epoch) => TryReadEpoch(name, out long read, out _) && read == epoch;

    /// <summary>The base-36 epoch before the first '-': lowercase digits, no leading zero, no overflow.</summary>
    private static bool TryReadEpoch(ReadOnlySpan<char> name, out long epoch, out ReadOnlySpan<char> rest)
    {
        epoch = 0;
        rest = default;
        int hyphen = name.IndexOf('-');
        if (hyphen <= 0 || (name[0] == '0' && hyphen > 1))
        {
            return false;
        }

        foreach (char c in name[..hyphen])
        {
            int digit = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : -1;
            if (digit < 0 || epoch > (long.MaxValue - digit) / 36)
            {
                return false;
            }

            epoch = epoch * 36 + digit;
        }

        rest = name[(hyphen + 1)..];
        return true;
    }

    private static int WriteBase36(Span<char> destination, long value)
    {
        Span<char> reversed = stackalloc char[13];
        int count = 0;
        ulong rest = (ulong)value;
        do
        {
            reversed[count++] = Digits[(int)(rest % 36)];
            rest /= 36;
        }
        while (rest > 0);

        for (int i = 0; i < count; i++)
        {
            destination[i] = reversed[count - 1 - i];
        }

        return count;
    }

    private static bool Int(ReadOnlySpan<char> digits, out int value) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static bool Long(ReadOnlySpan<char> digits, out long value) =>
        long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
