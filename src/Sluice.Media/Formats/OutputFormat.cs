using Sluice.Media.Buffers;
using Sluice.Media.Formats.Adts;
using Sluice.Media.Formats.Asf;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Mjpeg;
using Sluice.Media.Formats.Mp3;
using Sluice.Media.Formats.MpegPs;
using Sluice.Media.Formats.MpegTs;
using Sluice.Media.Formats.Mp4;
using Sluice.Media.Formats.Ogg;
using Sluice.Media.Formats.Swf;

namespace Sluice.Media.Formats;

/// <summary>A container Sluice can write for viewers, by the name ffserver's <c>Format</c> directive used.</summary>
public sealed class OutputFormat
{
    private readonly Func<IReadOnlyList<TrackInfo>, BlockPool?, IMuxer> _create;
    private readonly HashSet<CodecId> _codecs;

    private OutputFormat(
        string name, string contentType, CodecId[] codecs, Func<IReadOnlyList<TrackInfo>, BlockPool?, IMuxer> create,
        string[] extensions, string[]? aliases = null, FfmpegMuxing? muxedByFfmpeg = null)
    {
        Name = name;
        MuxedByFfmpeg = muxedByFfmpeg;
        ContentType = contentType;
        _codecs = [.. codecs];
        _create = create;
        Extensions = extensions;
        Aliases = aliases ?? [];
    }

    public string Name { get; }

    /// <summary>Other names the Format directive takes for it (<c>mkv</c> for matroska).</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>
    /// The file extensions that name it: a stream with no Format whose name ends with one (<c>live.ts</c>) is
    /// served in this format.
    /// </summary>
    public IReadOnlyList<string> Extensions { get; }

    public string ContentType { get; }

    /// <summary>True when a request gets one picture (the newest frame), not a stream.</summary>
    public bool IsSnapshot => ReferenceEquals(this, Jpeg);

    public IReadOnlyCollection<CodecId> Codecs => _codecs;

    public bool CanCarry(CodecId codec) => _codecs.Contains(codec);

    /// <summary>
    /// How ffmpeg writes this format when Sluice does not write it itself (mpeg, asf, swf, ismv), or null. Such a
    /// format's <see cref="Codecs"/> are what its ffmpeg takes in (Matroska's), not what it writes out.
    /// </summary>
    public FfmpegMuxing? MuxedByFfmpeg { get; }

    /// <param name="pool">Where the muxer's framing blocks come from; <see cref="BlockPool.Shared"/> when null.</param>
    public IMuxer CreateMuxer(IReadOnlyList<TrackInfo> tracks, BlockPool? pool = null) => _create(tracks, pool);

    public static readonly OutputFormat WebM = new(
        "webm",
        "video/webm",
        [CodecId.VP8, CodecId.VP9, CodecId.AV1, CodecId.Vorbis, CodecId.Opus],
        (tracks, pool) => new WebmMuxer(tracks, pool),
        extensions: [".webm"]);

    /// <summary>Matroska with any codec Sluice knows (DocType webm when every codec is a WebM one).</summary>
    public static readonly OutputFormat Matroska = new(
        "matroska",
        "video/x-matroska",
        [CodecId.VP8, CodecId.VP9, CodecId.AV1, CodecId.H264, CodecId.H265, CodecId.Theora, CodecId.MJPEG,
         CodecId.MPEG4, CodecId.MPEG1Video, CodecId.MPEG2Video, CodecId.FLV1, CodecId.H263,
         CodecId.MSMPEG4V2, CodecId.MSMPEG4V3, CodecId.WMV1, CodecId.WMV2,
         CodecId.Vorbis, CodecId.Opus, CodecId.AAC, CodecId.MP3, CodecId.MP2, CodecId.FLAC, CodecId.AC3, CodecId.WMAV1, CodecId.WMAV2],
        (tracks, pool) => new WebmMuxer(tracks, pool),
        extensions: [".mkv"], aliases: ["mkv"]);

    /// <summary>Ogg: Vorbis and Opus audio, Theora video.</summary>
    public static readonly OutputFormat Ogg = new(
        "ogg",
        "audio/ogg",
        [CodecId.Vorbis, CodecId.Opus, CodecId.Theora],
        (tracks, pool) => new OggMuxer(tracks, pool),
        extensions: [".ogg", ".ogv", ".oga", ".opus"]);

    /// <summary>ffserver's mpjpeg: multipart/x-mixed-replace JPEG frames, shown by an &lt;img&gt; as they arrive.</summary>
    public static readonly OutputFormat MultipartJpeg = new(
        "mpjpeg",
        $"multipart/x-mixed-replace;boundary={MultipartJpegMuxer.DefaultBoundary}",
        [CodecId.MJPEG],
        (tracks, pool) => new MultipartJpegMuxer(tracks, layout: MultipartJpegLayout.ShowOnArrival, pool: pool),
        extensions: [".mjpg", ".mjpeg"]);

