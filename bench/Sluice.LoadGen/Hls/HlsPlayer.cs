using System.Buffers;
using System.Diagnostics;
using System.Net;

namespace Sluice.LoadGen.Hls;

/// <summary>What a fetch was for; latencies are kept apart per kind.</summary>
internal enum FetchKind
{
    Playlist,
    BlockingPlaylist,
    Segment,
    Part,
    Init,
}

/// <summary>
/// One simulated HLS player: follows the playlist the way RFC 8216 (and, with <c>--ll</c>, its low-latency
/// revision) asks a client to, fetches every new segment or part once and drops the body. Its fields are written
/// by its own loop only and read by the run after the loop has ended (bytes: also by the run's timer).
/// </summary>
internal sealed class HlsPlayer(HttpClient http, HlsOptions options, HlsClock clock)
{
    private static readonly double TicksPerSecond = Stopwatch.Frequency;
    private readonly HlsOptions _o = options;
    private Playlist? _playlist;
    private Uri? _mediaUri;
    private Uri? _mapFetched;
    private long _nextMsn;
    private int _nextPart = -1; // -1: whole segments; >= 0: the next part of _nextMsn to fetch
    private long _playStartTicks;
    private double _mediaSeconds;
    private double _stalledSeconds;

    /// <summary>Latencies in ms (request start to last byte) of fetches begun inside the window, per kind.</summary>
    public List<float>[] Latencies { get; } = Enum.GetValues<FetchKind>().Select(_ => new List<float>()).ToArray();
    public long Bytes;
    public long StartTicks { get; private set; }
    public long FirstMediaTicks { get; private set; }
    public string? FailReason { get; private set; }
    public Dictionary<string, int> Errors { get; } = [];
    public int Stalls { get; private set; }
    public double StalledSecondsInWindow { get; private set; }
    public int SkippedSegments { get; private set; }
    public bool BlockingOffered { get; private set; }
    public bool Ended { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        StartTicks = Stopwatch.GetTimestamp();
        var deadline = StartTicks + (long)(_o.DeadlineSeconds * TicksPerSecond);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await StepAsync(stop).ConfigureAwait(false);
                    if (Ended)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or FormatException or TaskCanceledException && !stop.IsCancellationRequested)
                {
                    CountError(e);
                    if (FirstMediaTicks == 0 && Stopwatch.GetTimestamp() > deadline)
                    {
                        FailReason = $"no media within {_o.DeadlineSeconds:0.#} s; last error: {Reason(e)}";
                        return;
                    }

                    _playlist = null; // start over from a fresh playlist, as a player does after an error
                    await Task.Delay(500, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or UriFormatException)
        {
            FailReason ??= $"stopped by {Reason(e)}"; // reported with the player, not lost
        }
        finally
        {
            CloseStallBook(Stopwatch.GetTimestamp());
        }
    }

    /// <summary>One round: load (or reload) the playlist, then fetch what it has that is new.</summary>
    private async Task StepAsync(CancellationToken stop)
    {
        if (_playlist is null)
        {
            await JoinAsync(stop).ConfigureAwait(false);
        }
        else
        {
            await ReloadAsync(stop).ConfigureAwait(false);
        }

        var p = _playlist!;
        if (p.Map is { } map && map != _mapFetched)
        {
            await FetchMediaAsync(map, FetchKind.Init, 0, stop).ConfigureAwait(false);
            _mapFetched = map;
        }

        if (_nextMsn < p.MediaSequence)
        {
            // Fell out of the playlist's window: the segments in between are gone; go on from the oldest listed.
            SkippedSegments += (int)(p.MediaSequence - _nextMsn);
            _nextMsn = p.MediaSequence;
            _nextPart = _nextPart >= 0 ? 0 : -1;
        }

        while (!stop.IsCancellationRequested)
        {
            var index = (int)(_nextMsn - p.MediaSequence);
            var complete = index < p.Segments.Count;
            if (_nextPart >= 0)
            {
                var fetchedPart = false;
                foreach (var part in p.Parts)
                {
                    if (part.Msn == _nextMsn && part.Part >= _nextPart)
                    {
                        await FetchMediaAsync(part.Uri, FetchKind.Part, part.Duration, stop).ConfigureAwait(false);
                        _nextPart = part.Part + 1;
                        fetchedPart = true;
                    }
                }

                if (!complete)
                {
                    break;
                }

                if (_nextPart == 0 && !fetchedPart)
                {
                    // Its parts are no longer listed (or never were): the whole segment instead.
                    await FetchMediaAsync(p.Segments[index].Uri, FetchKind.Segment, p.Segments[index].Duration, stop).ConfigureAwait(false);
                }

                _nextMsn++;
                _nextPart = 0;
                continue;
            }

            if (!complete)
            {
                break;
            }

            await FetchMediaAsync(p.Segments[index].Uri, FetchKind.Segment, p.Segments[index].Duration, stop).ConfigureAwait(false);
            _nextMsn++;
        }

        Ended = p.Ended && _nextMsn >= p.NextMsn;
    }

