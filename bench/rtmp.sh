#!/usr/bin/env bash
# RTMP benchmark: N players of one stream and M publishers replaying an FLV file, Sluice and nginx-rtmp
# (Debian's libnginx-mod-rtmp) in the same run, on loopback. See bench/README.md ("RTMP").
#
#   bench/rtmp.sh [--players 1000] [--publishers 50] [--seconds 20] [--only sluice|nginx] [--out FILE]
set -euo pipefail

PLAYERS=1000
PUBLISHERS=50
SECONDS_PER_RUN=20
ONLY=""
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --players) PLAYERS="$2"; shift 2 ;;
        --publishers) PUBLISHERS="$2"; shift 2 ;;
        --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "rtmp.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ONLY" in ""|sluice|nginx) ;; *) echo "rtmp.sh: --only sluice|nginx" >&2; exit 2 ;; esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
DATE="$(date -u +%Y-%m-%d)"
[[ -n "$OUT" ]] || OUT="$BENCH/results/rtmp-$DATE.md"
RTMP_MODULE=/usr/lib/nginx/modules/ngx_rtmp_module.so

log() { echo "[rtmp $(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites -------------------------------------------------------------------------------
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
[[ "$ONLY" != sluice && ! -x /usr/sbin/nginx ]] && need+=(nginx)
[[ "$ONLY" != sluice && ! -f $RTMP_MODULE ]] && need+=(libnginx-mod-rtmp)
if [[ ${#need[@]} -gt 0 ]]; then
    if [[ $(id -u) == 0 ]]; then
        log "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${need[@]}" >&2 \
            || { timeout 300 apt-get update >&2 && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y --no-install-recommends "${need[@]}" >&2; }
    else
        echo "rtmp.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2; exit 1
    fi
fi
command -v dotnet >/dev/null || { echo "rtmp.sh: the .NET 10 SDK (dotnet) is needed" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---- cleanup: every process started here is killed on exit ------------------------------------
TMP="$(mktemp -d /tmp/sluice-rtmp.XXXXXX)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    if [[ $rc != 0 ]]; then log "failed (exit $rc); logs in $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        if [[ -z "$(ss -Htln "sport = :$p")" ]]; then echo "$p"; return; fi
    done
    echo "rtmp.sh: no free port" >&2; return 1
}

wait_port() { # wait_port PORT: until something listens on it (at most 30 s)
    for _ in $(seq 300); do [[ -n "$(ss -Htln "sport = :$1")" ]] && return 0; sleep 0.1; done
    return 1
}

# ---- media and builds -----------------------------------------------------------------------------
log "making the FLV the publishers replay (10 s of H.264 ~800 kbit/s + AAC 128 kbit/s)"
timeout 120 ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t 10 -c:v libx264 -preset veryfast -b:v 800k -maxrate 800k -bufsize 800k -g 60 -pix_fmt yuv420p -c:a aac -b:a 128k -f flv "$TMP/source.flv"

log "building the load generator and Sluice"
timeout 600 dotnet build "$BENCH/Sluice.LoadGen/Sluice.LoadGen.csproj" -c Release -o "$TMP/loadgen" -nologo -v q >"$TMP/build-loadgen.log" 2>&1 \
    || { cat "$TMP/build-loadgen.log" >&2; exit 1; }
LOADGEN=(dotnet "$TMP/loadgen/sluice-loadgen.dll" --rtmp)
if [[ "$ONLY" != nginx ]]; then
    timeout 600 dotnet build "$REPO/src/Sluice/Sluice.csproj" -c Release -o "$TMP/sluice" -nologo -v q >"$TMP/build-sluice.log" 2>&1 \
        || { cat "$TMP/build-sluice.log" >&2; exit 1; }
fi

RESULTS="$TMP/results.tsv"
: >"$RESULTS"

# run LABEL PORT PID: players of pub0, publishers to pub0..pub(M-1); pub0 is published first so players have a stream.
run() {
    local label="$1" port="$2" pid="$3"
    log "$label: $PLAYERS players, $PUBLISHERS publishers, $SECONDS_PER_RUN s"
    timeout $((SECONDS_PER_RUN + 120)) "${LOADGEN[@]}" --url "rtmp://127.0.0.1:$port/live/pub0" --players "$PLAYERS" \
        --publish "rtmp://127.0.0.1:$port/live/pub" --publishers "$PUBLISHERS" --flv "$TMP/source.flv" \
        --seconds "$SECONDS_PER_RUN" --ramp-seconds 5 --server-pid "$pid" --label "$label" >>"$RESULTS" 2>"$TMP/$label-loadgen.log"
    cat "$TMP/$label-loadgen.log" >&2
}

# ---- Sluice ---------------------------------------------------------------------------------------
if [[ "$ONLY" != nginx ]]; then
    HTTP_PORT="$(free_port)"; RTMP_PORT="$(free_port)"
    {
        echo "HTTPPort $HTTP_PORT"; echo "HTTPBindAddress 127.0.0.1"; echo "RTMPPort $RTMP_PORT"
        echo "MaxClients 5000"; echo "MaxHTTPConnections 6000"; echo "MaxClientsPerAddress 6000"; echo "MaxBandwidth 10000000"
        for i in $(seq 0 $((PUBLISHERS - 1))); do echo "<Feed pub$i.ffm>"; echo "</Feed>"; done
        echo "<Stream pub0.flv>"; echo "Feed pub0.ffm"; echo "Format flv"; echo "</Stream>"
    } >"$TMP/sluice.conf"
    DOTNET_gcServer=0 dotnet "$TMP/sluice/sluice.dll" --config "$TMP/sluice.conf" >"$TMP/sluice.log" 2>&1 &
    SLUICE_PID=$!; PIDS+=("$SLUICE_PID")
    wait_port "$RTMP_PORT" || { cat "$TMP/sluice.log" >&2; exit 1; }
    run sluice "$RTMP_PORT" "$SLUICE_PID"
    kill -TERM "$SLUICE_PID"; wait "$SLUICE_PID" 2>/dev/null || true
fi

# ---- nginx-rtmp -----------------------------------------------------------------------------------
if [[ "$ONLY" != sluice ]]; then
    RTMP_PORT="$(free_port)"
    mkdir -p "$TMP/nginx/logs"
    cat >"$TMP/nginx/nginx.conf" <<CONF
load_module $RTMP_MODULE;
daemon off;
master_process off;
worker_processes 1;
error_log $TMP/nginx/logs/error.log warn;
pid $TMP/nginx/nginx.pid;
events { worker_connections 8192; }
rtmp {
    server {
        listen 127.0.0.1:$RTMP_PORT;
        chunk_size 4096;
        application live { live on; }
    }
}
CONF
    /usr/sbin/nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" >"$TMP/nginx.log" 2>&1 &
    NGINX_PID=$!; PIDS+=("$NGINX_PID")
    wait_port "$RTMP_PORT" || { cat "$TMP/nginx.log" "$TMP/nginx/logs/error.log" >&2; exit 1; }
    run nginx-rtmp "$RTMP_PORT" "$NGINX_PID"
fi

# ---- report ---------------------------------------------------------------------------------------
{
    echo "# RTMP: $PLAYERS players of one stream, $PUBLISHERS publishers ($DATE)"
    echo
    echo "bench/rtmp.sh --players $PLAYERS --publishers $PUBLISHERS --seconds $SECONDS_PER_RUN on $(nproc) cores, loopback;"
    echo "publishers replay a 10 s FLV (H.264 640x360 ~800 kbit/s + AAC 128 kbit/s) in real time; players play publisher 0."
    echo
    echo "| server | players | publishers | players with no data | delivered Mbit/s | server CPU % of a core | CPU % per Gbit/s | RSS peak MiB | VmHWM MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
    while IFS=$'\t' read -r label players publishers silent mbps cpu per rss hwm; do
        echo "| $label | $players | $publishers | $silent | $mbps | $cpu | $per | $rss | $hwm |"
    done <"$RESULTS"
} >"$OUT"
log "results in $OUT"
cat "$OUT"