    /// <summary>
    /// One JPEG, the newest frame, per request (ffserver's jpeg): a snapshot for an &lt;img&gt; or a monitoring
    /// script. Its muxer frames parts with Content-Length, so each chunk's payload is one whole JPEG.
    /// </summary>
    public static readonly OutputFormat Jpeg = new(
        "jpeg",
        "image/jpeg",
        [CodecId.MJPEG],
        (tracks, pool) => new MultipartJpegMuxer(tracks, layout: MultipartJpegLayout.ContentLength, pool: pool),
        extensions: [".jpg"]);

    /// <summary>Bare MP3 frames, for radio players.</summary>
    public static readonly OutputFormat Mp3 = new(
        "mp3",
        "audio/mpeg",
        [CodecId.MP3],
        (tracks, _) => new Mp3Muxer(tracks),
        extensions: [".mp3"]);

    /// <summary>
    /// MPEG transport stream: H.264, H.265, MPEG-4 Part 2 or MPEG-1/2 video with AAC, MP2, MP3 or Opus (VLC, set-top
    /// boxes, mpegts.js).
    /// </summary>
    public static readonly OutputFormat MpegTs = new(
        "mpegts",
        "video/mp2t",
        [CodecId.H264, CodecId.H265, CodecId.MPEG4, CodecId.MPEG1Video, CodecId.MPEG2Video, CodecId.AAC, CodecId.MP2, CodecId.MP3, CodecId.Opus],
        (tracks, pool) => new MpegTsMuxer(tracks, pool),
        extensions: [".ts"]);

    /// <summary>Fragmented MP4, progressive: ftyp+moov, then a moof+mdat per packet (Media Source Extensions players).</summary>
    public static readonly OutputFormat Mp4 = new(
        "mp4",
        "video/mp4",
        [CodecId.H264, CodecId.H265, CodecId.AV1, CodecId.VP9, CodecId.MPEG4, CodecId.MPEG1Video, CodecId.MPEG2Video,
         CodecId.AAC, CodecId.MP3, CodecId.Opus],
        (tracks, pool) => new FragmentedMp4Muxer(tracks, pool),
        extensions: [".mp4", ".m4v"]);

    /// <summary>FLV (flv.js / mpegts.js players, Flash): H.264, H.265 as Enhanced FLV, Sorenson H.263, AAC, MP3.</summary>
    public static readonly OutputFormat Flv = new(
        "flv",
        "video/x-flv",
        [CodecId.H264, CodecId.H265, CodecId.FLV1, CodecId.AAC, CodecId.MP3],
        (tracks, pool) => new FlvMuxer(tracks, pool),
        extensions: [".flv"]);

    /// <summary>
    /// HLS only (`Format hls`): the stream is served as playlists and segments, never progressively. Its codecs are
    /// those both HLS segment forms (MPEG-TS and CMAF) can take; the muxer is the CMAF one segments are cut from.
    /// </summary>
    public static readonly OutputFormat Hls = new(
        "hls",
        "application/vnd.apple.mpegurl",
        [CodecId.H264, CodecId.H265, CodecId.AAC, CodecId.MP3, CodecId.Opus],
        (tracks, pool) => new FragmentedMp4Muxer(tracks, pool),
        extensions: [".m3u8"]);

    /// <summary>DASH only (`Format dash`): served as an MPD and CMAF segments.</summary>
    public static readonly OutputFormat Dash = new(
        "dash",
        "application/dash+xml",
        [CodecId.H264, CodecId.H265, CodecId.AV1, CodecId.VP9, CodecId.AAC, CodecId.Opus],
        (tracks, pool) => new FragmentedMp4Muxer(tracks, pool),
        extensions: [".mpd"]);

    /// <summary>
    /// Raw MJPEG (ffserver's mjpeg): the JPEGs back to back, as ffmpeg's mjpeg muxer writes them; VLC, ffplay and
    /// OpenCV read it, and ffserver sent it as video/x-mjpeg.
    /// </summary>
    public static readonly OutputFormat RawMjpeg = new(
        "mjpeg",
        MultipartJpegMuxer.BareContentType,
        [CodecId.MJPEG],
        (tracks, pool) => new MultipartJpegMuxer(tracks, layout: MultipartJpegLayout.Bare, pool: pool),
        extensions: []);

    /// <summary>
    /// The MPEG audio elementary stream (ffserver's mp2, whose sample config streamed MP3 with it): bare frames of the
    /// codec the stream's AudioCodec names.
    /// </summary>
    public static readonly OutputFormat MpegAudio = new(
        "mp2",
        "audio/mpeg",
        [CodecId.MP2, CodecId.MP3],
        (tracks, _) => new Mp3Muxer(tracks),
        extensions: [".mp2", ".m2a", ".mpa"]);

    /// <summary>MPEG-1 program stream (ffserver's mpeg: MPEG-1 video and MPEG audio by default), written by ffmpeg.</summary>
    public static readonly OutputFormat MpegPs = new(
        "mpeg",
        "video/mpeg",
        [.. Matroska.Codecs],
        ByFfmpeg("mpeg"),
        extensions: [".mpg", ".mpeg"],
        muxedByFfmpeg: new FfmpegMuxing("mpeg", "mpeg1video", "mp2", () => new MpegPsScanner()));