    /// <summary>The entry URL, its first variant if it is a multivariant playlist, and the starting point.</summary>
    private async Task JoinAsync(CancellationToken stop)
    {
        var uri = _mediaUri ?? _o.Url;
        var p = await LoadPlaylistAsync(uri, FetchKind.Playlist, stop).ConfigureAwait(false);
        if (p.IsMultivariant)
        {
            uri = p.Variants.Count > 0 ? p.Variants[0] : throw new FormatException("multivariant playlist without a variant URI");
            p = await LoadPlaylistAsync(uri, FetchKind.Playlist, stop).ConfigureAwait(false);
            if (p.IsMultivariant)
            {
                throw new FormatException("a variant URI leads to another multivariant playlist");
            }
        }

        _mediaUri = uri;
        _playlist = p;
        BlockingOffered = p.CanBlockReload;
        if (_o.LowLatency && p.Parts.Count > 0)
        {
            // The newest complete segment whole, then the parts after it as they come.
            _nextMsn = Math.Max(p.MediaSequence, p.NextMsn - 1);
            _nextPart = p.Segments.Count > 0 ? -1 : 0;
            if (p.Segments.Count > 0)
            {
                var last = p.Segments[^1];
                await FetchMediaAsync(last.Uri, FetchKind.Segment, last.Duration, stop).ConfigureAwait(false);
                _nextMsn = p.NextMsn;
                _nextPart = 0;
            }
        }
        else
        {
            _nextMsn = Math.Max(p.MediaSequence, p.NextMsn - _o.StartSegments);
            _nextPart = -1;
        }
    }

    private long _lastLoadTicks;
    private bool _lastChanged = true;

    /// <summary>
    /// Blocking reload for the next part or segment when the server offers it and --ll asked for it; otherwise wait
    /// a target duration from the start of the last load, or half of it when that load brought nothing new.
    /// </summary>
    private async Task ReloadAsync(CancellationToken stop)
    {
        var p = _playlist!;
        Uri uri;
        FetchKind kind;
        if (_o.LowLatency && p.CanBlockReload)
        {
            var query = _nextPart >= 0 && p.PartTarget > 0 ? $"_HLS_msn={_nextMsn}&_HLS_part={_nextPart}" : $"_HLS_msn={_nextMsn}";
            var b = new UriBuilder(_mediaUri!);
            b.Query = string.IsNullOrEmpty(b.Query) ? query : b.Query.TrimStart('?') + "&" + query;
            uri = b.Uri;
            kind = FetchKind.BlockingPlaylist;
        }
        else
        {
            var interval = _o.LowLatency && p.PartTarget > 0 ? p.PartTarget : p.TargetDuration;
            if (!_lastChanged)
            {
                interval /= 2;
            }

            var due = _lastLoadTicks + (long)(interval * TicksPerSecond);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(wait / TicksPerSecond), stop).ConfigureAwait(false);
            }

