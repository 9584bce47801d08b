using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sluice.LoadGen;

/// <summary>
/// Fan-out load generator: N concurrent progressive HTTP/1.1 viewers on raw sockets.
/// Viewers connect spread over the ramp; the measured window is the <c>--seconds</c> after the ramp,
/// and every viewer stays connected until the window ends (so each one watches at least that long).
/// </summary>
internal static partial class Program
{
    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "hls")
        {
            return Hls.HlsProgram.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "--rtmp")
        {
            return RtmpLoad.Run(args[1..]);
        }

        if (args.Length == 2 && args[0] == "--table")
        {
            Console.Write(Table.Render(File.ReadAllLines(args[1])));
            return 0;
        }

        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"sluice-loadgen: {e.Message}");
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(Options.Usage);
            return 0;
        }

        var run = new LoadRun(options);
        var result = run.RunAsync().GetAwaiter().GetResult();
        Console.WriteLine(JsonSerializer.Serialize(result, ResultJson.Default.Result));
        Console.Error.WriteLine(result.Summary());
        return 0;
    }
}

internal sealed class Options
{
    public const string Usage =
        "usage: sluice-loadgen --table RESULTS.jsonl   (markdown table of earlier result lines)\n" +
        "       sluice-loadgen hls --help             (simulated HLS players; see there)\n" +
        "       sluice-loadgen --url http://127.0.0.1:PORT/path [--viewers N] [--seconds S] [--ramp-seconds R]\n" +
        "                      [--deadline-seconds D] [--max-pending P] [--server-pid PID] [--label NAME]\n" +
        "  Viewers connect spread over R seconds (at most P connecting at once); a viewer without a first\n" +
        "  byte D seconds after it started connecting has failed. The measured window is the S seconds after\n" +
        "  the ramp; everyone stays connected until it ends. With --server-pid, the server's CPU (utime+stime)\n" +
        "  over the window and its RSS (sampled every 300 ms, and VmHWM) are reported too.";

    public Uri Url { get; private set; } = new("http://127.0.0.1:8090/livestream");
    public int Viewers { get; private set; } = 100;
    public double Seconds { get; private set; } = 20;
    public double RampSeconds { get; private set; } = 3;
    public double DeadlineSeconds { get; private set; } = 10;
    public int MaxPending { get; private set; } = 1000;
    public int? ServerPid { get; private set; }
    public string Label { get; private set; } = "";
    public bool Help { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": o.Url = new Uri(Next()); break;
                case "--viewers": o.Viewers = PositiveInt(Next(), "--viewers"); break;
                case "--seconds": o.Seconds = PositiveDouble(Next(), "--seconds"); break;
                case "--ramp-seconds": o.RampSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--deadline-seconds": o.DeadlineSeconds = PositiveDouble(Next(), "--deadline-seconds"); break;
                case "--max-pending": o.MaxPending = PositiveInt(Next(), "--max-pending"); break;
                case "--server-pid": o.ServerPid = PositiveInt(Next(), "--server-pid"); break;
                case "--label": o.Label = Next(); break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        if (o.Url.Scheme != "http")
        {
            throw new ArgumentException("--url must be http://");
        }

        if (o.RampSeconds < 0)
        {
            throw new ArgumentException("--ramp-seconds must be >= 0");
        }

        return o;
    }

    private static int PositiveInt(string s, string name) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new ArgumentException($"{name} {s}: a positive integer");

    private static double PositiveDouble(string s, string name) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new ArgumentException($"{name} {s}: a positive number");
}

internal enum ViewerState
{
    Waiting,
    Connecting,
    Streaming,
    Failed,
    Ended,
}

/// <summary>One viewer. Its receive loop is the only writer of the byte/gap fields; the shared timer reads them.</summary>
internal sealed class Viewer
{
    public Socket? Socket;
    public volatile ViewerState State;
    public long StartTicks;
    public long FirstByteTicks;
    public long LastByteTicks;
    public long Bytes;
    public long LongestGapTicks;
    public int Stalls;
    public int StallOpen; // 1 while the timer has already counted the current gap as a stall
    public long FirstStallStartTicks; // where the first stall's gap began (its last byte before it)
    public string? FailReason;
    public int HttpStatus;
    public bool EndedEarly;
}

