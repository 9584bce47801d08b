namespace Sluice.Tests.Support;

/// <summary>Real ffmpeg/ffprobe invocations with bounded time.</summary>
internal static class Tools
{
    /// <summary>Decodes <paramref name="frames"/> video frames from a URL; ffmpeg's -v error output must stay empty.</summary>
    public static Task<ProcessResult> DecodeAsync(string url, int frames, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-i", url, "-frames:v", frames.ToString(), "-f", "null", "-"], timeout ?? TimeSpan.FromSeconds(30));

    public static Task<ProcessResult> ProbeStreamsAsync(string url) =>
        ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-show_entries", "stream=codec_name,codec_type,width,height,channels,sample_rate", "-of", "json", url], TimeSpan.FromSeconds(30));

    /// <summary>The flags of the first video packets of a URL (ffprobe's "K__" for a keyframe).</summary>
    public static Task<ProcessResult> FirstVideoPacketsAsync(string url, int count) =>
        ProcessRunner.RunAsync("ffprobe", ["-v", "error", "-rw_timeout", "5000000", "-select_streams", "v:0", "-read_intervals", $"%+#{count}", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", url], TimeSpan.FromSeconds(30));

    /// <summary>Waits until the stream's output exists (the feed has a publisher and a keyframe arrived).</summary>
    public static async Task WaitForStreamAsync(TestServer server, string stream, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var output = server.Server.Streams[stream].Output;
            if (output is not null && output.Ring.LatestJoinPoint >= 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"stream {stream} had no keyframe within {timeout.TotalSeconds} s; log:\n{string.Join("\n", server.Log.Lines)}");
    }
}
