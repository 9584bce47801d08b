namespace Sluice.Server.Configuration;

/// <summary>
/// libvpx has no "preset" option (x264's speed/quality knob); configs written for ffserver use it anyway
/// (ffserver 3.4 refused them: "Option not found: 'preset'"). Sluice maps an x264 preset name to libvpx's
/// deadline and cpu-used when it encodes such a stream.
/// </summary>
internal static class LibvpxPreset
{
    public static bool IsLibvpx(string? codec) =>
        codec is not null && codec.StartsWith("libvpx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The libvpx deadline ("realtime", "good", "best") and cpu-used for an x264 preset name.</summary>
    public static (string Deadline, int CpuUsed)? Map(string preset) => preset.ToLowerInvariant() switch
    {
        "ultrafast" => ("realtime", 8),
        "superfast" => ("realtime", 6),
        "veryfast" => ("realtime", 5),
        "faster" => ("good", 4),
        "fast" => ("good", 3),
        "medium" => ("good", 2),
        "slow" => ("good", 1),
        "slower" => ("good", 0),
        "veryslow" or "placebo" => ("best", 0),
        _ => null,
    };
}