internal sealed class LoadRun
{
    private static readonly long TicksPerSecond = Stopwatch.Frequency;
    private readonly Options _o;
    private readonly Viewer[] _viewers;
    private readonly byte[] _request;
    private readonly IPEndPoint _endpoint;
    private readonly SemaphoreSlim _pending;
    private readonly long _stallTicks = Stopwatch.Frequency; // 1 s
    private readonly long _deadlineTicks;
    private volatile bool _stopping;
    private long _t0;

    public LoadRun(Options o)
    {
        _o = o;
        _viewers = new Viewer[o.Viewers];
        for (var i = 0; i < _viewers.Length; i++)
        {
            _viewers[i] = new Viewer();
        }

        var hostHeader = o.Url.IsDefaultPort ? o.Url.Host : $"{o.Url.Host}:{o.Url.Port}";
        _request = Encoding.ASCII.GetBytes(
            $"GET {o.Url.PathAndQuery} HTTP/1.1\r\nHost: {hostHeader}\r\nUser-Agent: sluice-loadgen/1\r\nAccept: */*\r\nConnection: close\r\n\r\n");
        var address = IPAddress.TryParse(o.Url.Host, out var ip) ? ip : Dns.GetHostAddresses(o.Url.Host)[0];
        _endpoint = new IPEndPoint(address, o.Url.Port);
        _pending = new SemaphoreSlim(o.MaxPending, o.MaxPending);
        _deadlineTicks = (long)(o.DeadlineSeconds * TicksPerSecond);
    }

    public async Task<Result> RunAsync()
    {
        _t0 = Stopwatch.GetTimestamp();
        var rampTicks = (long)(_o.RampSeconds * TicksPerSecond);
        var windowStart = _t0 + rampTicks;
        var windowEnd = windowStart + (long)(_o.Seconds * TicksPerSecond);
        var server = _o.ServerPid is int pid ? new ProcessSampler(pid) : null;
        var self = new ProcessSampler(Environment.ProcessId);
        ProcessSample? serverStart = null, serverEnd = null, selfStart = null, selfEnd = null;
        long windowBytesStart = 0, windowBytesEnd = 0;
        long peakRssKiB = 0;
        var windowStarted = false;

        // One shared timer: stall detection, first-byte deadlines, window bookkeeping, RSS sampling.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var tasks = new Task[_viewers.Length];
        var launcher = Task.Run(async () =>
        {
            for (var i = 0; i < _viewers.Length; i++)
            {
                var due = _t0 + (_viewers.Length <= 1 ? 0 : rampTicks * i / (_viewers.Length - 1));
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > TicksPerSecond / 500)
                {
                    await Task.Delay(TimeSpan.FromSeconds((double)wait / TicksPerSecond)).ConfigureAwait(false);
                }

                await _pending.WaitAsync().ConfigureAwait(false);
                if (_stopping)
                {
                    _pending.Release();
                    for (var j = i; j < _viewers.Length; j++)
                    {
                        _viewers[j].State = ViewerState.Failed;
                        _viewers[j].FailReason = "not started (launcher blocked past the window)";
                        tasks[j] = Task.CompletedTask;
                    }

                    return;
                }

                tasks[i] = RunViewerAsync(_viewers[i]);
            }
        });

        var tick = 0;
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            var now = Stopwatch.GetTimestamp();
            CheckViewers(now);
            if (!windowStarted && now >= windowStart)
            {
                windowStarted = true;
                windowBytesStart = SumBytes();
                serverStart = server?.Sample();
                selfStart = self.Sample();
            }

            if (windowStarted && server is not null && tick++ % 3 == 0)
            {
                peakRssKiB = Math.Max(peakRssKiB, server.RssKiB());
            }

