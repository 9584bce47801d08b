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
/// Follows one media playlist for a player the way RFC 8216 (and, with <c>--ll</c>, its low-latency revision) asks a
/// client to, and fetches every new segment or part of it once, dropping the body. Its state is its own loop's;
/// what it measures goes to its player.
/// </summary>
internal sealed class TrackFollower(HttpClient http, HlsOptions options, HlsClock clock, HlsPlayer player, Uri mediaUri, Playlist? first, bool primary)
{
    private static readonly double TicksPerSecond = Stopwatch.Frequency;
    private readonly HlsOptions _o = options;
    private readonly Uri _mediaUri = mediaUri;
    private Playlist? _first = first;
    private Playlist? _playlist;
    private Uri? _mapFetched;
    private long _nextMsn;
    private int _nextPart = -1; // -1: whole segments; >= 0: the next part of _nextMsn to fetch
    private bool _partsAfterNext; // --ll joined with a whole segment: parts from the one after it
    private long _playStartTicks;
    private double _mediaSeconds;
    private double _stalledSeconds;
    private long _lastLoadTicks;
    private bool _lastChanged = true;

    public bool Ended { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        var deadline = player.StartTicks + (long)(_o.DeadlineSeconds * TicksPerSecond);
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
                    player.CountError(HlsPlayer.Reason(e));
                    if (_playStartTicks == 0 && Stopwatch.GetTimestamp() > deadline)
                    {
                        player.Fail($"no media within {_o.DeadlineSeconds:0.#} s; last error: {HlsPlayer.Reason(e)}");
                        return;
                    }

                    _playlist = null; // start over from a fresh playlist, as a player does after an error
                    await Task.Delay(500, stop).ConfigureAwait(false);
                }
            }
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
            player.Skipped((int)(p.MediaSequence - _nextMsn));
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
            if (_partsAfterNext)
            {
                _partsAfterNext = false;
                _nextPart = 0;
            }
        }

        Ended = p.Ended && _nextMsn >= p.NextMsn;
    }

    /// <summary>The playlist (the one the player loaded first, once), and where in it to start.</summary>
    private async Task JoinAsync(CancellationToken stop)
    {
        var p = _first ?? await LoadPlaylistAsync(_mediaUri, FetchKind.Playlist, stop).ConfigureAwait(false);
        _first = null;
        if (p.IsMultivariant)
        {
            throw new FormatException("a variant URI leads to another multivariant playlist");
        }

        _playlist = p;
        if (p.CanBlockReload)
        {
            player.BlockingOffered = true;
        }

        if (_o.LowLatency && p.Parts.Count > 0)
        {
            // The newest complete segment whole (after the init segment), then the parts after it as they come.
            _partsAfterNext = p.Segments.Count > 0;
            _nextMsn = _partsAfterNext ? p.NextMsn - 1 : p.NextMsn;
            _nextPart = _partsAfterNext ? -1 : 0;
        }
        else
        {
            _nextMsn = Math.Max(p.MediaSequence, p.NextMsn - _o.StartSegments);
            _nextPart = -1;
        }
    }

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
            var b = new UriBuilder(_mediaUri);
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

            uri = _mediaUri;
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
        HlsPlayer.EnsureOk(response, kind);
        var text = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
        var end = Stopwatch.GetTimestamp();
        player.AddBytes(text.Length);
        if (inWindow)
        {
            player.Record(kind, (end - _lastLoadTicks) * 1000 / TicksPerSecond);
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
            player.Skipped(1);
            player.CountError($"HTTP 404 for a listed {HlsPlayer.Name(kind)}");
            return;
        }

        HlsPlayer.EnsureOk(response, kind);
        var stream = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token).ConfigureAwait(false)) > 0)
            {
                player.AddBytes(n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var end = Stopwatch.GetTimestamp();
        if (inWindow)
        {
            player.Record(kind, (end - start) * 1000 / TicksPerSecond);
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
            player.MediaArrived(now);
            _mediaSeconds = duration;
            return;
        }

        if (primary && clock.InWindow(now))
        {
            player.MediaSecondsInWindow += duration; // only the primary follower writes it
        }

        var position = (now - _playStartTicks) / TicksPerSecond - _stalledSeconds;
        if (position > _mediaSeconds)
        {
            var stalled = position - _mediaSeconds;
            _stalledSeconds += stalled;
            if (clock.InWindow(now))
            {
                player.Stalled(stalled);
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
            player.Stalled(position - _mediaSeconds);
        }
    }
}

/// <summary>
/// One simulated HLS player: resolves the entry URL (a multivariant playlist: its first variant, and the audio
/// rendition that goes with it when that is a playlist of its own), follows each of those media playlists, and keeps
/// what they measure. Its followers write concurrently, so the counters are guarded; the run reads them afterwards
/// (bytes: also while running, from its timer).
/// </summary>
internal sealed class HlsPlayer(HttpClient http, HlsOptions options, HlsClock clock)
{
    private static readonly double TicksPerSecond = Stopwatch.Frequency;
    private readonly Lock _gate = new();
    private long _bytes;

    /// <summary>Latencies in ms (request start to last byte) of fetches begun inside the window, per kind.</summary>
    public List<float>[] Latencies { get; } = Enum.GetValues<FetchKind>().Select(_ => new List<float>()).ToArray();
    public long Bytes => Volatile.Read(ref _bytes);
    public long StartTicks { get; private set; }
    public long FirstMediaTicks { get; private set; }
    public string? FailReason { get; private set; }
    public Dictionary<string, int> Errors { get; } = [];
    public int Tracks { get; private set; }
    public int Stalls { get; private set; }
    public double StalledSecondsInWindow { get; private set; }
    public int SkippedSegments { get; private set; }
    public bool BlockingOffered { get; set; }

    /// <summary>Media seconds of the first media playlist that arrived inside the window (after the first piece).</summary>
    public double MediaSecondsInWindow { get; set; }

    public async Task RunAsync(CancellationToken stop)
    {
        StartTicks = Stopwatch.GetTimestamp();
        var deadline = StartTicks + (long)(options.DeadlineSeconds * TicksPerSecond);
        try
        {
            var followers = await JoinAsync(deadline, stop).ConfigureAwait(false);
            Tracks = followers.Count;
            await Task.WhenAll(followers.Select(f => f.RunAsync(stop))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or UriFormatException)
        {
            Fail($"stopped by {Reason(e)}"); // reported with the player, not lost
        }
    }

    /// <summary>The entry playlist, loaded until it answers (or the deadline passes), and a follower for each media playlist.</summary>
    private async Task<List<TrackFollower>> JoinAsync(long deadline, CancellationToken stop)
    {
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
                cts.CancelAfter(TimeSpan.FromSeconds(10));
                using var response = await http.GetAsync(options.Url, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
                EnsureOk(response, FetchKind.Playlist);
                var text = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
                AddBytes(text.Length);
                if (clock.InWindow(start))
                {
                    Record(FetchKind.Playlist, (Stopwatch.GetTimestamp() - start) * 1000 / TicksPerSecond);
                }

                var entry = Playlist.Parse(text, options.Url);
                return entry.IsMultivariant
                    ? [.. entry.FirstVariantPlaylists().Select((u, i) => new TrackFollower(http, options, clock, this, u, null, primary: i == 0))]
                    : [new TrackFollower(http, options, clock, this, options.Url, entry, primary: true)];
            }
            catch (Exception e) when (e is HttpRequestException or IOException or FormatException or TaskCanceledException && !stop.IsCancellationRequested)
            {
                CountError(Reason(e));
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    Fail($"no playlist within {options.DeadlineSeconds:0.#} s; last error: {Reason(e)}");
                    return [];
                }

                await Task.Delay(500, stop).ConfigureAwait(false);
            }
        }
    }

    public void AddBytes(long n) => Interlocked.Add(ref _bytes, n);

    public void Record(FetchKind kind, double ms)
    {
        lock (_gate)
        {
            Latencies[(int)kind].Add((float)ms);
        }
    }

    public void MediaArrived(long ticks)
    {
        lock (_gate)
        {
            if (FirstMediaTicks == 0)
            {
                FirstMediaTicks = ticks;
            }
        }
    }

    public void Stalled(double seconds)
    {
        lock (_gate)
        {
            Stalls++;
            StalledSecondsInWindow += seconds;
        }
    }

    public void Skipped(int segments)
    {
        lock (_gate)
        {
            SkippedSegments += segments;
        }
    }

    public void CountError(string reason)
    {
        lock (_gate)
        {
            Errors[reason] = Errors.GetValueOrDefault(reason) + 1;
        }
    }

    public void Fail(string reason)
    {
        lock (_gate)
        {
            FailReason ??= reason;
        }
    }

    public static void EnsureOk(HttpResponseMessage response, FetchKind kind)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} for a {Name(kind)}", null, response.StatusCode);
        }
    }

    public static string Reason(Exception e) => e switch
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