            uri = _mediaUri!;
            kind = FetchKind.Playlist;
        }

        var before = p.NextMsn * 1000 + p.Parts.Count;
        var next = await LoadPlaylistAsync(uri, kind, stop).ConfigureAwait(false);
        _lastChanged = next.NextMsn * 1000 + next.Parts.Count != before;
        _playlist = next;
    }

    private async Task<Playlist> LoadPlaylistAsync(Uri uri, FetchKind kind, CancellationToken stop)
    {
        _lastLoadTicks = Stopwatch.GetTimestamp();
        var inWindow = clock.InWindow(_lastLoadTicks);
        var timeout = kind == FetchKind.BlockingPlaylist ? TimeSpan.FromSeconds(3 * (_playlist?.TargetDuration ?? 2) + 5) : TimeSpan.FromSeconds(10);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cts.CancelAfter(timeout);
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
        EnsureOk(response, kind);
        var text = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
        var end = Stopwatch.GetTimestamp();
        Volatile.Write(ref Bytes, Bytes + text.Length);
        if (inWindow)
        {
            Latencies[(int)kind].Add((float)((end - _lastLoadTicks) * 1000 / TicksPerSecond));
        }

        return Playlist.Parse(text, uri);
    }

    private async Task FetchMediaAsync(Uri uri, FetchKind kind, double duration, CancellationToken stop)
    {
        var start = Stopwatch.GetTimestamp();
        var inWindow = clock.InWindow(start);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound && kind == FetchKind.Segment)
        {
            // Listed, then removed before we got to it: count it and go on with the next one.
            SkippedSegments++;
            CountError($"HTTP 404 for a listed {Name(kind)}");
            return;
        }

        EnsureOk(response, kind);
        var stream = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token).ConfigureAwait(false)) > 0)
            {
                Volatile.Write(ref Bytes, Bytes + n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var end = Stopwatch.GetTimestamp();
        if (inWindow)
        {
            Latencies[(int)kind].Add((float)((end - start) * 1000 / TicksPerSecond));
        }

        if (duration > 0)
        {
            BookMedia(end, duration);
        }
    }

    /// <summary>
    /// The playback model behind "stalls": playing starts when the first media arrives and consumes media in real
    /// time; if the play position has passed the end of what was fetched when the next piece arrives, the player
    /// was stalled (rebuffering) for the difference, and resumes from there.
    /// </summary>
    private void BookMedia(long now, double duration)
    {
        if (_playStartTicks == 0)
        {
            _playStartTicks = now;
            FirstMediaTicks = now;
            _mediaSeconds = duration;
            return;
        }

        var position = (now - _playStartTicks) / TicksPerSecond - _stalledSeconds;
        if (position > _mediaSeconds)
        {
            var stalled = position - _mediaSeconds;
            _stalledSeconds += stalled;
            if (clock.InWindow(now))
            {
                Stalls++;
                StalledSecondsInWindow += stalled;
            }
        }

        _mediaSeconds += duration;
    }

    /// <summary>A buffer that has run dry at the end of the run counts as a stall too.</summary>
    private void CloseStallBook(long now)
    {
        if (_playStartTicks == 0)
        {
            return;
        }

        var position = (Math.Min(now, clock.WindowEnd) - _playStartTicks) / TicksPerSecond - _stalledSeconds;
        if (position > _mediaSeconds && clock.InWindow(Math.Min(now, clock.WindowEnd) - 1))
        {
            Stalls++;
            StalledSecondsInWindow += position - _mediaSeconds;
        }
    }

    private static void EnsureOk(HttpResponseMessage response, FetchKind kind)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} for a {Name(kind)}", null, response.StatusCode);
        }
    }

    private void CountError(Exception e) => CountError(Reason(e));

    private void CountError(string reason) => Errors[reason] = Errors.GetValueOrDefault(reason) + 1;

    private static string Reason(Exception e) => e switch
    {
        HttpRequestException { StatusCode: not null } h => h.Message,
        HttpRequestException h => $"connection: {h.HttpRequestError}",
        TaskCanceledException => "timed out (10 s, or 3 target durations + 5 s for a blocking reload)",
        FormatException f => $"bad playlist: {f.Message}",
        _ => e.GetType().Name + ": " + e.Message,
    };

    public static string Name(FetchKind kind) => kind switch
    {
        FetchKind.Playlist => "playlist",
        FetchKind.BlockingPlaylist => "blocking playlist reload",
        FetchKind.Segment => "segment",
        FetchKind.Part => "part",
        _ => "init segment",
    };
}