    /// <summary>ASF (Windows Media: MPEG-4 Part 2 v3 video and WMA v2 audio by default), written by ffmpeg.</summary>
    public static readonly OutputFormat Asf = new(
        "asf",
        "video/x-ms-asf",
        [.. Matroska.Codecs],
        ByFfmpeg("asf"),
        extensions: [".asf", ".wmv", ".wma"],
        muxedByFfmpeg: new FfmpegMuxing("asf", "msmpeg4", "wmav2", () => new AsfScanner()));

    /// <summary>Flash SWF (Sorenson H.263 video and MP3 audio by default), written by ffmpeg.</summary>
    public static readonly OutputFormat Swf = new(
        "swf",
        "application/x-shockwave-flash",
        [.. Matroska.Codecs],
        ByFfmpeg("swf"),
        extensions: [".swf"],
        muxedByFfmpeg: new FfmpegMuxing("swf", "flv", "libmp3lame", () => new SwfScanner(), AudioSampleRates: [44100, 22050, 11025]));

    /// <summary>Smooth Streaming's fragmented MP4 (H.264 and AAC), written by ffmpeg.</summary>
    public static readonly OutputFormat Ismv = new(
        "ismv",
        "video/mp4",
        [.. Matroska.Codecs],
        ByFfmpeg("ismv"),
        extensions: [".ismv", ".isma"],
        muxedByFfmpeg: new FfmpegMuxing("ismv", "libx264", "aac", () => new FragmentScanner()));

    private static Func<IReadOnlyList<TrackInfo>, BlockPool?, IMuxer> ByFfmpeg(string name) =>
        (_, _) => throw new InvalidOperationException($"Format {name} is written by ffmpeg's own muxer, not by a muxer of Sluice's");

    /// <summary>True for the formats served only as playlists and segments (hls, dash).</summary>
    public bool IsSegmentedOnly => ReferenceEquals(this, Hls) || ReferenceEquals(this, Dash);

    /// <summary>
    /// A player of this format shows each picture as it arrives: MJPEG carries no times (multipart JPEG in a browser's
    /// <c>&lt;img&gt;</c>, raw JPEGs back to back), so its viewers get each frame at once, never in merged writes.
    /// </summary>
    public bool ShownOnArrival => ReferenceEquals(this, MultipartJpeg) || ReferenceEquals(this, RawMjpeg);

    /// <summary>AAC in ADTS frames, for radio players.</summary>
    public static readonly OutputFormat Adts = new(
        "adts",
        "audio/aac",
        [CodecId.AAC],
        (tracks, pool) => new AdtsMuxer(tracks, pool),
        extensions: [".aac"]);

    /// <summary>RTMP playback (not a Format of the config: every stream FLV can carry is also played over RTMP).</summary>
    public static readonly OutputFormat Rtmp = new(
        "rtmp",
        "video/x-flv",
        [CodecId.H264, CodecId.H265, CodecId.FLV1, CodecId.AAC, CodecId.MP3],
        (tracks, pool) => new Formats.Rtmp.RtmpMuxer(tracks, pool),
        extensions: []);

    /// <summary>The formats a stream's Format may name (all but <see cref="Rtmp"/>), in the order messages list them.</summary>
    public static IReadOnlyList<OutputFormat> Configurable { get; } = [WebM, Matroska, Ogg, MultipartJpeg, Mp3, Jpeg, MpegTs, Adts, Mp4, Flv, Hls, Dash, RawMjpeg, MpegAudio, MpegPs, Asf, Swf, Ismv];

    private static readonly Dictionary<string, OutputFormat> ByName = Configurable
        .SelectMany(f => f.Aliases.Prepend(f.Name).Select(name => (name, f)))
        .ToDictionary(e => e.name, e => e.f, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every name the Format directive takes for a format Sluice writes: each format's name, then its aliases.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Configurable.SelectMany(f => f.Aliases.Prepend(f.Name))];

    /// <summary>The writer for a Format name, or null when Sluice does not write it (yet).</summary>
    public static OutputFormat? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The format a file name's extension names (<c>live.ts</c>: mpegts), or null.</summary>
    public static OutputFormat? ForFileName(string name) =>
        Configurable.FirstOrDefault(f => f.Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)));
}

/// <summary>
/// How ffmpeg writes a format for Sluice: its muxer's name, the encoders of the codecs ffserver used by default (ffmpeg's
/// muxer defaults), and the scanner that finds the header and join points in what it writes.
/// </summary>
/// <param name="AudioSampleRates">The only sampling rates the format takes, or null for any.</param>
public sealed record FfmpegMuxing(string Muxer, string VideoEncoder, string AudioEncoder, Func<JoinPointScanner> CreateScanner, IReadOnlyList<int>? AudioSampleRates = null);
