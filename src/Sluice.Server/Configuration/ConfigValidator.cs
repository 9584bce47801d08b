using System.Globalization;

namespace Sluice.Server.Configuration;

/// <summary>
/// The checks of a section as a whole, once the file is read: one validator per section, each reporting every
/// problem it finds (never only the first), on the line of the directive to change.
/// </summary>
internal static class ConfigValidator
{
    /// <summary>The lines outside any section: limits that contradict each other, listeners that collide.</summary>
    public static void Global(ServerConfig config, SectionDirectives written, ConfigDiagnostics diagnostics)
    {
        if (config.MaxClients > config.MaxHTTPConnections)
        {
            var line = written.LastLine("MaxClients") is var clients and not 0 ? clients : written.LastLine("MaxHTTPConnections");
            diagnostics.Error(line, $"MaxClients {config.MaxClients} is more than MaxHTTPConnections {config.MaxHTTPConnections}; lower MaxClients or raise MaxHTTPConnections");
        }

        if (config.RTMPPort == config.HTTPPort)
        {
            diagnostics.Error(written.LastLine("RTMPPort"), $"RTMPPort {config.RTMPPort} is also the HTTPPort; RTMP needs a port of its own (1935 is RTMP's)");
        }
    }

    /// <summary>A &lt;Feed&gt;: every FileMaxSize it gives holds at least four FFM packets, as ffserver required.</summary>
    public static void Feed(SectionDirectives written, ConfigDiagnostics diagnostics)
    {
        foreach (var size in written.All("FileMaxSize"))
        {
            if ((long)size.Value < ConfigValues.MinFileMaxSize)
            {
                diagnostics.Error(size.Line, $"FileMaxSize {size.Text} is too small: the minimum is 16K ({ConfigValues.MinFileMaxSize.ToString(CultureInfo.InvariantCulture)} bytes)");
            }
        }
    }

    /// <summary>A &lt;Stream&gt;: its quantizer bounds, what NoDefaults leaves out, its options, and the feed it reads.</summary>
    public static void Stream(StreamConfig stream, SectionDirectives written, IReadOnlyList<string> feeds, ConfigDiagnostics diagnostics)
    {
        var line = stream.Location.Line;
        PresetOptions(stream.Video, "AVOptionVideo", diagnostics);
        PresetOptions(stream.Audio, "AVOptionAudio", diagnostics);

        if (stream.Video.QMin is { } qmin && stream.Video.QMax is { } qmax && qmin > qmax)
        {
            diagnostics.Error(line, $"<Stream {stream.Name}> has VideoQMin {qmin} above VideoQMax {qmax}; swap them");
        }

        // ffserver 3.4 checked (and filled in) codec settings only for a stream that reads a feed.
        var readsFile = ReadsFile(stream, written);
        if (!stream.IsStatus && !stream.UseDefaults && !readsFile)
        {
            if (!stream.NoAudio && stream.Audio.IsSet)
            {
                Require(stream.Audio.BitRate, "AudioBitRate <kbit/s>");
                Require(stream.Audio.SampleRate, "AudioSampleRate <Hz>");
            }

            if (!stream.NoVideo && stream.Video.IsSet)
            {
                Require(stream.Video.Width, "VideoSize <width>x<height>");
            }
        }

        if (!readsFile)
        {
            FeedOf(stream, written.LastLine("Feed"), feeds, diagnostics);
        }
        else if (stream.SourceFile is { } path && Sources.FileReaders.Check(path) is { } problem)
        {
            diagnostics.Error(Math.Max(written.LastLine("File"), written.LastLine("ReadOnlyFile")),
                $"<Stream {stream.Name}> plays the file {path}, {problem}; give the path of a {Sources.FileReaders.Readable} file");
        }

        void Require<T>(T? value, string usage)
            where T : struct
        {
            if (value is null)
            {
                diagnostics.Error(line, $"<Stream {stream.Name}> has NoDefaults but no {usage.Split(' ')[0]}; add {usage} or remove NoDefaults");
            }
        }
    }

    /// <summary>A stream with a File (or ReadOnlyFile) and no Feed: it plays that file, as ffserver streamed it.</summary>
    public static bool ReadsFile(StreamConfig stream, SectionDirectives written) =>
        stream.Feed is null && (written.All("File").Count > 0 || written.All("ReadOnlyFile").Count > 0);

    /// <summary>A stream reads a feed that is defined (a status page reads none).</summary>
    private static void FeedOf(StreamConfig stream, int feedLine, IReadOnlyList<string> feeds, ConfigDiagnostics diagnostics)
    {
        var defined = feeds.Count == 0 ? "(none)" : string.Join(", ", feeds);
        if (stream.Feed is null)
        {
            if (!stream.IsStatus)
            {
                diagnostics.Error(stream.Location.Line, $"<Stream {stream.Name}> has no Feed; add 'Feed <name>' naming one of the defined feeds: {defined} (only a 'Format status' stream needs no feed)");
            }

            return;
        }

        if (feeds.Contains(stream.Feed, StringComparer.Ordinal))
        {
            return;
        }

        var caseMatch = feeds.FirstOrDefault(f => string.Equals(f, stream.Feed, StringComparison.OrdinalIgnoreCase));
        var nearest = caseMatch ?? ConfigDirectives.Nearest(stream.Feed, feeds);
        var hint = caseMatch is not null
            ? $"; feed names are case-sensitive, did you mean '{caseMatch}'?"
            : nearest is not null ? $"; did you mean '{nearest}'?" : "";
        diagnostics.Error(feedLine, $"<Stream {stream.Name}> reads Feed {stream.Feed}, but no <Feed {stream.Feed}> is defined; defined feeds: {defined}{hint}");
    }

    /// <summary>x264's "preset" given to libvpx, which has none: kept, mapped when Sluice encodes, with a warning.</summary>
    private static void PresetOptions(CodecSettings codec, string directive, ConfigDiagnostics diagnostics)
    {
        if (!LibvpxPreset.IsLibvpx(codec.Codec))
        {
            return;
        }

        foreach (var option in codec.Options.Where(o => o.Name == "preset"))
        {
            var prefix = $"{directive} preset {option.Value}: {codec.Codec} has no 'preset' option (ffserver 3.4 refused this line with \"Option not found: 'preset'\")";
            diagnostics.Warn(option.Location.Line, LibvpxPreset.Map(option.Value) is { } mapped
                ? $"{prefix}; Sluice keeps it and, when it encodes this stream, passes -deadline {mapped.Deadline} -cpu-used {mapped.CpuUsed.ToString(CultureInfo.InvariantCulture)} to {codec.Codec} instead"
                : $"{prefix}; '{option.Value}' is not an x264 preset name either, so Sluice ignores it when it encodes this stream");
        }
    }
}
