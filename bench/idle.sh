#!/usr/bin/env bash
# Idle-connection capacity and cost: Sluice and nginx under the same open-file limit, each flooded with the same
# number of idle TCP connections (nothing sent) on loopback: how many each holds, its RSS before, during and 60 s
# after, and the memory per idle connection. See bench/README.md.
#
#   bench/idle.sh [--connections 20000] [--nofile 16384] [--after 60] [--out FILE]
set -euo pipefail
CONNECTIONS=20000
NOFILE=16384
AFTER=60
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --connections) CONNECTIONS="$2"; shift 2 ;;
        --nofile) NOFILE="$2"; shift 2 ;;
        --after) AFTER="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
        *) echo "idle.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
[[ -n "$OUT" ]] || OUT="$BENCH/results/idle-$(date -u +%Y-%m-%d).md"
command -v nginx >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null; }
TMP="$(mktemp -d)"
cleanup() { [[ -f "$TMP/nginx.pid" ]] && kill "$(cat "$TMP/nginx.pid")" 2>/dev/null; [[ -n "${SPID:-}" ]] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { echo "[idle $(date +%H:%M:%S)] $*" >&2; }

# The flood: two clients (one process holds at most its own open-file limit), from two loopback addresses.
flood() { # port pid
    local half=$((CONNECTIONS / 2))
    python3 "$BENCH/flood.py" --port "$1" --pid "$2" --count "$half" --source 127.0.0.2 --hold 15 --after "$AFTER" > "$TMP/a.json" &
    local a=$!
    python3 "$BENCH/flood.py" --port "$1" --pid "$2" --count "$((CONNECTIONS - half))" --source 127.0.0.3 --hold 15 --after 0 > "$TMP/b.json"
    wait "$a"
    python3 - "$TMP/a.json" "$TMP/b.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
held = a["held"] + b["held"]
before = a["rss_before_kib"]; during = max(a["rss_during_kib"], b["rss_during_kib"])
after = a["rss_after_kib"][-1][1] if a["rss_after_kib"] else during
per = (during - before) * 1024 / held if held else 0
print(f"{held} {before} {during} {after} {per:.0f}")
PY
}

dotnet build "$REPO/src/Sluice/Sluice.csproj" -c Release -o "$TMP/sluice" -nologo -v quiet -clp:ErrorsOnly >&2
SPORT=$(free_port)
cat > "$TMP/sluice.conf" <<CONF
HTTPPort $SPORT
HTTPBindAddress 127.0.0.1
MaxHTTPConnections $CONNECTIONS
MaxClients 100
MaxClientsPerAddress $CONNECTIONS
# Held for the whole measurement, as nginx's client_header_timeout 60s holds them.
RequestHeaderTimeout 120
<Stream stat.html>
Format status
</Stream>
CONF
prlimit --nofile="$NOFILE:$NOFILE" dotnet "$TMP/sluice/sluice.dll" -f "$TMP/sluice.conf" > "$TMP/sluice.log" 2>&1 &
SPID=$!
until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$SPORT/stat.html"; do sleep 0.5; done
sleep 5
log "sluice: $CONNECTIONS idle connections"
read -r S_HELD S_BEFORE S_DURING S_AFTER S_PER < <(flood "$SPORT" "$SPID")
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=""

NPORT=$(free_port)
cat > "$TMP/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections $NOFILE; }
http { access_log off; client_header_timeout 120s; server { listen 127.0.0.1:$NPORT backlog=4096; location / { return 200 "ok\n"; } } }
CONF
prlimit --nofile="$NOFILE:$NOFILE" nginx -c "$TMP/nginx.conf" -p "$TMP"
sleep 1
WPID=$(pgrep -P "$(cat "$TMP/nginx.pid")" | head -1)
log "nginx: $CONNECTIONS idle connections"
read -r N_HELD N_BEFORE N_DURING N_AFTER N_PER < <(flood "$NPORT" "$WPID")

mkdir -p "$(dirname "$OUT")"
{
    echo "# Idle connections, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "$CONNECTIONS idle TCP connections (nothing sent) from 127.0.0.2 and 127.0.0.3, both servers under \`prlimit --nofile=$NOFILE:$NOFILE\`, held 15 s, then closed; RSS of the server process (nginx: its one worker)."
    echo
    echo "| server | held | RSS before MiB | during MiB | ${AFTER} s after MiB | KiB per idle connection |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    echo "| Sluice | $S_HELD | $((S_BEFORE / 1024)) | $((S_DURING / 1024)) | $((S_AFTER / 1024)) | $(python3 -c "print(f'{$S_PER/1024:.2f}')") |"
    echo "| nginx | $N_HELD | $((N_BEFORE / 1024)) | $((N_DURING / 1024)) | $((N_AFTER / 1024)) | $(python3 -c "print(f'{$N_PER/1024:.2f}')") |"
    echo
    echo "Sluice ÷ nginx: held $(python3 -c "print(f'{$S_HELD/$N_HELD:.2f}')"), memory per idle connection $(python3 -c "print(f'{$S_PER/$N_PER:.1f}')")x; Sluice RSS ${AFTER} s after ÷ before: $(python3 -c "print(f'{$S_AFTER/$S_BEFORE:.2f}')")."
    echo
    echo "Sluice's log:"
    echo '```'
    grep -E "Sluice\.(Server|Connections)\[" "$TMP/sluice.log" | cut -c1-240
    echo '```'
} > "$OUT"
cat "$OUT"