            if (now >= windowEnd)
            {
                windowBytesEnd = SumBytes();
                serverEnd = server?.Sample();
                selfEnd = self.Sample();
                if (server is not null)
                {
                    peakRssKiB = Math.Max(peakRssKiB, server.RssKiB());
                }

                break;
            }
        }

        var windowSeconds = (double)(windowEnd - windowStart) / TicksPerSecond;
        _stopping = true;
        foreach (var v in _viewers)
        {
            if (v.State == ViewerState.Streaming && v.LastByteTicks > 0 && windowEnd - v.LastByteTicks > _stallTicks
                && Interlocked.CompareExchange(ref v.StallOpen, 1, 0) == 0)
            {
                if (++v.Stalls == 1) // a gap still open at the end counts too
                {
                    v.FirstStallStartTicks = v.LastByteTicks;
                }
            }

            if (v.State == ViewerState.Connecting)
            {
                v.FailReason ??= "no first byte when the run ended";
                v.State = ViewerState.Failed;
            }

            try { v.Socket?.Dispose(); } catch (ObjectDisposedException) { }
        }

        await launcher.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await Task.WhenAll(tasks.Where(t => t is not null)).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);

        return BuildResult(windowSeconds, windowBytesEnd - windowBytesStart, serverStart, serverEnd, selfStart, selfEnd, peakRssKiB, server);
    }

    private long SumBytes()
    {
        long sum = 0;
        foreach (var v in _viewers)
        {
            sum += Volatile.Read(ref v.Bytes);
        }

        return sum;
    }

    private void CheckViewers(long now)
    {
        foreach (var v in _viewers)
        {
            switch (v.State)
            {
                case ViewerState.Connecting when now - v.StartTicks > _deadlineTicks:
                    v.FailReason ??= "no first byte within the deadline";
                    v.State = ViewerState.Failed;
                    try { v.Socket?.Dispose(); } catch (ObjectDisposedException) { }
                    break;
                case ViewerState.Streaming:
                    var last = Volatile.Read(ref v.LastByteTicks);
                    if (now - last > _stallTicks && Interlocked.CompareExchange(ref v.StallOpen, 1, 0) == 0)
                    {
                        if (Interlocked.Increment(ref v.Stalls) == 1)
                        {
                            v.FirstStallStartTicks = last;
                        }
                    }

                    break;
            }
        }
    }

    private async Task RunViewerAsync(Viewer v)
    {
        v.StartTicks = Stopwatch.GetTimestamp();
        v.State = ViewerState.Connecting;
        var released = false;
        void Release()
        {
            if (!released)
            {
                released = true;
                _pending.Release();
            }
        }

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        v.Socket = socket;
        var buffer = new byte[8192];
        try
        {
            await socket.ConnectAsync(_endpoint).ConfigureAwait(false);
            await socket.SendAsync(_request, SocketFlags.None).ConfigureAwait(false);

            // Response head: read until \r\n\r\n; the body bytes after it count as delivered.
            var head = new List<byte>(512);
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException(head.Count == 0 ? "closed before any response" : "closed inside the response head");
                }

                var now = Stopwatch.GetTimestamp();
                if (v.FirstByteTicks == 0)
                {
                    v.FirstByteTicks = now;
                }

                var headEnd = FindHeadEnd(head, buffer.AsSpan(0, n));
                if (headEnd < 0)
                {
                    if (head.Count > 16384)
                    {
                        throw new IOException("response head over 16 KiB");
                    }

                    continue;
                }

                v.HttpStatus = ParseStatus(head);
                if (v.HttpStatus != 200)
                {
                    var line = Encoding.ASCII.GetString(head.ToArray()).Split("\r\n")[0];
                    throw new IOException($"HTTP status: {line}");
                }

                if (v.State != ViewerState.Connecting)
                {
                    return; // timed out meanwhile
                }

                Volatile.Write(ref v.LastByteTicks, now);
                Volatile.Write(ref v.Bytes, n - headEnd);
                v.State = ViewerState.Streaming;
                break;
            }

            Release();

            while (!_stopping)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    if (!_stopping)
                    {
                        v.EndedEarly = true;
                    }

                    break;
                }

                var now = Stopwatch.GetTimestamp();
                var gap = now - v.LastByteTicks;
                if (gap > v.LongestGapTicks)
                {
                    v.LongestGapTicks = gap;
                }

                if (Interlocked.Exchange(ref v.StallOpen, 0) == 0 && gap > _stallTicks
                    && Interlocked.Increment(ref v.Stalls) == 1) // a gap the timer had not seen yet
                {
                    v.FirstStallStartTicks = v.LastByteTicks;
                }

                Volatile.Write(ref v.LastByteTicks, now);
                Volatile.Write(ref v.Bytes, v.Bytes + n);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            if (v.State == ViewerState.Connecting)
            {
                v.FailReason ??= e is SocketException se ? $"socket: {se.SocketErrorCode}" : e.Message;
                v.State = ViewerState.Failed;
            }
            else if (v.State == ViewerState.Streaming && !_stopping)
            {
                v.EndedEarly = true;
            }
        }
        finally
        {
            Release();
            if (v.State == ViewerState.Streaming && !_stopping)
            {
                v.EndedEarly = true;
            }

            if (v.State == ViewerState.Streaming)
            {
                v.State = ViewerState.Ended;
            }

            socket.Dispose();
        }
    }

    private static int FindHeadEnd(List<byte> head, ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            head.Add(data[i]);
            var c = head.Count;
            if (c >= 4 && head[c - 4] == '\r' && head[c - 3] == '\n' && head[c - 2] == '\r' && head[c - 1] == '\n')
            {
                return i + 1;
            }
        }

        return -1;
    }

    private static int ParseStatus(List<byte> head)
    {
        // "HTTP/1.x NNN ..." (Icecast answers HTTP/1.0)
        var line = Encoding.ASCII.GetString(head.ToArray(), 0, Math.Min(head.Count, 64));
        var parts = line.Split(' ', 3);
        return parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : -1;
    }

    private Result BuildResult(double windowSeconds, long windowBytes, ProcessSample? s0, ProcessSample? s1, ProcessSample? self0, ProcessSample? self1, long peakRssKiB, ProcessSampler? server)
    {
        var connected = _viewers.Where(v => v.FirstByteTicks > 0 && v.HttpStatus == 200 && v.FailReason is null).ToArray();
        var failed = _viewers.Where(v => v.FailReason is not null).ToArray();
        var ttfb = connected.Select(v => (v.FirstByteTicks - v.StartTicks) * 1000.0 / TicksPerSecond).Order().ToArray();
        var reasons = failed.GroupBy(v => v.FailReason!).ToDictionary(g => g.Key, g => g.Count());
        double? cpu = s0 is not null && s1 is not null ? (s1.CpuSeconds - s0.CpuSeconds) / windowSeconds * 100 : null;
        double? selfCpu = self0 is not null && self1 is not null ? (self1.CpuSeconds - self0.CpuSeconds) / windowSeconds * 100 : null;
        var mbps = windowBytes * 8 / windowSeconds / 1e6;
        return new Result
        {
            Label = _o.Label,
            Url = _o.Url.ToString(),
            Viewers = _viewers.Length,
            Connected = connected.Length,
            Failed = failed.Length,
            FailReasons = reasons,
            EndedEarly = connected.Count(v => v.EndedEarly),
            WindowSeconds = Math.Round(windowSeconds, 3),
            WindowBytes = windowBytes,
            Mbps = Math.Round(mbps, 2),
            PerViewerKbps = connected.Length == 0 ? 0 : Math.Round(mbps * 1000 / connected.Length, 1),
            Stalls = connected.Sum(v => v.Stalls),
            ViewersWithStalls = connected.Count(v => v.Stalls > 0),
            LongestGapMs = connected.Length == 0 ? 0 : Math.Round(connected.Max(v => v.LongestGapTicks) * 1000.0 / TicksPerSecond, 1),
            StallStarts = connected.Where(v => v.FirstStallStartTicks > 0)
                .GroupBy(v => Math.Round((v.FirstStallStartTicks - _t0) / (double)TicksPerSecond, 1))
                .OrderByDescending(g => g.Count()).Take(8)
                .ToDictionary(g => g.Key.ToString("F1", CultureInfo.InvariantCulture), g => g.Count()),
            TtfbP50Ms = Percentile(ttfb, 0.50),
            TtfbP99Ms = Percentile(ttfb, 0.99),
            TtfbMaxMs = ttfb.Length == 0 ? 0 : Math.Round(ttfb[^1], 1),
            ServerCpuPct = cpu is null ? null : Math.Round(cpu.Value, 1),
            ServerRssPeakMiB = server is null ? null : Math.Round(peakRssKiB / 1024.0, 1),
            ServerHwmMiB = server is null ? null : Math.Round(server.HwmKiB() / 1024.0, 1),
            CpuPctPerGbps = cpu is null || mbps <= 0 ? null : Math.Round(cpu.Value / (mbps / 1000), 1),
            LoadGenCpuPct = selfCpu is null ? null : Math.Round(selfCpu.Value, 1),
        };
    }

    private static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return Math.Round(sorted[Math.Clamp(rank, 0, sorted.Length - 1)], 1);
    }
}

