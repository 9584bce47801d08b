#!/usr/bin/env bash
# HLS benchmark: N simulated HLS players against nginx serving nginx-rtmp's HLS and against Sluice, one server
# at a time in the same run, on loopback; then glass-to-glass latency of each in headless Chromium (hls.js).
# See bench/README.md, section "HLS".
#
#   bench/hls.sh [--players 2000] [--seconds 60] [--only nginx|sluice] [--ramp-seconds R]
#                [--latency-seconds 20] [--latency-joins 4] [--no-latency] [--out FILE]
set -euo pipefail

# ---- Sluice's HLS settings: the one place to tune them --------------------------------------------
# Lines added inside <Stream live> of the bench config. The stream is served as HLS at /live/index.m3u8 (and DASH
# at /live/manifest.mpd); put segment/part durations, playlist length, LL-HLS switches here once the directives
# exist (docs/configuration.md will name them). Empty: Sluice's defaults. SLUICE_HLS_DIRECTIVES overrides it.
SLUICE_HLS_TUNING="${SLUICE_HLS_DIRECTIVES:-}"

PLAYERS=2000
SECONDS_PER_RUN=60
ONLY=""
RAMP=""
LATENCY_SECONDS=20
LATENCY_JOINS=4
LATENCY=1
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --players) PLAYERS="$2"; shift 2 ;;
        --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --ramp-seconds) RAMP="$2"; shift 2 ;;
        --latency-seconds) LATENCY_SECONDS="$2"; shift 2 ;;
        --latency-joins) LATENCY_JOINS="$2"; shift 2 ;;
        --no-latency) LATENCY=0; shift ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "hls.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ONLY" in ""|sluice|nginx) ;; *) echo "hls.sh: --only nginx|sluice" >&2; exit 2 ;; esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
DATE="$(date -u +%Y-%m-%d)"
[[ -n "$OUT" ]] || OUT="$BENCH/results/hls-$DATE.md"
SERVERS=()
[[ "$ONLY" != sluice ]] && SERVERS+=(nginx)
[[ "$ONLY" != nginx ]] && SERVERS+=(sluice)
RTMP_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so

