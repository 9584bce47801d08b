using System.Collections.Concurrent;
using System.Net;

namespace Sluice.Server.Hls;

/// <summary>
/// Who reads a stream's HLS and DASH, for the status page: requests and bytes served, and the addresses that loaded a
/// playlist lately. HLS players hold no connection open, so "players" is an estimate: the distinct addresses with a
/// playlist request in the last <see cref="PlayerWindow"/> (players behind one NAT or one edge cache count once).
/// </summary>
internal sealed class HlsAudience
{
    public static readonly TimeSpan PlayerWindow = TimeSpan.FromSeconds(30);

    /// <summary>Addresses remembered at most: beyond it new ones are counted in requests but not as players.</summary>
    public const int MaxAddresses = 100_000;

    private readonly ConcurrentDictionary<IPAddress, long> _lastPlaylist = new();
    private readonly TimeProvider _time;
    private int _addresses; // _lastPlaylist.Count, kept apart: that property takes every lock of the dictionary
    private long _playlists;
    private long _segments;
    private long _parts;
    private long _bytes;

    public HlsAudience(TimeProvider time) => _time = time;

    public long Playlists => Interlocked.Read(ref _playlists);

    public long Segments => Interlocked.Read(ref _segments);

    public long Parts => Interlocked.Read(ref _parts);

    public long BytesSent => Interlocked.Read(ref _bytes);

    /// <summary>A playlist or manifest request from <paramref name="remote"/> (no allocation for an address already known).</summary>
    public void Playlist(IPAddress? remote, long bytes)
    {
        Interlocked.Increment(ref _playlists);
        Interlocked.Add(ref _bytes, bytes);
        if (remote is null)
        {
            return;
        }

        long now = _time.GetTimestamp();
        if (_lastPlaylist.ContainsKey(remote))
        {
            _lastPlaylist[remote] = now;
        }
        else if (Volatile.Read(ref _addresses) < MaxAddresses && _lastPlaylist.TryAdd(remote, now))
        {
            Interlocked.Increment(ref _addresses);
        }
    }

    /// <summary>A segment, part or init segment served.</summary>
    public void Media(long bytes, bool part)
    {
        Interlocked.Increment(ref part ? ref _parts : ref _segments);
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>The addresses with a playlist request in the last <see cref="PlayerWindow"/>; older ones are forgotten.</summary>
    public int Players()
    {
        int count = 0;
        foreach (var (address, seen) in _lastPlaylist)
        {
            if (_time.GetElapsedTime(seen) <= PlayerWindow)
            {
                count++;
            }
            else if (_lastPlaylist.TryRemove(KeyValuePair.Create(address, seen)))
            {
                Interlocked.Decrement(ref _addresses);
            }
        }

        return count;
    }
}
