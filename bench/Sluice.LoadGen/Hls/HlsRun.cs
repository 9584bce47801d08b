using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Sluice.LoadGen.Hls;

/// <summary>The measured window, shared by every player: a fetch counts if it began inside it.</summary>
internal sealed class HlsClock(long windowStart, long windowEnd)
{
    public long WindowStart { get; } = windowStart;
    public long WindowEnd { get; } = windowEnd;

    public bool InWindow(long ticks) => ticks >= WindowStart && ticks < WindowEnd;
}

/// <summary>Entry point of <c>sluice-loadgen hls</c>: one JSON result line on stdout, a readable summary on stderr.</summary>
internal static class HlsProgram
{
    public static int Run(string[] args)
    {
        if (args.Length == 2 && args[0] == "--table")
        {
            Console.Write(HlsTable.Render(File.ReadAllLines(args[1])));
            return 0;
        }

        HlsOptions options;
        try
        {
            options = HlsOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"sluice-loadgen hls: {e.Message}");
            Console.Error.WriteLine(HlsOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(HlsOptions.Usage);
            return 0;
        }

        var result = new HlsRun(options).RunAsync().GetAwaiter().GetResult();
        Console.WriteLine(JsonSerializer.Serialize(result, HlsResultJson.Default.HlsResult));
        Console.Error.WriteLine(result.Summary());
        return 0;
    }
}

/// <summary>
/// N players over one shared <see cref="HttpClient"/> (a pool of keep-alive connections, as N browsers would
/// each hold one), started spread over the ramp; the window is the --seconds after it.
/// </summary>
internal sealed class HlsRun(HlsOptions o)
{
    private static readonly double TicksPerSecond = Stopwatch.Frequency;

    public async Task<HlsResult> RunAsync()
    {
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = o.Players + 64,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = true,
        };
        using var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("sluice-loadgen-hls/1");

        var t0 = Stopwatch.GetTimestamp();
        var rampTicks = (long)(o.Ramp * TicksPerSecond);
        var clock = new HlsClock(t0 + rampTicks, t0 + rampTicks + (long)(o.Seconds * TicksPerSecond));
        var players = Enumerable.Range(0, o.Players).Select(_ => new HlsPlayer(http, o, clock)).ToArray();
        var server = o.ServerPid is int pid ? new ProcessTreeSampler(pid) : null;
        var self = new ProcessSampler(Environment.ProcessId);
        using var stop = new CancellationTokenSource();

        var tasks = new List<Task>(players.Length);
        var launcher = Task.Run(async () =>
        {
            for (var i = 0; i < players.Length; i++)
            {
                var due = t0 + (players.Length <= 1 ? 0 : rampTicks * i / (players.Length - 1));
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > TicksPerSecond / 500)
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait / TicksPerSecond)).ConfigureAwait(false);
                }

                var player = players[i];
                lock (tasks)
                {
                    tasks.Add(Task.Run(() => player.RunAsync(stop.Token)));
                }
            }
        });

        double? cpu0 = null, cpu1 = null, self0 = null, self1 = null;
        long bytes0 = 0, bytes1 = 0, rssPeakKiB = 0, pssPeakKiB = 0;
        var described = "";
        var processes = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var tick = 0;
        var windowStarted = false;
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            var now = Stopwatch.GetTimestamp();
            if (!windowStarted && now >= clock.WindowStart)
            {
                windowStarted = true;
                bytes0 = SumBytes(players);
                cpu0 = server?.CpuSeconds(out processes);
                self0 = self.Sample()?.CpuSeconds;
            }

            if (windowStarted && server is not null && tick++ % 3 == 0)
            {
                rssPeakKiB = Math.Max(rssPeakKiB, server.RssKiB());
                pssPeakKiB = Math.Max(pssPeakKiB, server.PssKiB());
            }

            if (now >= clock.WindowEnd)
            {
                bytes1 = SumBytes(players);
                cpu1 = server?.CpuSeconds(out processes);
                described = server?.Describe() ?? "";
                self1 = self.Sample()?.CpuSeconds;
                break;
            }
        }

        // Fetches begun inside the window may finish: a little grace before everyone stops.
        await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await launcher.ConfigureAwait(false);
        Task[] all;
        lock (tasks)
        {
            all = [.. tasks];
        }

        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);

        var seconds = (clock.WindowEnd - clock.WindowStart) / TicksPerSecond;
        return HlsResult.From(o, players, seconds, bytes1 - bytes0,
            cpu0 is not null && cpu1 is not null ? (cpu1 - cpu0) / seconds * 100 : null,
            self0 is not null && self1 is not null ? (self1 - self0) / seconds * 100 : null,
            server is null ? null : new ServerMemory(rssPeakKiB / 1024.0, pssPeakKiB / 1024.0, processes, described));
    }

    private static long SumBytes(HlsPlayer[] players)
    {
        long sum = 0;
        foreach (var p in players)
        {
            sum += p.Bytes;
        }

        return sum;
    }
}

/// <summary>
/// A server process and its children (nginx's master and workers; a transcoding ffmpeg under Sluice): CPU seconds
/// summed over all of them, RSS summed too, the children found afresh at every sample.
/// </summary>
internal sealed class ProcessTreeSampler(int pid)
{
    public double? CpuSeconds(out int processes)
    {
        var pids = Tree();
        processes = pids.Count;
        double sum = 0;
        foreach (var p in pids)
        {
            sum += new ProcessSampler(p).Sample()?.CpuSeconds ?? 0;
        }

        return pids.Count == 0 ? null : sum;
    }

    public long RssKiB() => Tree().Sum(p => new ProcessSampler(p).RssKiB());

    /// <summary>
    /// Proportional set size summed over the tree: pages shared between nginx's master and workers (or with any
    /// other process) are counted once in all, where summed RSS counts them once a process.
    /// </summary>
    public long PssKiB() => Tree().Sum(p => Field($"/proc/{p}/smaps_rollup", "Pss:"));

    /// <summary>What the processes are, as ps shows them ("nginx: worker process", ...), counted.</summary>
    public string Describe() => string.Join(", ", Tree()
        .Select(p => ReadOrEmpty($"/proc/{p}/cmdline").Replace('\0', ' ').Trim())
        .GroupBy(c => c.Length > 60 ? c[..60] : c)
        .Select(g => g.Count() == 1 ? g.Key : $"{g.Key} x{g.Count()}"));

    private static long Field(string file, string name)
    {
        foreach (var line in ReadOrEmpty(file).Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal))
            {
                return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private static string ReadOrEmpty(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ""; // the process ended while we looked
        }
    }

    private List<int> Tree()
    {
        var result = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.TryDequeue(out var p))
        {
            if (!Directory.Exists($"/proc/{p}"))
            {
                continue;
            }

            result.Add(p);
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{p}/task"))
                {
                    var children = File.ReadAllText(Path.Combine(task, "children"));
                    foreach (var c in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        queue.Enqueue(int.Parse(c, CultureInfo.InvariantCulture));
                    }
                }
            }
            catch (IOException)
            {
                // the process (or one of its threads) ended while we looked: keep what we have
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return result;
    }
}