internal sealed record ProcessSample(double CpuSeconds);

/// <summary>Reads /proc/PID/stat (utime+stime) and /proc/PID/status (VmRSS, VmHWM).</summary>
internal sealed class ProcessSampler(int pid)
{
    // /proc/PID/stat counts in USER_HZ, which the kernel fixes at 100 for user space on every
    // mainstream Linux ABI (getconf CLK_TCK); SLUICE_CLK_TCK overrides it.
    private static readonly double ClockTicks =
        double.TryParse(Environment.GetEnvironmentVariable("SLUICE_CLK_TCK"), NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t > 0 ? t : 100;

    public ProcessSample? Sample()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" that ends the command name: state is field 3; utime 14, stime 15.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(rest[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(rest[12], CultureInfo.InvariantCulture);
            return new ProcessSample((utime + stime) / ClockTicks);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public long RssKiB() => StatusField("VmRSS:");

    public long HwmKiB() => StatusField("VmHWM:");

    private long StatusField(string name)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(name, StringComparison.Ordinal))
                {
                    return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}

internal sealed class Result
{
    public string Label { get; init; } = "";
    public string Url { get; init; } = "";
    public int Viewers { get; init; }
    public int Connected { get; init; }
    public int Failed { get; init; }
    public Dictionary<string, int> FailReasons { get; init; } = [];
    public int EndedEarly { get; init; }
    public double WindowSeconds { get; init; }
    public long WindowBytes { get; init; }
    public double Mbps { get; init; }
    public double PerViewerKbps { get; init; }
    public int Stalls { get; init; }
    public int ViewersWithStalls { get; init; }
    public double LongestGapMs { get; init; }
    /// <summary>Where first stalls began (seconds since the run started, 0.1 s buckets): the 8 busiest buckets.</summary>
    public Dictionary<string, int> StallStarts { get; init; } = [];
    public double TtfbP50Ms { get; init; }
    public double TtfbP99Ms { get; init; }
    public double TtfbMaxMs { get; init; }
    public double? ServerCpuPct { get; init; }
    public double? ServerRssPeakMiB { get; init; }
    public double? ServerHwmMiB { get; init; }
    public double? CpuPctPerGbps { get; init; }
    public double? LoadGenCpuPct { get; init; }

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{(Label.Length > 0 ? Label + ": " : "")}{Viewers} viewers of {Url}: {Connected} connected, {Failed} failed, {EndedEarly} ended early\n");
        foreach (var (reason, count) in FailReasons)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  failed: {count} x {reason}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"  delivered {Mbps:F1} Mbit/s over {WindowSeconds:F1} s ({PerViewerKbps:F0} kbit/s a viewer); stalls {Stalls} ({ViewersWithStalls} viewers), longest gap {LongestGapMs:F0} ms\n");
        if (StallStarts.Count > 0)
        {
            sb.Append("  first stalls began at (s since start: viewers): ")
                .AppendJoin(", ", StallStarts.Select(kv => $"{kv.Key}: {kv.Value}")).Append('\n');
        }

        sb.Append(CultureInfo.InvariantCulture, $"  time to first byte p50 {TtfbP50Ms:F1} ms, p99 {TtfbP99Ms:F1} ms, max {TtfbMaxMs:F1} ms\n");
        if (ServerCpuPct is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  server CPU {ServerCpuPct:F1} % of a core ({CpuPctPerGbps:F1} % per Gbit/s), RSS peak {ServerRssPeakMiB:F1} MiB (VmHWM {ServerHwmMiB:F1} MiB)\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"  load generator CPU {LoadGenCpuPct:F1} % of a core");
        return sb.ToString();
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(Result))]
internal sealed partial class ResultJson : System.Text.Json.Serialization.JsonSerializerContext
{
}
