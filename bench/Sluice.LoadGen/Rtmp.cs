using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Sluice.LoadGen;

/// <summary>
/// RTMP load: N players of one stream (each counts the bytes it receives) and M publishers that replay an FLV file
/// in real time to feeds named PREFIX0, PREFIX1, ... A minimal RTMP client of its own (plain handshake, AMF0
/// commands, format 0 chunks), so the same load drives Sluice and nginx-rtmp.
/// </summary>
internal static class RtmpLoad
{
    public const string Usage =
        "usage: sluice-loadgen --rtmp --url rtmp://127.0.0.1:PORT/APP/STREAM [--players N] [--seconds S] [--ramp-seconds R]\n" +
        "                      [--publish rtmp://127.0.0.1:PORT/APP/PREFIX --publishers M --flv FILE] [--server-pid PID] [--label NAME]\n" +
        "  Players connect over R seconds and play; publishers replay FILE in real time to PREFIX0..PREFIX(M-1).\n" +
        "  Reported over the S seconds after the ramp: bytes players received, players that got no data, server\n" +
        "  CPU and RSS. One result line (tab-separated) on standard output.";

    private const int ChunkSize = 4096;

    public static int Run(string[] args)
    {
        string? url = null, publish = null, flv = null, label = "";
        int players = 0, publishers = 0;
        double seconds = 20, ramp = 3;
        int? pid = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--url": url = Next(); break;
                case "--players": players = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--publish": publish = Next(); break;
                case "--publishers": publishers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--flv": flv = Next(); break;
                case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--ramp-seconds": ramp = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--server-pid": pid = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--label": label = Next(); break;
                default: Console.Error.WriteLine(Usage); return 2;
            }
        }

        if ((players > 0 && url is null) || (publishers > 0 && (publish is null || flv is null)))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        return RunAsync(url, players, publish, publishers, flv, seconds, ramp, pid, label).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string? url, int players, string? publish, int publishers, string? flv, double seconds, double ramp, int? pid, string label)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(ramp + seconds + 5));
        var counters = new long[players];
        var tasks = new List<Task>();
        var tags = flv is null ? [] : ReadTags(File.ReadAllBytes(flv));
        for (int i = 0; i < publishers; i++)
        {
            tasks.Add(PublishAsync(new Uri(publish + i.ToString(CultureInfo.InvariantCulture)), tags, stop.Token));
        }

        var started = Stopwatch.StartNew();
        for (int i = 0; i < players; i++)
        {
            int index = i;
            tasks.Add(PlayAsync(new Uri(url!), counters, index, stop.Token));
            double due = ramp * (i + 1) / players;
            double wait = due - started.Elapsed.TotalSeconds;
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait));
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, ramp - started.Elapsed.TotalSeconds) + 1));
        var sampler = pid is int p ? new ProcessSampler(p) : null;
        double cpu0 = sampler?.Sample()?.CpuSeconds ?? 0;
        long bytes0 = counters.Sum();
        var window = Stopwatch.StartNew();
        long rssPeak = 0;
        while (window.Elapsed.TotalSeconds < seconds)
        {
            await Task.Delay(300);
            rssPeak = Math.Max(rssPeak, sampler?.RssKiB() ?? 0);
        }

        double elapsed = window.Elapsed.TotalSeconds;
        double cpu = ((sampler?.Sample()?.CpuSeconds ?? 0) - cpu0) / elapsed * 100;
        long bytes = counters.Sum() - bytes0;
        int silent = counters.Count(c => c == 0);
        long hwm = sampler?.HwmKiB() ?? 0;
        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }

        double gbps = bytes * 8 / elapsed / 1e9;
        Console.WriteLine(string.Join('\t', label, players, publishers, silent, (gbps * 1000).ToString("F1", CultureInfo.InvariantCulture),
            cpu.ToString("F1", CultureInfo.InvariantCulture), (gbps > 0 ? cpu / gbps : 0).ToString("F1", CultureInfo.InvariantCulture),
            (rssPeak / 1024.0).ToString("F1", CultureInfo.InvariantCulture), (hwm / 1024.0).ToString("F1", CultureInfo.InvariantCulture)));
        Console.Error.WriteLine($"{label}: {players} players ({silent} got nothing), {publishers} publishers: {gbps * 1000:F1} Mbit/s delivered, server CPU {cpu:F1} % of a core ({(gbps > 0 ? cpu / gbps : 0):F1} % per Gbit/s), RSS peak {rssPeak / 1024.0:F1} MiB (VmHWM {hwm / 1024.0:F1} MiB)");
        return 0;
    }

    private static async Task PlayAsync(Uri url, long[] counters, int index, CancellationToken stop)
    {
        try
        {
            using var client = await ConnectAsync(url, stop);
            var stream = client.GetStream();
            string name = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[^1];
            await stream.WriteAsync(Command(3, 0, "createStream", 2, [null]), stop);
            await stream.WriteAsync(Command(8, 1, "play", 0, [null, name, -1000.0]), stop);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, stop)) > 0)
            {
                Interlocked.Add(ref counters[index], n);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }
    }

    private static async Task PublishAsync(Uri url, List<(byte Type, uint Time, byte[] Body)> tags, CancellationToken stop)
    {
        try
        {
            using var client = await ConnectAsync(url, stop);
            var stream = client.GetStream();
            string name = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[^1];
            await stream.WriteAsync(Command(3, 0, "releaseStream", 2, [null, name]), stop);
            await stream.WriteAsync(Command(3, 0, "FCPublish", 3, [null, name]), stop);
            await stream.WriteAsync(Command(3, 0, "createStream", 4, [null]), stop);
            await stream.WriteAsync(Command(8, 1, "publish", 5, [null, name, "live"]), stop);
            var drain = DrainAsync(stream, stop);

            // Replay in real time, looping with the time line going on.
            var clock = Stopwatch.StartNew();
            uint span = tags.Count == 0 ? 0 : tags[^1].Time + 40;
            for (uint loop = 0; !stop.IsCancellationRequested; loop++)
            {
                foreach (var (type, time, body) in tags)
                {
                    uint at = loop * span + time;
                    double wait = at / 1000.0 - clock.Elapsed.TotalSeconds;
                    if (wait > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(wait), stop);
                    }

                    if (type == 18 && loop > 0)
                    {
                        continue;
                    }

                    await stream.WriteAsync(Message(type == 18 ? 5 : type == 8 ? 4 : 6, 1, type, at, body), stop);
                }
            }

            await drain;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }
    }

    private static async Task DrainAsync(NetworkStream stream, CancellationToken stop)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (await stream.ReadAsync(buffer, stop) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }
    }

    /// <summary>Connects, does the plain handshake, sets the chunk size and sends connect.</summary>
    private static async Task<TcpClient> ConnectAsync(Uri url, CancellationToken stop)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(url.Host, url.Port, stop);
        var stream = client.GetStream();
        byte[] c0c1 = new byte[1 + 1536];
        c0c1[0] = 3;
        Random.Shared.NextBytes(c0c1.AsSpan(9));
        await stream.WriteAsync(c0c1, stop);
        byte[] s0s1s2 = new byte[1 + 2 * 1536];
        await stream.ReadExactlyAsync(s0s1s2, stop);
        await stream.WriteAsync(s0s1s2.AsMemory(1, 1536), stop); // C2 echoes S1

        byte[] size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, ChunkSize);
        string app = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[0];
        var connect = new Dictionary<string, object?>
        {
            ["app"] = app,
            ["type"] = "nonprivate",
            ["flashVer"] = "FMLE/3.0 (compatible; sluice-loadgen)",
            ["tcUrl"] = $"rtmp://{url.Host}:{url.Port}/{app}",
        };
        await stream.WriteAsync(Message(2, 0, 1, 0, size), stop);
        await stream.WriteAsync(Command(3, 0, "connect", 1, [connect]), stop);
        return client;
    }

    private static byte[] Command(int chunkStream, uint streamId, string name, double transaction, object?[] values)
    {
        var body = new MemoryStream();
        Amf(body, name);
        Amf(body, transaction);
        foreach (var value in values)
        {
            Amf(body, value);
        }

        return Message(chunkStream, streamId, 20, 0, body.ToArray());
    }

    private static void Amf(MemoryStream output, object? value)
    {
        switch (value)
        {
            case null:
                output.WriteByte(5);
                break;
            case string text:
                output.WriteByte(2);
                Utf8(output, text);
                break;
            case double number:
                output.WriteByte(0);
                Span<byte> b = stackalloc byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(b, number);
                output.Write(b);
                break;
            case Dictionary<string, object?> properties:
                output.WriteByte(3);
                foreach (var (key, item) in properties)
                {
                    Utf8(output, key);
                    Amf(output, item);
                }

                output.Write([0, 0, 9]);
                break;
        }
    }

    private static void Utf8(MemoryStream output, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        output.Write([(byte)(bytes.Length >> 8), (byte)bytes.Length]);
        output.Write(bytes);
    }

    /// <summary>One message in chunks of <see cref="ChunkSize"/> (the default 128 for the Set Chunk Size message itself).</summary>
    private static byte[] Message(int chunkStream, uint streamId, byte type, uint time, byte[] body)
    {
        int chunk = type == 1 ? 128 : ChunkSize;
        var output = new MemoryStream(body.Length + 16 + body.Length / chunk);
        bool extended = time >= 0xFFFFFF;
        uint field = extended ? 0xFFFFFF : time;
        output.Write([(byte)chunkStream, (byte)(field >> 16), (byte)(field >> 8), (byte)field,
            (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, type,
            (byte)streamId, (byte)(streamId >> 8), (byte)(streamId >> 16), (byte)(streamId >> 24)]);
        for (int done = 0; ;)
        {
            if (extended)
            {
                output.Write([(byte)(time >> 24), (byte)(time >> 16), (byte)(time >> 8), (byte)time]);
            }

            int n = Math.Min(chunk, body.Length - done);
            output.Write(body, done, n);
            done += n;
            if (done >= body.Length)
            {
                return output.ToArray();
            }

            output.WriteByte((byte)(0xC0 | chunkStream));
        }
    }

    /// <summary>The tags of an FLV file: type, timestamp in ms, body.</summary>
    private static List<(byte Type, uint Time, byte[] Body)> ReadTags(byte[] flv)
    {
        var tags = new List<(byte, uint, byte[])>();
        int at = (int)BinaryPrimitives.ReadUInt32BigEndian(flv.AsSpan(5)) + 4;
        while (at + 11 <= flv.Length)
        {
            byte type = (byte)(flv[at] & 0x1F);
            int size = (flv[at + 1] << 16) | (flv[at + 2] << 8) | flv[at + 3];
            uint time = (uint)((flv[at + 4] << 16) | (flv[at + 5] << 8) | flv[at + 6] | (flv[at + 7] << 24));
            if (at + 11 + size > flv.Length)
            {
                break;
            }

            tags.Add((type, time, flv[(at + 11)..(at + 11 + size)]));
            at += 11 + size + 4;
        }

        return tags;
    }
}
