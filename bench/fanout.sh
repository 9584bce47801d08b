#!/usr/bin/env bash
# Fan-out benchmark: N viewers of a ~640 kbit/s live WebM stream, Sluice and Icecast in the same run,
# on loopback. See bench/README.md.
#
#   bench/fanout.sh [--viewers "100 1000 2000 5000"] [--seconds 20] [--only sluice|icecast]
#                   [--ramp-seconds R] [--out FILE]
set -euo pipefail

VIEWERS="100 1000 2000 5000"
SECONDS_PER_RUN=20
ONLY=""
RAMP=""
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --viewers) VIEWERS="$2"; shift 2 ;;
        --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --ramp-seconds) RAMP="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "fanout.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ONLY" in ""|sluice|icecast) ;; *) echo "fanout.sh: --only sluice|icecast" >&2; exit 2 ;; esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
DATE="$(date -u +%Y-%m-%d)"
[[ -n "$OUT" ]] || OUT="$BENCH/results/fanout-$DATE.md"
WANT_SLUICE=1; WANT_ICECAST=1
[[ "$ONLY" == "icecast" ]] && WANT_SLUICE=0
[[ "$ONLY" == "sluice" ]] && WANT_ICECAST=0

log() { echo "[fanout $(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites -------------------------------------------------------------------------------
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
[[ $WANT_ICECAST == 1 && ! -x /usr/bin/icecast2 ]] && need+=(icecast2)
if [[ ${#need[@]} -gt 0 ]]; then
    if [[ $(id -u) == 0 ]]; then
        log "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${need[@]}" >&2 \
            || { timeout 300 apt-get update >&2 && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${need[@]}" >&2; }
    else
        echo "fanout.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2; exit 1
    fi
fi
command -v dotnet >/dev/null || { echo "fanout.sh: the .NET 10 SDK (dotnet) is needed" >&2; exit 1; }

# Every viewer is one descriptor in the load generator and one in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"
if [[ "$NOFILE" != unlimited && "$NOFILE" -lt 65536 ]]; then
    log "warning: could not raise the open-file limit to 65536 (hard limit $(ulimit -Hn)); using $NOFILE"
fi

# ---- cleanup: every process started here is killed on exit ------------------------------------
TMP="$(mktemp -d /tmp/sluice-fanout.XXXXXX)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    if [[ $rc != 0 ]]; then
        log "failed (exit $rc); logs in $TMP"
    else
        rm -rf "$TMP"
    fi
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
    log "started $name (pid $STARTED): $*"
}

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if [[ -z "$(ss -Htln "sport = :$p")" ]]; then echo "$p"; return; fi
    done
    echo "fanout.sh: no free port" >&2; return 1
}

wait_bytes() { # wait_bytes URL TIMEOUT_S: until the URL delivers more than 1 KiB within 3 s
    local url="$1" deadline=$((SECONDS + $2)) got
    while [[ $SECONDS -lt $deadline ]]; do
        got="$(curl -s -o /dev/null --max-time 3 -w '%{size_download}' "$url" || true)"
        [[ "${got:-0}" -gt 1024 ]] && return 0
        sleep 1
    done
    return 1
}

wait_drained() { # wait_drained PORT: until fewer than 10 connections to PORT remain (at most 20 s)
    local deadline=$((SECONDS + 20)) n
    while [[ $SECONDS -lt $deadline ]]; do
        n="$(ss -Htn state established "( sport = :$1 )" | wc -l)"
        [[ "$n" -lt 10 ]] && return 0
        sleep 1
    done
    log "warning: $n connections to port $1 still open after 20 s"
}

listen_backlog() { ss -Hltn "sport = :$1" | awk '{print $3}' | head -1; }

FEED_ARGS=(-hide_banner -loglevel error -nostats
    -re -f lavfi -i testsrc=size=320x240:rate=30 -re -f lavfi -i sine=frequency=440:sample_rate=48000
    -c:v libvpx -b:v 512k -g 30 -deadline realtime -cpu-used 8 -c:a libvorbis -b:a 128k -ac 2)

# ---- builds ---------------------------------------------------------------------------------------
log "building the load generator"
timeout 600 dotnet build "$BENCH/Sluice.LoadGen/Sluice.LoadGen.csproj" -c Release -o "$TMP/loadgen" -nologo -v q >"$TMP/build-loadgen.log" 2>&1 \
    || { cat "$TMP/build-loadgen.log" >&2; exit 1; }
LOADGEN=(dotnet "$TMP/loadgen/sluice-loadgen.dll")

declare -A URL PID BACKLOG
if [[ $WANT_SLUICE == 1 ]]; then
    log "building Sluice (Release)"
    timeout 600 dotnet build "$REPO/src/Sluice/Sluice.csproj" -c Release -o "$TMP/sluice" -nologo -v q >"$TMP/build-sluice.log" 2>&1 \
        || { cat "$TMP/build-sluice.log" >&2; exit 1; }
fi

# ---- Sluice ---------------------------------------------------------------------------------------
if [[ $WANT_SLUICE == 1 ]]; then
    SPORT="$(free_port)"
    # The seed ffserver.conf, with limits raised for the benchmark and no access log.
    cat >"$TMP/sluice.conf" <<EOF
HTTPPort $SPORT
HTTPBindAddress 127.0.0.1
MaxClients 20000
MaxHTTPConnections 20000
MaxClientsPerAddress 20000
MaxBandwidth 10000000
<Feed livestream.ffm>
File $TMP/feed1.ffm
FileMaxSize 200K
ACL allow 127.0.0.1
</Feed>
<Stream livestream>
Format webm
Feed livestream.ffm
VideoCodec libvpx
VideoFrameRate 30
VideoBitRate 512
VideoSize 320x240
AVOptionVideo preset medium
AudioCodec libvorbis
AudioBitRate 128
AudioChannels 2
</Stream>
EOF
    start sluice "$TMP/sluice.log" dotnet "$TMP/sluice/sluice.dll" --config "$TMP/sluice.conf" --port "$SPORT"
    PID[sluice]=$STARTED
    deadline=$((SECONDS + 30))
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$SPORT/"; do
        kill -0 "${PID[sluice]}" 2>/dev/null || { cat "$TMP/sluice.log" >&2; exit 1; }
        [[ $SECONDS -lt $deadline ]] || { log "Sluice did not answer within 30 s"; cat "$TMP/sluice.log" >&2; exit 1; }
        sleep 0.5
    done
    start sluice-feeder "$TMP/sluice-feeder.log" ffmpeg "${FEED_ARGS[@]}" -f webm -cluster_time_limit 200 -flush_packets 1 \
        "http://127.0.0.1:$SPORT/livestream.ffm"
    PID[sluice-feeder]=$STARTED
    URL[sluice]="http://127.0.0.1:$SPORT/livestream"
    wait_bytes "${URL[sluice]}" 30 || { log "Sluice stream did not start"; tail -20 "$TMP/sluice.log" "$TMP/sluice-feeder.log" >&2; exit 1; }
    BACKLOG[sluice]="$(listen_backlog "$SPORT")"
    log "Sluice serving ${URL[sluice]} (listen backlog ${BACKLOG[sluice]})"
fi

# ---- Icecast --------------------------------------------------------------------------------------
if [[ $WANT_ICECAST == 1 ]]; then
    IPORT="$(free_port)"
    IPASS="bench$RANDOM$RANDOM"
    mkdir -p "$TMP/icecast-log"
    chown icecast2:icecast "$TMP/icecast-log"
    # Icecast refuses to run as root: it drops to icecast2:icecast after binding (changeowner).
    CHANGEOWNER=""
    [[ $(id -u) == 0 ]] && CHANGEOWNER="<security><chroot>0</chroot><changeowner><user>icecast2</user><group>icecast</group></changeowner></security>"
    cat >"$TMP/icecast.xml" <<EOF
<icecast>
  <location>loopback</location>
  <admin>bench@localhost</admin>
  <limits>
    <clients>20000</clients>
    <sources>4</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>65536</burst-size>
  </limits>
  <authentication>
    <source-password>$IPASS</source-password>
    <relay-password>$IPASS</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>$IPASS</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>$IPORT</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>$TMP/icecast-log</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging>
    <accesslog>access.log</accesslog>
    <errorlog>error.log</errorlog>
    <loglevel>2</loglevel>
  </logging>
  $CHANGEOWNER
</icecast>
EOF
    chmod 644 "$TMP/icecast.xml"
    start icecast "$TMP/icecast.log" /usr/bin/icecast2 -c "$TMP/icecast.xml"
    PID[icecast]=$STARTED
    deadline=$((SECONDS + 30))
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$IPORT/"; do
        kill -0 "${PID[icecast]}" 2>/dev/null || { cat "$TMP/icecast.log" "$TMP/icecast-log/error.log" >&2 || true; exit 1; }
        [[ $SECONDS -lt $deadline ]] || { log "Icecast did not answer within 30 s"; exit 1; }
        sleep 0.5
    done
    # -rw_timeout: without it an ffmpeg icecast:// source can block forever (and ignore SIGTERM).
    start icecast-feeder "$TMP/icecast-feeder.log" ffmpeg "${FEED_ARGS[@]}" -rw_timeout 5000000 \
        -f webm -cluster_time_limit 200 -flush_packets 1 -content_type video/webm \
        "icecast://source:$IPASS@127.0.0.1:$IPORT/live.webm"
    PID[icecast-feeder]=$STARTED
    URL[icecast]="http://127.0.0.1:$IPORT/live.webm"
    wait_bytes "${URL[icecast]}" 30 || { log "Icecast stream did not start"; tail -20 "$TMP/icecast-feeder.log" "$TMP/icecast-log/error.log" >&2; exit 1; }
    BACKLOG[icecast]="$(listen_backlog "$IPORT")"
    log "Icecast serving ${URL[icecast]} (listen backlog ${BACKLOG[icecast]})"
fi

# ---- runs -----------------------------------------------------------------------------------------
RESULTS="$TMP/results.jsonl"
: >"$RESULTS"
SERVERS=()
[[ $WANT_SLUICE == 1 ]] && SERVERS+=(sluice)
[[ $WANT_ICECAST == 1 ]] && SERVERS+=(icecast)
UPTIME_BEFORE="$(uptime)"
for n in $VIEWERS; do
    ramp="$RAMP"
    if [[ -z "$ramp" ]]; then ramp=$((n / 1000)); ((ramp < 2)) && ramp=2; ((ramp > 5)) && ramp=5; fi
    for server in "${SERVERS[@]}"; do
        for p in "${PID[$server]}" "${PID[$server-feeder]}"; do
            kill -0 "$p" 2>/dev/null || { log "$server (or its feeder, pid $p) is gone"; tail -20 "$TMP/$server.log" "$TMP/$server-feeder.log" >&2; exit 1; }
        done
        log "$server: $n viewers for $SECONDS_PER_RUN s (ramp $ramp s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
        port="${URL[$server]#http://127.0.0.1:}"; port="${port%%/*}"
        DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 timeout $((SECONDS_PER_RUN + ramp + 60)) \
            "${LOADGEN[@]}" --url "${URL[$server]}" --viewers "$n" --seconds "$SECONDS_PER_RUN" --ramp-seconds "$ramp" \
            --server-pid "${PID[$server]}" --label "$server" >"$TMP/run.json" 2>"$TMP/run.txt" \
            || { log "load generator failed"; cat "$TMP/run.txt" >&2; exit 1; }
        cat "$TMP/run.txt" >&2
        cat "$TMP/run.json" >>"$RESULTS"
        wait_drained "$port"
        sleep 2
    done
done

# ---- report ---------------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
{
    echo "# Fan-out benchmark, $DATE"
    echo
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)."
    echo "Load before the runs: ${UPTIME_BEFORE#*load average: } (1, 5, 15 min); after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Versions: Sluice $(git -C "$REPO" rev-parse --short HEAD) (src/ as of $(git -C "$REPO" log -1 --format=%h -- src)), .NET $(dotnet --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3), $(/usr/bin/icecast2 -v 2>/dev/null || echo 'Icecast n/a')."
    echo "Stream: ffmpeg testsrc 320x240 30 fps VP8 512k (-g 30) + sine Vorbis 128k, WebM; ${SECONDS_PER_RUN} s measured after the connect ramp."
    echo "Listen backlog (ss Send-Q): Sluice ${BACKLOG[sluice]:-n/a}, Icecast ${BACKLOG[icecast]:-n/a}; somaxconn $(cat /proc/sys/net/core/somaxconn); open files $NOFILE."
    echo
    "${LOADGEN[@]}" --table "$RESULTS"
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
if [[ $WANT_SLUICE == 1 ]]; then
    log "Sluice log lines with warn/fail/error: $(grep -ciE 'warn|fail|error|exception' "$TMP/sluice.log" || true)"
    grep -iE 'warn|fail|error|exception' "$TMP/sluice.log" | sort | uniq -c | sort -rn | head -10 >&2 || true
fi
