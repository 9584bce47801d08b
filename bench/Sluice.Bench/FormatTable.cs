using Sluice.Media;
using Sluice.Media.Formats.Adts;
using Sluice.Media.Formats.Flv;
using Sluice.Media.Formats.Matroska;
using Sluice.Media.Formats.Mp3;
using Sluice.Media.Formats.Mp4;
using Sluice.Media.Formats.MpegTs;
using Sluice.Media.Formats.Ogg;

namespace Sluice.Bench;

/// <summary>A demuxer under test: its name, the file it reads (see <see cref="TestMedia"/>) and a fresh instance.</summary>
public sealed record DemuxCase(string Name, string File, Func<IDemuxer> Create);

/// <summary>
/// A muxer under test: its name, the Matroska file whose packets it writes (demuxed once, tracks kept as they
/// are) and a fresh instance for those tracks.
/// </summary>
public sealed record MuxCase(string Name, string Source, Func<IReadOnlyList<TrackInfo>, IMuxer> Create);

/// <summary>The formats the benchmarks cover. A format is one line here (and a recipe in <see cref="TestMedia"/>).</summary>
public static class FormatTable
{
    public static readonly DemuxCase[] Demuxers =
    [
        new("matroska", "av.mkv", () => new MatroskaDemuxer()),
        new("mpegts", "av.ts", () => new MpegTsDemuxer()),
        new("flv", "av.flv", () => new FlvDemuxer()),
    ];

    public static readonly MuxCase[] Muxers =
    [
        new("matroska", "av.mkv", tracks => new WebmMuxer(tracks)),
        new("mpegts", "av.mkv", tracks => new MpegTsMuxer(tracks)),
        new("mp4", "av.mkv", tracks => new FragmentedMp4Muxer(tracks)),
        new("flv", "av.mkv", tracks => new FlvMuxer(tracks)),
        new("adts", "aac.mkv", tracks => new AdtsMuxer(tracks)),
        new("ogg-opus", "opus.webm", tracks => new OggMuxer(tracks)),
        new("ogg-vorbis", "vorbis.webm", tracks => new OggMuxer(tracks)),
        new("mp3", "mp3.mkv", tracks => new Mp3Muxer(tracks)),
    ];

    /// <summary>
    /// End-to-end remux targets: the 200 MB MPEG-TS file to each, and the ffmpeg options that do the same (ffmpeg 5.1
    /// refuses ADTS in MP4 without aac_adtstoasc; Sluice's MPEG-TS demuxer strips the ADTS headers itself).
    /// </summary>
    public static readonly RemuxCase[] RemuxTargets =
    [
        new("mp4", tracks => new FragmentedMp4Muxer(tracks), "-bsf:a aac_adtstoasc -f mp4 -movflags frag_keyframe+empty_moov"),
        new("matroska", tracks => new WebmMuxer(tracks), "-f matroska"),
        // The same as mp4, every packet's time also rebuilt as for a millisecond container (ExactTimes, as at ingest):
        // its cost is the difference to mp4.
        new("mp4 exact", tracks => new FragmentedMp4Muxer(tracks), "-bsf:a aac_adtstoasc -f mp4 -movflags frag_keyframe+empty_moov", RebuildTimes: true),
    ];

    public static DemuxCase Demuxer(string name) => Demuxers.Single(c => c.Name == name);

    public static MuxCase Muxer(string name) => Muxers.Single(c => c.Name == name);

    public static RemuxCase RemuxTarget(string name) => RemuxTargets.Single(c => c.Name == name);
}

/// <summary>An end-to-end remux target: MPEG-TS in, this muxer out; <see cref="FfmpegFormat"/> is ffmpeg's equivalent.</summary>
public sealed record RemuxCase(string Name, Func<IReadOnlyList<TrackInfo>, IMuxer> Create, string FfmpegFormat, bool RebuildTimes = false);
