using System.Collections.Immutable;
using Sluice.Media;

namespace Sluice.Server.Transcoding;

/// <summary>Which rendition (by its index in the run) and which kind one output track of ffmpeg is.</summary>
internal readonly record struct EncoderOutput(int Rendition, MediaKind Kind);

/// <summary>
/// The ffmpeg command line of one encoder run, built from the renditions' plans alone (pure: no process, no
/// clock): Matroska in on stdin, one decode of the feed, and for each rendition its video and then its audio as
/// output tracks of one Matroska on stdout, in the order of <see cref="Outputs"/>.
/// </summary>
internal sealed record EncoderCommand(ImmutableArray<string> Arguments, ImmutableArray<EncoderOutput> Outputs)
{
    /// <summary>The arguments before the outputs: a live Matroska input read at once.</summary>
    private static readonly string[] Input =
    [
        "-hide_banner", "-loglevel", "warning", "-nostats", "-stats_period", "1", "-progress", "pipe:2",
        // Not -fflags +nobuffer: it drops the packets read while probing, the first keyframe among them, and the
        // decoder would wait a whole GOP for the next.
        "-probesize", "32768", "-analyzeduration", "0",
        "-f", "matroska", "-i", "pipe:0",
    ];

    /// <summary>The output: small clusters flushed at once, so a rendition lags its feed by a tenth of a second.</summary>
    private static readonly string[] Output =
        ["-max_muxing_queue_size", "4096", "-f", "matroska", "-cluster_time_limit", "100", "-flush_packets", "1", "pipe:1"];

    /// <summary>
    /// The command for these plans, in rendition order. The input carries the source's first video and first audio
    /// track (0:v:0, 0:a:0); a track a plan keeps but does not encode is copied (-c copy) beside the encoded ones.
    /// </summary>
    public static EncoderCommand Build(IReadOnlyList<RenditionPlan> plans)
    {
        var args = new List<string>(Input);
        var outputs = ImmutableArray.CreateBuilder<EncoderOutput>();
        int videos = 0, audios = 0;
        for (int r = 0; r < plans.Count; r++)
        {
            var plan = plans[r];
            if (plan.Video is not null)
            {
                args.AddRange(["-map", "0:v:0"]);
                args.AddRange(plan.VideoEncoder is { } video ? video.Arguments(videos) : [$"-c:v:{videos}", "copy"]);
                outputs.Add(new EncoderOutput(r, MediaKind.Video));
                videos++;
            }

            if (plan.Audio is not null)
            {
                args.AddRange(["-map", "0:a:0"]);
                args.AddRange(plan.AudioEncoder is { } audio ? audio.Arguments(audios) : [$"-c:a:{audios}", "copy"]);
                outputs.Add(new EncoderOutput(r, MediaKind.Audio));
                audios++;
            }
        }

        args.AddRange(Output);
        return new EncoderCommand([.. args], outputs.ToImmutable());
    }

    /// <summary>The command as a shell would take it, for the log and the status page.</summary>
    public string CommandLine => EncoderCheck.Ffmpeg + " " + string.Join(' ', Arguments.Select(Quote));

    private static string Quote(string argument) =>
        argument.Contains(' ', StringComparison.Ordinal) || argument.Length == 0 ? $"'{argument}'" : argument;
}