log() { echo "[hls $(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites -------------------------------------------------------------------------------
# shellcheck source=../scripts/lib/deps.sh
source "$REPO/scripts/lib/deps.sh"
pkgs=(ffmpeg:ffmpeg curl:curl)
[[ " ${SERVERS[*]} " == *" nginx "* ]] && pkgs+=(nginx:nginx)
[[ $LATENCY == 1 ]] && pkgs+=(chromium:chromium node:nodejs npm:npm)
ensure_packages "${pkgs[@]}"
if [[ " ${SERVERS[*]} " == *" nginx "* && ! -f $RTMP_MODULE ]]; then
    [[ $(id -u) == 0 ]] || { echo "hls.sh: missing libnginx-mod-rtmp; install it (apt-get install libnginx-mod-rtmp) or run as root" >&2; exit 1; }
    log "installing libnginx-mod-rtmp"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends libnginx-mod-rtmp >/dev/null \
        || { timeout 300 apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends libnginx-mod-rtmp >/dev/null; }
fi
ensure_dotnet
if [[ $LATENCY == 1 ]]; then
    log "installing the latency page's npm packages (bench/latency)"
    (cd "$BENCH/latency" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# Every player holds a connection in the load generator and one in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"

# ---- cleanup: every process started here is stopped on exit --------------------------------------
TMP="$(mktemp -d /tmp/sluice-hls.XXXXXX)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all
    if [[ $rc != 0 ]]; then log "failed (exit $rc); logs in $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
stop_all() {
    local pid alive
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    PIDS=()
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

waited() { # waited OUT ERR CMD...: run CMD in the background and wait for it, so that Ctrl-C stops it at once
    local out="$1" err="$2" pid p rc=0 keep=(); shift 2
    "$@" >"$out" 2>"$err" &
    pid=$!
    PIDS+=("$pid")
    wait "$pid" || rc=$?
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
    return "$rc"
}

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if [[ -z "$(ss -Htln "sport = :$p")" ]]; then echo "$p"; return; fi
    done
    echo "hls.sh: no free port" >&2; return 1
}

status_of() { curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$1" || true; }

# media_playlist URL: the media playlist URL behind URL (its first variant if URL is a multivariant playlist)
media_playlist() {
    local url="$1" body uri
    body="$(curl -sf --max-time 3 "$url")" || return 1
    if grep -q '^#EXT-X-STREAM-INF' <<<"$body"; then
        uri="$(awk '/^#EXT-X-STREAM-INF/ {getline; print; exit}' <<<"$body" | tr -d '\r')"
        case "$uri" in
            http://*) echo "$uri" ;;
            /*) echo "$(sed -E 's#^(http://[^/]+).*#\1#' <<<"$url")$uri" ;;
            *) echo "${url%/*}/$uri" ;;
        esac
    else
        echo "$url"
    fi
}

# wait_segments URL N TIMEOUT_S: until the media playlist behind URL lists at least N segments. Gives up early
# (after 15 s) when the entry URL has answered nothing but 404 or 503 all along: no HLS there.
wait_segments() {
    local url="$1" want="$2" start=$SECONDS deadline=$((SECONDS + $3)) media n code seen_other=0
    while [[ $SECONDS -lt $deadline ]]; do
        if media="$(media_playlist "$url")"; then
            seen_other=1
            n="$(curl -sf --max-time 3 "$media" | grep -c '^#EXTINF' || true)"
            [[ "${n:-0}" -ge "$want" ]] && return 0
        else
            code="$(status_of "$url")"
            [[ $code == 404 || $code == 503 ]] || seen_other=1
            [[ $seen_other == 0 && $((SECONDS - start)) -ge 15 ]] && return 1
        fi
        sleep 1
    done
    return 1
}

# publisher_clock SERVER: "wall-clock ms, media µs the publisher has written" (ffmpeg -progress, every 0.5 s)
publisher_clock() {
    echo "$(date +%s%3N) $(grep -o '^out_time_us=[0-9]*' "$TMP/$1-progress.txt" 2>/dev/null | tail -1 | cut -d= -f2)"
}

# pace BEFORE AFTER: media time the publisher wrote ÷ wall time between two publisher_clock readings
pace() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
        if (y[1] > x[1] && x[2] != "" && y[2] != "") printf "%.3f", (y[2] - x[2]) / 1000 / (y[1] - x[1]); else printf "n/a" }'
}

wait_drained() { # wait_drained PORT: until fewer than 10 connections to PORT remain (at most 20 s)
    local deadline=$((SECONDS + 20)) n=0
    while [[ $SECONDS -lt $deadline ]]; do
        n="$(ss -Htn state established "( sport = :$1 )" | wc -l)"
        [[ "$n" -lt 10 ]] && return 0
        sleep 1
    done
    log "warning: $n connections to port $1 still open after 20 s"
}

# ---- the publisher: one source, the wall clock burnt into its picture ----------------------------
# testsrc2 1280x720 25 fps with the top 64 rows replaced by the clock (bench/latency/clock.js: 40 blocks of 32x32,
# wall-clock ms mod 2^40 and its complement), set from RTCTIME as each frame enters the filter graph; H.264 veryfast
# zerolatency 1.5 Mbit/s with a keyframe every 2 s (50 frames), AAC 96k.
BIT='255*mod(floor(floor(T*1000+0.5)/pow(2,39-floor(X/32))),2)'
CLOCK_FILTER="[0:v]settb=1/1000,setpts=RTCTIME/1000,split[m][s];[s]crop=1280:64:0:0,format=gray,geq=lum='if(lt(Y,32),$BIT,255-$BIT)',format=yuv420p[c];[m][c]overlay=0:0,setpts=N/(25*TB)[v]"
PUBLISH_ARGS=(-hide_banner -loglevel error -nostats
    -re -f lavfi -i testsrc2=size=1280x720:rate=25 -re -f lavfi -i sine=frequency=440:sample_rate=48000
    -filter_complex "$CLOCK_FILTER" -map '[v]' -map 1:a
    -c:v libx264 -preset veryfast -tune zerolatency -profile:v main -pix_fmt yuv420p
    -g 50 -keyint_min 50 -sc_threshold 0 -b:v 1500k -maxrate 1500k -bufsize 1500k
    -c:a aac -b:a 96k -ar 48000 -ac 2)

if [[ $LATENCY == 1 ]]; then
    log "checking the burnt-in clock on a local file"
    t0="$(date +%s%3N)"
    timeout 60 ffmpeg "${PUBLISH_ARGS[@]}" -t 2 -f mpegts -y "$TMP/clock.ts"
    t1="$(date +%s%3N)"
    ffmpeg -hide_banner -loglevel error -y -i "$TMP/clock.ts" -vf "select=eq(n\,25)" -frames:v 1 "$TMP/clock.png"
    ffmpeg -hide_banner -loglevel error -y -i "$TMP/clock.png" -f rawvideo -pix_fmt gray "$TMP/clock.gray"
    CLOCK_CHECK="$(node "$BENCH/latency/check-clock.mjs" "$TMP/clock.gray" 1280 "$t0" "$t1")" \
        || { log "the clock burnt into the picture did not read back: $CLOCK_CHECK"; exit 1; }
    log "clock read back from frame 25 of a 2 s encode: $CLOCK_CHECK"
fi

# ---- builds ---------------------------------------------------------------------------------------
log "building the load generator"
timeout 600 dotnet build "$BENCH/Sluice.LoadGen/Sluice.LoadGen.csproj" -c Release -o "$TMP/loadgen" -nologo -v q >"$TMP/build-loadgen.log" 2>&1 \
    || { cat "$TMP/build-loadgen.log" >&2; exit 1; }
LOADGEN=(dotnet "$TMP/loadgen/sluice-loadgen.dll")
if [[ " ${SERVERS[*]} " == *" sluice "* ]]; then
    log "building Sluice (Release)"
    timeout 600 dotnet build "$REPO/src/Sluice/Sluice.csproj" -c Release -o "$TMP/sluice" -nologo -v q >"$TMP/build-sluice.log" 2>&1 \
        || { cat "$TMP/build-sluice.log" >&2; exit 1; }
fi

# ---- servers --------------------------------------------------------------------------------------
# start_nginx: nginx in the foreground (its pid is the master), RTMP ingest with nginx-rtmp's HLS writer, and the
# HLS folder served over HTTP. hls_nested puts the stream at /live/index.m3u8, the same entry URL as Sluice's.
start_nginx() {
    local rport hport
    rport="$(free_port)"; hport="$(free_port)"
    mkdir -p "$TMP/nginx/hls" "$TMP/nginx/tmp"
    # Workers run as nobody when nginx starts as root; they write the HLS files.
    [[ $(id -u) == 0 ]] && chown -R nobody:nogroup "$TMP/nginx/hls" "$TMP/nginx/tmp"
    cat >"$TMP/nginx/nginx.conf" <<EOF
load_module $RTMP_MODULE;
daemon off;
master_process on;
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 16384; }
rtmp {
    server {
        listen 127.0.0.1:$rport;
        application live {
            live on;
            hls on;
            hls_path $TMP/nginx/hls;
            hls_nested on;
            hls_fragment 2s;
            hls_playlist_length 30s;
        }
    }
}
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
    server {
        listen 127.0.0.1:$hport backlog=4096;
        root $TMP/nginx/hls;
        location ~ \.m3u8\$ { add_header Cache-Control no-cache; }
    }
}
EOF
    start nginx "$TMP/nginx.log" /usr/sbin/nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"
    SERVER_PID=$STARTED
    SERVER_PORT=$hport
    local deadline=$((SECONDS + 20))
    until [[ -n "$(ss -Htln "sport = :$rport")" ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/nginx.log" "$TMP/nginx/error.log" >&2 || true; exit 1; }
        [[ $SECONDS -lt $deadline ]] || { log "nginx did not listen within 20 s"; exit 1; }
        sleep 0.2
    done
    start nginx-publisher "$TMP/nginx-publisher.log" ffmpeg "${PUBLISH_ARGS[@]}" -progress "$TMP/nginx-progress.txt" \
        -f flv "rtmp://127.0.0.1:$rport/live/live"
    PUBLISHER_PID=$STARTED
    ENTRY="http://127.0.0.1:$hport/live/index.m3u8"
}

# start_sluice: the smallest config that has an HLS-able stream: an MPEG-TS feed POSTed by ffmpeg, one stream of it.
start_sluice() {
    local port
    port="$(free_port)"
    cat >"$TMP/sluice.conf" <<EOF
HTTPPort $port
HTTPBindAddress 127.0.0.1
MaxClients 20000
MaxHTTPConnections 20000
MaxClientsPerAddress 20000
MaxBandwidth 10000000
<Feed live.ffm>
ACL allow 127.0.0.1
</Feed>
<Stream live>
Feed live.ffm
Format mpegts
$SLUICE_HLS_TUNING
</Stream>
EOF
    start sluice "$TMP/sluice.log" dotnet "$TMP/sluice/sluice.dll" --config "$TMP/sluice.conf" --port "$port"
    SERVER_PID=$STARTED
    SERVER_PORT=$port
    local deadline=$((SECONDS + 30))
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/sluice.log" >&2; exit 1; }
        [[ $SECONDS -lt $deadline ]] || { log "Sluice did not answer within 30 s"; cat "$TMP/sluice.log" >&2; exit 1; }
        sleep 0.5
    done
    start sluice-publisher "$TMP/sluice-publisher.log" ffmpeg "${PUBLISH_ARGS[@]}" -progress "$TMP/sluice-progress.txt" \
        -f mpegts "http://127.0.0.1:$port/live.ffm"
    PUBLISHER_PID=$STARTED
    ENTRY="http://127.0.0.1:$port/live/index.m3u8"
}

# ---- runs -----------------------------------------------------------------------------------------
RESULTS="$TMP/results.jsonl"
LATENCIES="$TMP/latency.jsonl"
: >"$RESULTS"; : >"$LATENCIES"
declare -A NOTE PLAYLIST_HEAD DASH PACE
UPTIME_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
ramp_args=()
[[ -n "$RAMP" ]] && ramp_args=(--ramp-seconds "$RAMP")

for server in "${SERVERS[@]}"; do
    log "---- $server"
    "start_$server"
    log "$server: publishing; waiting for 3 segments at $ENTRY"
    if ! wait_segments "$ENTRY" 3 45; then
        code="$(status_of "$ENTRY")"
        progressive="$(curl -s -o /dev/null --max-time 3 -w '%{http_code} with %{size_download} bytes in 3 s' "${ENTRY%/index.m3u8}" || true)"
        if [[ $code == 200 ]]; then
            NOTE[$server]="GET /live/index.m3u8 answered 200, but its media playlist did not list 3 segments within 45 s of publishing (GET /live: $progressive)"
        else
            NOTE[$server]="GET /live/index.m3u8 answered ${code/000/no response} while the publisher was on (GET /live: $progressive): no HLS to measure in this build"
        fi
        log "$server: ${NOTE[$server]}"
        if ! kill -0 "$PUBLISHER_PID" 2>/dev/null; then
            log "$server: its publisher has exited:"; tail -5 "$TMP/$server-publisher.log" >&2 || true
        fi
        [[ $server == nginx ]] && { tail -20 "$TMP/nginx/error.log" >&2 || true; exit 1; }
        stop_all
        continue
    fi
    DASH[$server]="$(status_of "${ENTRY%/index.m3u8}/manifest.mpd")"
    MEDIA="$(media_playlist "$ENTRY")"
    playlist="$(curl -sf --max-time 3 "$MEDIA" || true)"
    PLAYLIST_HEAD[$server]="$(head -12 <<<"$playlist")"
    modes=(hls)
    if grep -q '^#EXT-X-PART-INF' <<<"$playlist"; then modes+=(ll); fi
    for mode in "${modes[@]}"; do
        ll=(); [[ $mode == ll ]] && ll=(--ll)
        log "$server: $PLAYERS $mode players for $SECONDS_PER_RUN s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
        clock0="$(publisher_clock "$server")"
        waited "$TMP/run.json" "$TMP/run.txt" env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 timeout $((SECONDS_PER_RUN + 120)) \
            "${LOADGEN[@]}" hls --url "$ENTRY" --players "$PLAYERS" --seconds "$SECONDS_PER_RUN" "${ramp_args[@]}" "${ll[@]}" \
            --server-pid "$SERVER_PID" --label "$server" \
            || { log "load generator failed"; cat "$TMP/run.txt" >&2; exit 1; }
        PACE[$server-$mode]="$(pace "$clock0" "$(publisher_clock "$server")")"
        cat "$TMP/run.txt" >&2
        log "$server: the publisher wrote ${PACE[$server-$mode]} s of media a second during that run (ffmpeg -progress)"
        cat "$TMP/run.json" >>"$RESULTS"
        wait_drained "$SERVER_PORT"
    done
    if [[ $LATENCY == 1 ]]; then
        lmodes=(hls sync1)
        [[ " ${modes[*]} " == *" ll "* ]] && lmodes+=(ll)
        for lmode in "${lmodes[@]}"; do
            log "$server: glass-to-glass latency, hls.js $lmode, $LATENCY_JOINS joins, ${LATENCY_SECONDS} s sampled in all"
            waited "$TMP/g2g.json" "$TMP/g2g.log" timeout $((LATENCY_SECONDS + 180)) \
                node "$BENCH/latency/g2g.mjs" "$ENTRY" "$lmode" "$LATENCY_SECONDS" 3 "$LATENCY_JOINS" || true
            line="$(cat "$TMP/g2g.json")"
            [[ -n "$line" ]] || line="{\"url\":\"$ENTRY\",\"mode\":\"$lmode\",\"errors\":[\"g2g.mjs gave no result (timed out?)\"]}"
            echo "{\"label\":\"$server\",${line#\{}" >>"$LATENCIES"
            log "$server: $line"
        done
    fi
    for p in "$SERVER_PID" "$PUBLISHER_PID"; do
        kill -0 "$p" 2>/dev/null || log "warning: $server (or its publisher, pid $p) had exited before the end"
    done
    if [[ $server == sluice ]]; then
        SLUICE_WARNINGS="$(grep -ciE 'warn|fail|error|exception' "$TMP/sluice.log" || true)"
    fi
    stop_all
done

# ---- report ---------------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
{
    echo "# HLS benchmark, $DATE"
    echo
    echo "Command: \`bench/hls.sh --players $PLAYERS --seconds $SECONDS_PER_RUN${ONLY:+ --only $ONLY}${RAMP:+ --ramp-seconds $RAMP}\`, finished $(date -u +%H:%M) UTC."
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr); load before $UPTIME_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)."
    echo "Versions: Sluice $(git -C "$REPO" rev-parse --short HEAD) (src/ as of $(git -C "$REPO" log -1 --format=%h -- src)), .NET $(dotnet --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $(/usr/sbin/nginx -v 2>&1 | cut -d' ' -f3) with libnginx-mod-rtmp $(dpkg-query -W -f '${Version}' libnginx-mod-rtmp 2>/dev/null || echo n/a), hls.js $(node -p "require('$BENCH/latency/node_modules/hls.js/package.json').version" 2>/dev/null || echo n/a), $(/usr/bin/chromium --version 2>/dev/null || echo 'Chromium n/a'); open files $NOFILE."
    echo "Source: one ffmpeg publisher per server, lavfi testsrc2 1280x720 25 fps with the wall clock burnt in, libx264 veryfast zerolatency 1.5 Mbit/s, keyframe every 2 s, AAC 96k; to nginx-rtmp as RTMP (hls_fragment 2s, hls_playlist_length 30s, hls_nested on), to Sluice as MPEG-TS over HTTP POST."
    [[ -n "${CLOCK_CHECK:-}" ]] && echo "Clock check on a local encode (frame 25 of 2 s, read back from PNG): $CLOCK_CHECK."
    echo
    for server in "${SERVERS[@]}"; do
        [[ -n "${NOTE[$server]:-}" ]] && echo "- **$server: ${NOTE[$server]}.** Its figures are pending."
        [[ -n "${DASH[$server]:-}" ]] && echo "- $server: GET /live/manifest.mpd answered ${DASH[$server]} (DASH is not loaded by this bench)."
        for key in "${!PACE[@]}"; do
            [[ $key == "$server-"* ]] && echo "- $server: its publisher wrote ${PACE[$key]} s of media a second during the ${key#"$server"-} players' run (ffmpeg -progress; below 1 the source itself fell behind real time, and players stall for that)."
        done
    done
    echo
    echo "## Players"
    echo
    if [[ -s "$RESULTS" ]]; then "${LOADGEN[@]}" hls --table "$RESULTS"; else echo "No server had HLS to load."; fi
    if [[ $LATENCY == 1 ]]; then
        echo
        echo "## Glass-to-glass latency (no player load; $LATENCY_SECONDS s sampled in all over $LATENCY_JOINS joins, each after 3 s of playback)"
        echo
        node "$BENCH/latency/table.mjs" "$LATENCIES"
    fi
    echo
    for server in "${SERVERS[@]}"; do
        [[ -n "${PLAYLIST_HEAD[$server]:-}" ]] || continue
        echo "<details><summary>$server: head of its media playlist</summary>"
        echo; echo '```'; echo "${PLAYLIST_HEAD[$server]}"; echo '```'; echo "</details>"
    done
    echo
    echo "<details><summary>raw result lines</summary>"
    echo
    echo '```json'
    cat "$RESULTS" "$LATENCIES"
    echo '```'
    echo "</details>"
} >"$TMP/report.md"
cp "$TMP/report.md" "$OUT"
cat "$TMP/report.md"
log "written to $OUT"
[[ -n "${SLUICE_WARNINGS:-}" ]] && log "Sluice log lines with warn/fail/error: $SLUICE_WARNINGS (log: kept only on failure)"
exit 0
