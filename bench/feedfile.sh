#!/usr/bin/env bash
# Feed-file ingest benchmark: server CPU per ingested Mbit/s of a 20 Mbit/s H.264 + AAC feed, with and without a
# feed file (`File` + `FileMaxSize`), servers run one after the other, alternating. On loopback. See bench/README.md.
#
#   bench/feedfile.sh [--seconds 30] [--warmup 10] [--runs 2] [--file-max-size 64M] [--out FILE]
set -euo pipefail

SECONDS_PER_RUN=30
WARMUP=10
RUNS=2
FILE_MAX_SIZE=64M
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --file-max-size) FILE_MAX_SIZE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        *) echo "feedfile.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATE="$(date -u +%Y-%m-%d)"
if [[ -z "$OUT" ]]; then # never overwrite a run of the same day: -b, -c, ...
    OUT="$REPO/bench/results/feedfile-$DATE.md"
    for s in b c d e f g h i j k l m n o p q r s t u v w x y z; do
        [[ -e "$OUT" ]] || break
        OUT="$REPO/bench/results/feedfile-$DATE-$s.md"
    done
fi
TARGET_PCT=10
RATE=20M
log() { echo "[feedfile $(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites -------------------------------------------------------------------------------
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
if [[ ${#need[@]} -gt 0 ]]; then
    if [[ $(id -u) == 0 ]]; then
        log "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${need[@]}" >&2 \
            || { timeout 300 apt-get update >&2 && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${need[@]}" >&2; }
    else
        echo "feedfile.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2; exit 1
    fi
fi
command -v dotnet >/dev/null || { echo "feedfile.sh: the .NET 10 SDK (dotnet) is needed" >&2; exit 1; }

# ---- cleanup: every process started here is killed on exit ------------------------------------
TMP="$(mktemp -d /tmp/sluice-feedfile.XXXXXX)"
PIDS=()
stop_pid() { # stop_pid PID: TERM, at most 5 s, then KILL
    kill -TERM "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ $rc != 0 ]]; then log "failed (exit $rc); logs in $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() { # start NAME LOGFILE CMD...: run in the background, remember its pid in $STARTED
    local name="$1" logfile="$2"; shift 2
    "$@" >"$logfile" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED")
    log "started $name (pid $STARTED)"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- build and source ----------------------------------------------------------------------------
log "building Sluice (Release)"
timeout 600 dotnet build "$REPO/src/Sluice/Sluice.csproj" -c Release -o "$TMP/sluice" -nologo -v q >"$TMP/build.log" 2>&1 \
    || { cat "$TMP/build.log" >&2; exit 1; }

# Pre-encoded once, then published with -re -c copy: the publisher costs little, so the server's share shows.
SOURCE_SECONDS=$((WARMUP + SECONDS_PER_RUN + 15))
log "encoding ${SOURCE_SECONDS} s of 1280x720 30 fps H.264 at $RATE + AAC"
timeout 900 ffmpeg -hide_banner -loglevel error -nostdin \
    -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" -t "$SOURCE_SECONDS" \
    -c:v libx264 -preset ultrafast -tune zerolatency -b:v "$RATE" -maxrate "$RATE" -bufsize "$RATE" -g 60 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -ac 2 -f matroska -y "$TMP/source.mkv"
SOURCE_KBPS="$(python3 -c "import os; print(round(os.path.getsize('$TMP/source.mkv') * 8 / $SOURCE_SECONDS / 1000))")"
log "source: $SOURCE_KBPS kbit/s on average"

# ---- one run -------------------------------------------------------------------------------------
# sample.py PID STATURL WARMUP SECONDS: after the warm-up, the server's utime/stime and the feed's bytes received
# over the window (from stat.json), its RSS sampled every 0.5 s; one JSON line.
cat >"$TMP/sample.py" <<'PY'
import json, os, sys, time, urllib.request
pid, url, warmup, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
hz = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]), int(f[12])
def writer():  # the feed file's own thread ("feed file <feed>", 15 characters in comm): user and system ticks
    for t in os.listdir(f"/proc/{pid}/task"):
        if open(f"/proc/{pid}/task/{t}/comm").read().startswith("feed file"):
            f = open(f"/proc/{pid}/task/{t}/stat").read().rsplit(")", 1)[1].split()
            return int(f[11]), int(f[12])
    return 0, 0
def rss_kib(key="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
def feed():
    s = json.load(urllib.request.urlopen(url, timeout=5))
    f = s["feeds"][0]
    return (f.get("publisher") or {}).get("bytesReceived", 0), f.get("file")
time.sleep(warmup)
b0, _ = feed(); t0 = time.monotonic(); u0, s0 = cpu(); wu0, ws0 = writer()
peak = 0
while time.monotonic() - t0 < seconds:
    time.sleep(0.5)
    peak = max(peak, rss_kib())
u1, s1 = cpu(); wu1, ws1 = writer(); t1 = time.monotonic(); b1, file = feed()
wall = t1 - t0
mbps = (b1 - b0) * 8 / wall / 1e6
user, system = (u1 - u0) / hz / wall * 100, (s1 - s0) / hz / wall * 100
print(json.dumps({"wall": round(wall, 2), "mbps": round(mbps, 3), "user": round(user, 2), "system": round(system, 2),
                  "cpu": round(user + system, 2), "per_mbps": round((user + system) / mbps, 4),
                  "writer_user": round((wu1 - wu0) / hz / wall * 100, 2), "writer_system": round((ws1 - ws0) / hz / wall * 100, 2),
                  "rss_mib": round(rss_kib() / 1024, 1), "rss_peak_mib": round(peak / 1024, 1),
                  "bytes_total": b1, "file": file}))
PY

run() { # run with|without N: one server, one publisher, one sample; appends a JSON line to $RESULTS
    local mode="$1" n="$2" port; port="$(free_port)"
    local dir="$TMP/run-$n-$mode"; mkdir -p "$dir"
    local file_lines="FileMaxSize 16M"  # without a file: the in-memory ring, as big as the one a file leaves (16 MiB)
    [[ $mode == with ]] && file_lines="File $dir/feed.sff
FileMaxSize $FILE_MAX_SIZE"
    cat >"$dir/sluice.conf" <<EOF
HTTPPort $port
HTTPBindAddress 127.0.0.1
MaxBandwidth 1000000
<Feed feed.ffm>
$file_lines
ACL allow 127.0.0.1
</Feed>
<Stream live.ts>
Format mpegts
Feed feed.ffm
</Stream>
<Stream stat.html>
Format status
</Stream>
EOF
    start "sluice ($mode file, run $n)" "$dir/server.log" dotnet "$TMP/sluice/sluice.dll" --config "$dir/sluice.conf" --port "$port"
    local server=$STARTED
    for _ in $(seq 300); do grep -q "serving on" "$dir/server.log" && break; kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    grep -q "serving on" "$dir/server.log" || { cat "$dir/server.log" >&2; log "the server did not start"; exit 1; }
    start "publisher" "$dir/publisher.log" ffmpeg -hide_banner -loglevel error -nostdin -re -i "$TMP/source.mkv" -c copy \
        -f matroska -flush_packets 1 "http://127.0.0.1:$port/feed.ffm"
    local publisher=$STARTED
    log "run $n, $mode file: ${WARMUP} s warm-up, ${SECONDS_PER_RUN} s measured; load $(cut -d' ' -f1-3 /proc/loadavg)"
    timeout $((WARMUP + SECONDS_PER_RUN + 30)) python3 "$TMP/sample.py" "$server" "http://127.0.0.1:$port/stat.json" \
        "$WARMUP" "$SECONDS_PER_RUN" >"$dir/sample.json" || { log "sampling failed"; tail -20 "$dir/server.log" "$dir/publisher.log" >&2; exit 1; }
    kill -0 "$publisher" 2>/dev/null || { log "the publisher ended early"; cat "$dir/publisher.log" >&2; exit 1; }
    local size="-"; [[ $mode == with ]] && size="$(stat -c %s "$dir/feed.sff")"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.update(run=int(sys.argv[2]), mode=sys.argv[3], file_size=None if sys.argv[4]=='-' else int(sys.argv[4])); print(json.dumps(d))" \
        "$dir/sample.json" "$n" "$mode" "$size" >>"$RESULTS"
    log "run $n, $mode file: $(tail -1 "$RESULTS" | cut -c1-220)"
    stop_pid "$publisher"; stop_pid "$server"
    rm -f "$dir/feed.sff"
}

RESULTS="$TMP/results.jsonl"; : >"$RESULTS"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for n in $(seq "$RUNS"); do
    run without "$n"
    run with "$n"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report ---------------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
{
    echo "# Feed-file ingest, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr); load $LOAD_BEFORE before, $LOAD_AFTER after (1, 5, 15 min)."
    echo "Versions: Sluice $(git -C "$REPO" rev-parse --short HEAD) (src/ as of $(git -C "$REPO" log -1 --format=%h -- src)), .NET $(dotnet --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)."
    echo "Feed: ${SOURCE_SECONDS} s of testsrc2 1280x720 30 fps, libx264 ultrafast zerolatency -b:v $RATE -maxrate $RATE -bufsize $RATE -g 60, AAC 128k"
    echo "(${SOURCE_KBPS} kbit/s on average), pre-encoded once and published with \`ffmpeg -re -c copy -f matroska\` to \`/feed.ffm\`."
    echo "One stream (\`Format mpegts\`, no codec directives: pass-through), no viewers. Without a file the feed has \`FileMaxSize 16M\`"
    echo "(its in-memory ring); with one, \`File\` + \`FileMaxSize $FILE_MAX_SIZE\` (the in-memory ring is then 16 MiB as well)."
    echo "The file is on $(df -T "$TMP" | awk 'NR==2 {print $2}') ($TMP). Each run: a new server, ${WARMUP} s from the publisher's start, then ${SECONDS_PER_RUN} s measured; runs alternate without / with."
    echo "CPU: the server's utime and stime over the window (/proc/PID/stat; the file's writer thread from /proc/PID/task/TID/stat), % of one core; Mbit/s: the feed's bytes received (stat.json) over the window."
    echo
    python3 - "$RESULTS" "$FILE_MAX_SIZE" "$TARGET_PCT" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
max_size, target = sys.argv[2], float(sys.argv[3])
mult = {"K": 1024, "M": 1024**2, "G": 1024**3}
limit = int(max_size[:-1]) * mult[max_size[-1].upper()] if max_size[-1].upper() in mult else int(max_size)
print("| run | file | ingested Mbit/s | server CPU % | user % | system % | CPU % per Mbit/s | file writer thread user / system % | RSS MiB (peak) | file size MiB | wrapped (received > FileMaxSize) | queue dropped |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
for r in rows:
    f = r.get("file")
    size = "-" if r["file_size"] is None else f"{r['file_size'] / 1048576:.1f}"
    # the file holds every byte received and a 64-byte header a packet: more received than FileMaxSize means it wrapped
    wrapped = "-" if not f else ("yes" if r["bytes_total"] > limit else "no")
    dropped = "-" if not f else f["queueDropped"]
    thread = "-" if not f else f"{r['writer_user']:.2f} / {r['writer_system']:.2f}"
    print(f"| {r['run']} | {r['mode']} | {r['mbps']:.2f} | {r['cpu']:.2f} | {r['user']:.2f} | {r['system']:.2f} | {r['per_mbps']:.3f} | {thread} | {r['rss_mib']:.1f} ({r['rss_peak_mib']:.1f}) | {size} | {wrapped} | {dropped} |")
print()
per = {m: [r["per_mbps"] for r in rows if r["mode"] == m] for m in ("without", "with")}
mean = {m: statistics.mean(v) for m, v in per.items()}
ratio = mean["with"] / mean["without"]
pairs = [w / wo for wo, w in zip(per["without"], per["with"])]
print(f"- CPU % per ingested Mbit/s, mean: without a file {mean['without']:.3f}, with {mean['with']:.3f}; "
      f"with ÷ without {ratio:.3f} ({(ratio - 1) * 100:+.1f} %); run by run: {', '.join(f'{p:.3f}' for p in pairs)}")
sizes = [r["file_size"] for r in rows if r["file_size"] is not None]
print(f"- File size at the end: at most {max(sizes)} bytes, FileMaxSize {limit}: {'within' if max(sizes) <= limit else 'ABOVE'}")
met = (ratio - 1) * 100 < target
print(f"- Target: < {target:g} % more CPU per ingested Mbit/s with the file: {'met' if met else 'NOT met'} ({(ratio - 1) * 100:+.1f} %)")
PY
    echo
    echo "<details><summary>raw result lines</summary>"
    echo
    echo '```json'
    cat "$RESULTS"
    echo '```'
    echo "</details>"
} >"$TMP/report.md"
cp "$TMP/report.md" "$OUT"
cat "$TMP/report.md"
log "written to $OUT"
