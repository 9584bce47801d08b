using Sluice.Tests.Support;
using Sluice.Tests.Support.Conformance;
using Xunit.Abstractions;
using static Sluice.Tests.SyntheticMedia;

namespace Sluice.Tests;

/// <summary>The conformance validator on output of today's server kept as files (Fixtures/Conformance, see its README).</summary>
public sealed class ConformanceFixtureTests(ITestOutputHelper output)
{
    private static string Fixture(string name) => Path.Combine(Configs.RepoRoot, "tests", "Sluice.Tests", "Fixtures", "Conformance", name);

    [Fact]
    public void The_DASH_audio_of_a_Matroska_feed_as_served_before_the_timeline_fixes_breaks_the_audio_rules()
    {
        var capture = new DashCapture("matroska/dash");
        foreach (string file in Directory.GetFiles(Fixture("matroska-h264-aac-dash")).Order(StringComparer.Ordinal))
        {
            if (file.EndsWith(".mpd", StringComparison.Ordinal))
            {
                capture.Manifests.Add(File.ReadAllText(file));
            }
            else if (!file.EndsWith(".md", StringComparison.Ordinal))
            {
                capture.Bodies[Path.GetFileName(file)] = File.ReadAllBytes(file);
            }
        }

        var findings = Validator.CheckDash(capture);
        output.WriteLine(Validator.Report(findings, 50));

        // The defects: AAC frames of 1008 and 1056 ticks at 48 kHz, fragments that overlap or leave a gap, and an
        // audio timeline on the video's 90 kHz grid that is not the audio's tfdt.
        var durations = findings.Where(f => f.Rule == Rules.AudioDuration).Select(f => f.Detail).ToList();
        Assert.Contains(durations, d => d.StartsWith("sample duration 1008 where AAC frames last 1024", StringComparison.Ordinal));
        Assert.Contains(durations, d => d.StartsWith("sample duration 1056 where AAC frames last 1024", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.TfdtContiguous && f.Detail.Contains("an overlap of 16 ticks", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.TfdtContiguous && f.Detail.Contains("a gap of 32 ticks", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.TimelineMedia && f.Where.Contains("<S t=\"1441860\"", StringComparison.Ordinal)
            && f.Detail.StartsWith("S@t=1441860 says 16.020667 s where the fragment's tfdt 769136 is 16.023667 s", StringComparison.Ordinal));
    }
}

/// <summary>Each rule of the validator on small hand-made inputs: it fires on the breach, and stays silent on the right input.</summary>
public sealed class ConformanceValidatorTests(ITestOutputHelper output)
{
    private const string Playlist = """
        #EXTM3U
        #EXT-X-VERSION:9
        #EXT-X-TARGETDURATION:2
        #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5
        #EXT-X-PART-INF:PART-TARGET=0.5
        #EXT-X-MEDIA-SEQUENCE:{0}
        #EXT-X-MAP:URI="e-init1.mp4"
        #EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:00.000Z
        #EXT-X-PART:DURATION=0.5,URI="e-{0}.0.m4s",INDEPENDENT=YES
        #EXT-X-PART:DURATION=0.5,URI="e-{0}.1.m4s"
        #EXTINF:1.00000,
        e-{0}.m4s
        #EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:01.000Z
        #EXTINF:1.00000,
        e-{1}.m4s
        #EXT-X-PRELOAD-HINT:TYPE=PART,URI="e-{2}.0.m4s"
        """;

    private static string Media(long first) => string.Format(System.Globalization.CultureInfo.InvariantCulture, Playlist, first, first + 1, first + 2);

    private static HlsCapture Hls(params string[] playlists)
    {
        var capture = new HlsCapture("test", cmaf: true);
        capture.Playlists.AddRange(playlists);
        return capture;
    }

    private List<Finding> Run(HlsCapture capture)
    {
        var findings = Validator.CheckHls(capture);
        output.WriteLine(Validator.Report(findings));
        return findings;
    }

    private static List<string> RulesOf(List<Finding> findings) => [.. findings.Select(f => f.Rule).Distinct()];

    [Fact]
    public void A_playlist_that_keeps_every_rule_over_reloads_has_no_finding()
    {
        Assert.Empty(Run(Hls(Media(5), Media(5), Media(6).Replace("10:00:00.000Z", "10:00:01.000Z").Replace("10:00:01.000Z\n#EXTINF", "10:00:02.000Z\n#EXTINF"))));
    }

    [Fact]
    public void A_media_sequence_going_back_between_reloads_is_found()
    {
        var findings = Run(Hls(Media(6), Media(5)));
        Assert.Contains(findings, f => f.Rule == Rules.MediaSequenceBack && f.Detail == "EXT-X-MEDIA-SEQUENCE 5 after 6 in the reload before");
    }

    [Fact]
    public void A_segment_longer_than_the_target_duration_rounded_is_found_and_one_that_rounds_to_it_is_not()
    {
        Assert.DoesNotContain(Run(Hls(Media(5).Replace("#EXTINF:1.00000,\ne-6", "#EXTINF:2.49000,\ne-6"))), f => f.Rule == Rules.TargetDuration);
        var findings = Run(Hls(Media(5).Replace("#EXTINF:1.00000,\ne-6", "#EXTINF:2.50000,\ne-6")));
        Assert.Contains(findings, f => f.Rule == Rules.TargetDuration && f.Detail == "EXTINF 2.5 rounds to 3, above EXT-X-TARGETDURATION 2");
    }

    [Fact]
    public void A_program_date_time_step_other_than_the_extinf_is_found()
    {
        var findings = Run(Hls(Media(5).Replace("10:00:01.000Z", "10:00:01.005Z")));
        Assert.Equal([Rules.DateStep], RulesOf(findings));
        Assert.Contains("is 1.005 s after segment 5's, whose EXTINF is 1 (+5.000 ms)", findings[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_uri_listed_again_with_another_sequence_number_or_date_is_found()
    {
        var findings = Run(Hls(Media(5), Media(5).Replace("#EXT-X-MEDIA-SEQUENCE:5", "#EXT-X-MEDIA-SEQUENCE:4"), Media(5).Replace("10:00:00.000Z", "10:00:00.100Z").Replace("10:00:01.000Z", "10:00:01.100Z")));
        Assert.Contains(findings, f => f.Rule == Rules.UriSequence && f.Where.Contains("(e-5.m4s)", StringComparison.Ordinal) && f.Detail == "listed as media sequence 4, as 5 in a reload before");
        Assert.Contains(findings, f => f.Rule == Rules.UriDate && f.Detail.EndsWith("(+100.000 ms)", StringComparison.Ordinal));
    }

    [Fact]
    public void Parts_over_the_part_target_misnumbered_or_not_summing_to_their_segment_are_found()
    {
        var findings = Run(Hls(Media(5).Replace("DURATION=0.5,URI=\"e-5.1.m4s\"", "DURATION=0.52,URI=\"e-5.2.m4s\"").Replace("e-7.0.m4s", "e-7.1.m4s")));
        Assert.Contains(findings, f => f.Rule == Rules.PartTarget && f.Detail == "DURATION 0.52 above PART-TARGET 0.5");
        Assert.Contains(findings, f => f.Rule == Rules.PartNumbering && f.Detail == "part e-5.2.m4s is listed as part 1 of segment 5");
        Assert.Contains(findings, f => f.Rule == Rules.PartNumbering && f.Detail == "EXT-X-PRELOAD-HINT e-7.1.m4s where part 7.0 comes next");
        Assert.Contains(findings, f => f.Rule == Rules.PartSum && f.Detail == "2 parts sum to 1.02 s, EXTINF is 1 (+20.000 ms)");
    }

    [Fact]
    public void A_part_hold_back_missing_or_under_two_part_targets_is_found_and_one_of_two_is_not()
    {
        Assert.DoesNotContain(Run(Hls(Media(5).Replace("PART-HOLD-BACK=1.5", "PART-HOLD-BACK=1.0"))), f => f.Rule == Rules.PartHoldBack);
        var under = Run(Hls(Media(5).Replace("PART-HOLD-BACK=1.5", "PART-HOLD-BACK=0.9")));
        Assert.Contains(under, f => f.Rule == Rules.PartHoldBack && f.Detail == "PART-HOLD-BACK 0.9 below twice PART-TARGET 0.5");
        var missing = Run(Hls(Media(5).Replace("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5\n", "")));
        Assert.Contains(missing, f => f.Rule == Rules.PartHoldBack && f.Detail == "EXT-X-PART-INF without EXT-X-SERVER-CONTROL PART-HOLD-BACK");
    }

    [Fact]
    public void Codecs_and_bandwidth_are_checked_against_the_init_segment_and_the_segments()
    {
        var capture = Hls(Media(5));
        capture.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
        capture.Bodies["e-5.m4s"] = [.. Fragment(1, 0, Repeat(3000, 30)), .. Fragment(2, 0, Repeat(1024, 47)), .. new byte[12_000]];
        capture.Multivariant = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000,CODECS=\"avc1.64001f,mp4a.40.2\"\nmedia.m3u8\n";
        Assert.DoesNotContain(Run(capture), f => f.Rule is Rules.Codecs or Rules.Bandwidth);

        capture.Multivariant = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=90000,CODECS=\"avc1.42e01e,mp4a.40.5\"\nmedia.m3u8\n";
        var findings = Run(capture);
        Assert.Contains(findings, f => f.Rule == Rules.Codecs && f.Detail == "CODECS=\"avc1.42e01e,mp4a.40.5\" where the init segment holds avc1.64001f,mp4a.40.2");
        Assert.Contains(findings, f => f.Rule == Rules.Bandwidth && f.Detail.StartsWith("BANDWIDTH=90000 below the peak segment bitrate 107392 bit/s (segment 5, 13424 bytes over 1 s)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_segment_far_shorter_than_the_target_is_measured_with_its_neighbour_for_bandwidth()
    {
        // Segment 6 lasts 0.2 s, under half the target (2 s): alone it is no set the peak is taken over (200 kbit/s).
        var capture = Hls(Media(5).Replace("#EXTINF:1.00000,\ne-6", "#EXTINF:0.20000,\ne-6"));
        capture.Bodies["e-5.m4s"] = new byte[10_000];
        capture.Bodies["e-6.m4s"] = new byte[5_000];
        capture.Multivariant = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=120000,CODECS=\"avc1.64001f,mp4a.40.2\"\nmedia.m3u8\n";
        Assert.DoesNotContain(Run(capture), f => f.Rule == Rules.Bandwidth);

        capture.Multivariant = capture.Multivariant.Replace("120000", "90000", StringComparison.Ordinal);
        var finding = Assert.Single(Run(capture), f => f.Rule == Rules.Bandwidth);
        Assert.Equal("BANDWIDTH=90000 below the peak segment bitrate 100000 bit/s (segments 5 to 6, 15000 bytes over 1.2 s); 1 of 2 sets of segments of 0.5 to 1.5 target durations above it", finding.Detail);
    }

    [Fact]
    public void Fragments_that_follow_each_other_exactly_have_no_finding_and_a_16_tick_overlap_is_found()
    {
        var capture = Hls(Media(5));
        capture.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
        capture.Bodies["e-5.m4s"] = [.. Fragment(1, 90000, Repeat(3000, 30)), .. Fragment(2, 48000, Repeat(1024, 23)), .. Fragment(2, 48000 + (23 * 1024), Repeat(1024, 24))];
        capture.Bodies["e-6.m4s"] = [.. Fragment(1, 180000, Repeat(3000, 30)), .. Fragment(2, 48000 + (47 * 1024), Repeat(1024, 47))];
        Assert.Empty(Run(capture));

        capture.Bodies["e-6.m4s"] = [.. Fragment(1, 180000, Repeat(3000, 30)), .. Fragment(2, 48000 + (47 * 1024) - 16, Repeat(1024, 47))];
        var findings = Run(capture);
        var finding = Assert.Single(findings, f => f.Rule == Rules.TfdtContiguous);
        Assert.Equal("test segments segment 6 (e-6.m4s) fragment 1 track 2 (mp4a, 48000 Hz, timescale 48000)", finding.Where);
        Assert.Equal("tfdt 96112 where the fragment before (segment 5 (e-5.m4s) fragment 2: tfdt 71552 + 24576 over 24 samples) ends at 96128: an overlap of 16 ticks (-0.333 ms)", finding.Detail);
    }

    [Fact]
    public void An_aac_frame_of_1008_ticks_among_1024s_is_found_with_its_count_and_place()
    {
        var capture = Hls(Media(5));
        capture.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
        uint[] durations = Repeat(1024, 47);
        durations[3] = 1008;
        durations[9] = 1040;
        capture.Bodies["e-5.m4s"] = [.. Fragment(1, 90000, Repeat(3000, 30)), .. Fragment(2, 48000, durations)];
        var findings = Run(capture).Where(f => f.Rule == Rules.AudioDuration).ToList();
        Assert.Equal(2, findings.Count);
        Assert.Equal("sample duration 1008 where AAC frames last 1024 (1024 samples): 1 of 47 samples, in 1 fragment(s), first at segment 5 (e-5.m4s) tfdt 48000 sample 3", findings[0].Detail);
        Assert.StartsWith("sample duration 1040 ", findings[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_segment_not_starting_with_a_sync_sample_and_durations_unlike_the_playlist_are_found()
    {
        var capture = Hls(Media(5));
        capture.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
        capture.Bodies["e-5.m4s"] = [.. Fragment(1, 90000, Repeat(3000, 33), firstSync: false), .. Fragment(2, 48000, Repeat(1024, 47))];
        capture.Bodies["e-5.0.m4s"] = Fragment(1, 90000, Repeat(3000, 15), firstSync: false);
        var findings = Run(capture);
        Assert.Contains(findings, f => f.Rule == Rules.SyncStart && f.Where.StartsWith("test segment 5 (e-5.m4s) track 1", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.SyncStart && f.Where.Contains("part 5.0 (e-5.0.m4s) (INDEPENDENT=YES)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.MediaDuration && f.Where.Contains("segment 5 (e-5.m4s) track 1", StringComparison.Ordinal) && f.Detail.StartsWith("samples sum to 99000 ticks = 1.1 s, EXTINF is 1 (+100.000 ms", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.Rule == Rules.MediaDuration && f.Where.Contains("track 2", StringComparison.Ordinal));
    }

    [Fact]
    public void At_a_session_start_audio_may_begin_with_the_first_picture_but_not_later_and_not_in_later_segments()
    {
        // Video decodes from 0 and shows its first picture two frames later (B-frames); the sound begins with the picture.
        var capture = Hls(Media(0));
        capture.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
        capture.Bodies["e-0.m4s"] = [.. Fragment(1, 0, Repeat(3000, 30), firstComposition: 6000), .. Fragment(2, 3200, Repeat(1024, 44))];
        capture.Bodies["e-1.m4s"] = [.. Fragment(1, 90000, Repeat(3000, 30)), .. Fragment(2, 48256, Repeat(1024, 44))];
        var findings = Run(capture).Where(f => f.Rule == Rules.MediaDuration).ToList();
        Assert.DoesNotContain(findings, f => f.Where.Contains("segment 0 ", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Where.Contains("segment 1 (e-1.m4s) track 2", StringComparison.Ordinal)); // no session start there

        var late = Hls(Media(0));
        late.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
        late.Bodies["e-0.m4s"] = [.. Fragment(1, 0, Repeat(3000, 30), firstComposition: 6000), .. Fragment(2, 9600, Repeat(1024, 37))]; // 200 ms in
        Assert.Contains(Run(late), f => f.Rule == Rules.MediaDuration && f.Where.Contains("segment 0 (e-0.m4s) track 2", StringComparison.Ordinal));
    }

    [Fact]
    public void At_a_session_end_audio_may_stop_before_the_video_in_its_last_part_but_not_run_past_it_or_stop_early_elsewhere()
    {
        // Segment 5 is the session's last (a discontinuity follows): its video lasts 1 s, its sound stops 0.147 s before.
        string ended = Media(5).Replace("#EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:01.000Z", "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:01.000Z", StringComparison.Ordinal);
        HlsCapture Capture(string playlist, int firstPartFrames, int secondPartFrames)
        {
            var capture = Hls(playlist);
            capture.Bodies["e-init1.mp4"] = Init(AvcTrak(1), AacTrak(2));
            byte[] first = [.. Fragment(1, 90000, Repeat(3000, 15)), .. Fragment(2, 48000, Repeat(1024, firstPartFrames))];
            byte[] second = [.. Fragment(1, 135000, Repeat(3000, 15)), .. Fragment(2, 48000 + ((ulong)firstPartFrames * 1024), Repeat(1024, secondPartFrames))];
            capture.Bodies["e-5.0.m4s"] = first;
            capture.Bodies["e-5.1.m4s"] = second;
            capture.Bodies["e-5.m4s"] = [.. first, .. second];
            return capture;
        }

        Assert.DoesNotContain(Run(Capture(ended, 23, 17)), f => f.Rule == Rules.MediaDuration);

        var elsewhere = Run(Capture(ended, 17, 23)).Where(f => f.Rule == Rules.MediaDuration).ToList();
        var early = Assert.Single(elsewhere);
        Assert.StartsWith("test part 5.0 (e-5.0.m4s) track 2", early.Where, StringComparison.Ordinal); // a later part still holds sound

        var past = Run(Capture(ended, 23, 27)).Where(f => f.Rule == Rules.MediaDuration).Select(f => f.Where).ToList();
        Assert.Contains(past, w => w.StartsWith("test segment 5 (e-5.m4s) track 2", StringComparison.Ordinal));
        Assert.Contains(past, w => w.StartsWith("test part 5.1 (e-5.1.m4s) track 2", StringComparison.Ordinal));

        var goesOn = Run(Capture(Media(5), 23, 17)).Where(f => f.Rule == Rules.MediaDuration).Select(f => f.Where).ToList();
        Assert.Contains(goesOn, w => w.StartsWith("test segment 5 (e-5.m4s) track 2", StringComparison.Ordinal)); // no session end there
        Assert.Contains(goesOn, w => w.StartsWith("test part 5.1 (e-5.1.m4s) track 2", StringComparison.Ordinal));
    }

    [Fact]
    public void Audio_pes_times_one_frame_apart_pass_and_a_short_step_or_a_pcr_going_back_is_found()
    {
        var capture = new HlsCapture("ts", cmaf: false);
        capture.Playlists.Add(Media(5).Replace(".m4s", ".ts"));
        capture.Bodies["e-5.ts"] = Ts([0, 1920, 3840], [0, 300, 600]);
        capture.Bodies["e-6.ts"] = Ts([5760, 7680], [900, 1200]);
        Assert.DoesNotContain(Run(capture), f => f.Rule is Rules.TsAudioStep or Rules.PcrBack or Rules.TsSyntax);

        capture.Bodies["e-6.ts"] = Ts([5730, 7650], [900, 600]);
        var findings = Run(capture);
        Assert.Contains(findings, f => f.Rule == Rules.TsAudioStep && f.Detail == "PTS 5730 is 1890 ticks after the PES before (segment 5 (e-5.ts) audio PES 2, PTS 3840, 1 AAC frame(s) at 48000 Hz), which lasts 1920 ticks (-0.333 ms)");
        Assert.Contains(findings, f => f.Rule == Rules.PcrBack && f.Detail.StartsWith("PCR 600 (27 MHz) after 900", StringComparison.Ordinal));
    }

    private const string Mpd = """
        <?xml version="1.0" encoding="utf-8"?>
        <MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-12-04T10:00:00.000Z" publishTime="{PUBLISH}" timeShiftBufferDepth="PT6S">
          <Period id="0" start="PT0S">
            <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4">
              <Representation id="1" bandwidth="32000" codecs="mp4a.40.2" audioSamplingRate="48000">
                <SegmentTemplate timescale="48000" initialization="a-init.mp4" media="a-$Time$.m4s">
                  <SegmentTimeline>
                    <S t="48000" d="48128" r="1"/>
                    <S t="{T3}" d="48128"/>
                  </SegmentTimeline>
                </SegmentTemplate>
              </Representation>
            </AdaptationSet>
          </Period>
        </MPD>
        """;

    private static DashCapture Dash(string publish = "2026-12-04T10:00:04.500Z", string t3 = "144256")
    {
        var capture = new DashCapture("dash");
        capture.Manifests.Add(Mpd.Replace("{PUBLISH}", publish).Replace("{T3}", t3));
        capture.Bodies["a-init.mp4"] = Init(AacTrak(1));
        capture.Bodies["a-48000.m4s"] = Fragment(1, 48000, Repeat(1024, 47));
        capture.Bodies["a-96128.m4s"] = Fragment(1, 96128, Repeat(1024, 47));
        return capture;
    }

    private List<Finding> Run(DashCapture capture)
    {
        var findings = Validator.CheckDash(capture);
        output.WriteLine(Validator.Report(findings));
        return findings;
    }

    [Fact]
    public void A_dash_timeline_that_follows_its_track_has_no_finding()
    {
        Assert.Empty(Run(Dash()));
    }

    [Fact]
    public void A_dash_timeline_with_a_gap_a_publish_time_before_its_end_and_an_s_unlike_its_tfdt_is_found()
    {
        var capture = Dash(publish: "2026-12-04T10:00:03.500Z", t3: "144300");
        capture.Bodies["a-96128.m4s"] = Fragment(1, 96100, Repeat(1024, 47));
        capture.Manifests.Add(capture.Manifests[0].Replace("T10:00:00.000Z", "T10:00:00.010Z").Replace("t=\"48000\" d=\"48128\" r=\"1\"", "t=\"0\" d=\"48128\" r=\"1\""));
        var findings = Run(capture);
        Assert.Contains(findings, f => f.Rule == Rules.TimelineContiguous && f.Detail == "<S t=\"144300\"> where the S before it ends at 144256 (+44 ticks)");
        Assert.Contains(findings, f => f.Rule == Rules.PublishTime && f.Detail.StartsWith("publishTime 10:00:03.500 precedes the end of the last <S t=\"144300\" d=\"48128\">", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.TimelineMedia && f.Detail.StartsWith("S@t=96128 says 2.002667 s where the fragment's tfdt 96100 is 2.002083 s", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.DashStable && f.Detail == "availabilityStartTime=\"2026-12-04T10:00:00.010Z\", \"2026-12-04T10:00:00.000Z\" in the reload before");
        Assert.Contains(findings, f => f.Rule == Rules.TimelineSliding && f.Detail == "the timeline begins at t=0, at t=48000 in a reload before");
    }

    [Fact]
    public void A_dash_segment_outside_the_time_shift_window_is_found()
    {
        var findings = Run(Dash(publish: "2026-12-04T10:00:08.500Z"));
        Assert.Contains(findings, f => f.Rule == Rules.TimelineWindow && f.Detail.StartsWith("<S t=\"48000\" d=\"48128\"> ends at 10:00:02.002, before publishTime 10:00:08.500", StringComparison.Ordinal));
        Assert.DoesNotContain(findings, f => f.Rule == Rules.TimelineWindow && f.Detail.Contains("t=\"96128\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Progressive_fmp4_with_a_gap_is_found_and_without_it_is_not()
    {
        byte[] good = [.. Init(AvcTrak(1), AacTrak(2)), .. Fragment(1, 0, [3000]), .. Fragment(2, 0, [1024]), .. Fragment(1, 3000, [3000]), .. Fragment(2, 1024, [1024])];
        Assert.Empty(Validator.CheckProgressive("mp4", good));
        byte[] bad = [.. Init(AvcTrak(1), AacTrak(2)), .. Fragment(1, 0, [3000]), .. Fragment(2, 0, [1024]), .. Fragment(1, 3003, [3000]), .. Fragment(2, 1024, [1056])];
        var findings = Validator.CheckProgressive("mp4", bad);
        output.WriteLine(Validator.Report(findings));
        Assert.Contains(findings, f => f.Rule == Rules.TfdtContiguous && f.Detail.EndsWith("a gap of 3 ticks (+0.033 ms)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Rule == Rules.AudioDuration && f.Detail.StartsWith("sample duration 1056 ", StringComparison.Ordinal));
    }

    [Fact]
    public void An_hls_date_that_is_not_the_dash_start_plus_s_at_t_is_found()
    {
        var hls = Hls(Media(5));
        hls.Bodies["e-init1.mp4"] = Init(AacTrak(1));
        hls.Bodies["e-5.m4s"] = Fragment(1, 48000, Repeat(1024, 47));
        hls.Bodies["e-6.m4s"] = Fragment(1, 96128, Repeat(1024, 47));
        var findings = Validator.CheckHlsAgainstDash(hls, Dash());
        output.WriteLine(Validator.Report(findings));
        // 10:00:00 + 96128/48000 s = 10:00:02.002 where segment 6 says 10:00:01.000; segment 5 (t=48000, 10:00:01) says 10:00:00.000.
        Assert.Equal(2, findings.Count(f => f.Rule == Rules.HlsDashDate));
        Assert.Contains(findings, f => f.Detail.StartsWith("PROGRAM-DATE-TIME 10:00:01.000 where availabilityStartTime 2026-12-04T10:00:00.000Z + Period start 0 s + (96128 - 0) / 48000 = 10:00:02.002", StringComparison.Ordinal));
    }

    /// <summary>The MPD above with a second Period, from 10:00:05, whose audio goes on at t=240000 (presentationTimeOffset 240000).</summary>
    private static DashCapture TwoPeriods(string secondStart = "PT5S")
    {
        var capture = Dash(publish: "2026-12-04T10:00:06.100Z");
        string second = $"""
              <Period id="1" start="{secondStart}">
                <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4">
                  <Representation id="1" bandwidth="32000" codecs="mp4a.40.2" audioSamplingRate="48000">
                    <SegmentTemplate timescale="48000" presentationTimeOffset="240000" initialization="a-init.mp4" media="a-$Time$.m4s">
                      <SegmentTimeline>
                        <S t="240000" d="48128"/>
                      </SegmentTimeline>
                    </SegmentTemplate>
                  </Representation>
                </AdaptationSet>
              </Period>
            </MPD>
            """;
        capture.Manifests[0] = capture.Manifests[0].Replace("</MPD>", second.TrimStart(), StringComparison.Ordinal);
        capture.Bodies["a-240000.m4s"] = Fragment(1, 240000, Repeat(1024, 47));
        return capture;
    }

    [Fact]
    public void A_second_period_after_the_first_with_its_own_offset_has_no_finding_and_one_that_moves_or_overlaps_is_found()
    {
        Assert.Empty(Run(TwoPeriods()));

        var moved = TwoPeriods();
        moved.Manifests.Add(moved.Manifests[0].Replace("start=\"PT5S\"", "start=\"PT5.5S\"", StringComparison.Ordinal));
        Assert.Contains(Run(moved), f => f.Rule == Rules.DashStable && f.Detail == "Period 1 start=\"PT5.5S\", \"PT5S\" in the reload before");

        // The first Period's media ends at 10:00:04.008 (t=144256 + 48128 at 48 kHz): a Period from 10:00:04 overlaps it.
        var overlapping = TwoPeriods(secondStart: "PT4S");
        Assert.Contains(Run(overlapping), f => f.Rule == Rules.DashPeriods && f.Detail.StartsWith("Period 0's media ends at 10:00:04.008, after Period 1 starts (10:00:04.000", StringComparison.Ordinal));
    }
}
