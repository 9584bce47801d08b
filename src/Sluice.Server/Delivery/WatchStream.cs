namespace Sluice.Server.Delivery;

/// <summary>
/// Counts a viewer of <paramref name="stream"/> while it is served (an OnDemand stream's encoder runs while the stream
/// has viewers): dispose the result when the viewer leaves. Null for a stream with no encoder to wake.
/// </summary>
internal delegate IDisposable? WatchStream(string stream);
