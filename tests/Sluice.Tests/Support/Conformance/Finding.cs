namespace Sluice.Tests.Support.Conformance;

/// <summary>
/// One breach of a conformance rule: which rule, where (the URI, segment, part or track) and the numbers that break it,
/// so that a report of findings says what to fix without a second look at the bytes.
/// </summary>
public sealed record Finding(string Rule, string Where, string Detail)
{
    public override string ToString() => $"[{Rule}] {Where}: {Detail}";
}

/// <summary>The rules the validator checks, by the names its findings carry (one closed list, each testable by name).</summary>
public static class Rules
{
    // HLS playlists (RFC 8216 section 4.3, the LL-HLS draft's EXT-X-PART and EXT-X-PART-INF).
    /// <summary>An EXTINF rounded to the nearest integer exceeds EXT-X-TARGETDURATION.</summary>
    public const string TargetDuration = "hls.target-duration";

    /// <summary>EXT-X-MEDIA-SEQUENCE went back between two reloads.</summary>
    public const string MediaSequenceBack = "hls.media-sequence-back";

    /// <summary>A segment URI was listed with another media sequence number than before.</summary>
    public const string UriSequence = "hls.uri-sequence";

    /// <summary>A segment URI was listed with another PROGRAM-DATE-TIME than before.</summary>
    public const string UriDate = "hls.uri-program-date-time";

    /// <summary>The PROGRAM-DATE-TIME of a segment is not the previous one's plus the previous EXTINF (within 1 ms).</summary>
    public const string DateStep = "hls.program-date-time-step";

    /// <summary>Parts of a segment not numbered 0, 1, 2... in order, fewer than before, or a preload hint naming another part than the next.</summary>
    public const string PartNumbering = "hls.part-numbering";

    /// <summary>An EXT-X-PART DURATION longer than PART-TARGET.</summary>
    public const string PartTarget = "hls.part-target";

    /// <summary>A playlist with EXT-X-PART-INF and no PART-HOLD-BACK, or one below twice the PART-TARGET (RFC 8216bis 4.4.3.8).</summary>
    public const string PartHoldBack = "hls.part-hold-back";

    /// <summary>The parts of a complete segment do not sum to its EXTINF (within 2 ms).</summary>
    public const string PartSum = "hls.part-sum";

    /// <summary>The multivariant playlist's CODECS differ from what the init segment (or the TS segments) hold.</summary>
    public const string Codecs = "hls.codecs";

    /// <summary>BANDWIDTH below the bitrate (bytes * 8 / summed EXTINF) of consecutive listed segments lasting 0.5 to 1.5 target durations.</summary>
    public const string Bandwidth = "hls.bandwidth";

    /// <summary>A playlist that cannot be read: no #EXTM3U, no TARGETDURATION, a URI without EXTINF.</summary>
    public const string PlaylistSyntax = "hls.syntax";

    // Media (ISO 14496-12 fragments, ISO 13818-1 transport stream).
    /// <summary>A segment (or an INDEPENDENT=YES part) whose first video sample is not a sync sample.</summary>
    public const string SyncStart = "media.sync-start";

    /// <summary>A fragment's tfdt is not the previous fragment's tfdt plus its sample durations (per track, exactly).</summary>
    public const string TfdtContiguous = "mp4.tfdt-contiguous";

    /// <summary>An audio sample duration other than the codec's frame (AAC 1024 samples, MP3 1152, Opus by its TOC).</summary>
    public const string AudioDuration = "mp4.audio-duration";

    /// <summary>A segment's or a part's summed sample durations differ from its EXTINF, part DURATION (within 1 ms or one sample).</summary>
    public const string MediaDuration = "mp4.duration";

    /// <summary>Boxes that cannot be read (a box overrunning its parent, a moof without tfdt, a track without mdhd).</summary>
    public const string Mp4Syntax = "mp4.syntax";

    /// <summary>An audio PES's PTS is not the previous one's plus its frames (within 1 tick of 90 kHz).</summary>
    public const string TsAudioStep = "ts.audio-pts-step";

    /// <summary>A PCR lower than the one before it.</summary>
    public const string PcrBack = "ts.pcr-back";

    /// <summary>Packets that cannot be read (no sync byte, no PAT/PMT, a PES without PTS).</summary>
    public const string TsSyntax = "ts.syntax";

    // DASH (ISO 23009-1, dynamic MPD with SegmentTimeline).
    /// <summary>availabilityStartTime, Period@start or timeShiftBufferDepth changed between reloads.</summary>
    public const string DashStable = "dash.stable";

    /// <summary>An S@t that is not the previous S's t + d * (r + 1).</summary>
    public const string TimelineContiguous = "dash.timeline-contiguous";

    /// <summary>A timeline that went back between reloads (first t lower), or an S listed again with another d.</summary>
    public const string TimelineSliding = "dash.timeline-sliding";

    /// <summary>An S whose end lies before publishTime - timeShiftBufferDepth (no longer available when listed).</summary>
    public const string TimelineWindow = "dash.timeline-window";

    /// <summary>Periods out of the order of their starts, or a Period's media running past the next Period's start (by more than 1 ms).</summary>
    public const string DashPeriods = "dash.periods";

    /// <summary>S@t or S@d of a track differ from the tfdt and summed durations of the fragment fetched at $Time$.</summary>
    public const string TimelineMedia = "dash.timeline-media";

    /// <summary>publishTime earlier than the end of the last S listed (availabilityStartTime + (t + d) / timescale).</summary>
    public const string PublishTime = "dash.publish-time";

    /// <summary>An HLS segment's PROGRAM-DATE-TIME differs from availabilityStartTime + S@t / timescale of the same segment by more than a frame.</summary>
    public const string HlsDashDate = "dash.hls-program-date-time";

    /// <summary>An MPD that cannot be read, or a resource it lists that did not answer 200.</summary>
    public const string DashSyntax = "dash.syntax";

    /// <summary>A listed resource that did not answer 200 with the expected Content-Type.</summary>
    public const string Http = "http";
}
