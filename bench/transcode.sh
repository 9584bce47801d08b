#!/usr/bin/env bash
# Transcoding benchmark: the seed stream (VP8 320x240 30 fps 512k + Vorbis 128k stereo) encoded by Sluice from
# a 720p H.264 + AAC feed, against the very same ffmpeg command run by hand on the same input, in the same run.
# Also: time from the publisher's start to the first transcoded keyframe a waiting viewer gets. See bench/README.md.
#
#   bench/transcode.sh [--seconds 60] [--runs 3] [--out FILE]
set -euo pipefail

SECONDS_PER_RUN=60
RUNS=3
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "transcode.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "$OUT" ]] || OUT="$REPO/bench/results/transcode-$(date -u +%Y-%m-%d).md"
log() { echo "[transcode $(date +%H:%M:%S)] $*" >&2; }
command -v ffmpeg >/dev/null || { [[ $EUID == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg >&2; }
command -v python3 >/dev/null || { [[ $EUID == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 >&2; }

WORK="$(mktemp -d /tmp/sluice-transcode.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

log "building Sluice (Release)"
dotnet build "$REPO/src/Sluice/Sluice.csproj" -c Release -o "$WORK/sluice" -nologo -v quiet -clp:ErrorsOnly >&2
log "making ${SECONDS_PER_RUN} s of 1280x720 25 fps H.264 + AAC"
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t "$SECONDS_PER_RUN" -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p -c:a aac -b:a 128k -f matroska -y "$WORK/in.mkv"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# utime + stime + cutime + cstime of a process, in clock ticks (children count once they are reaped)
cpu_ticks() { python3 - "$1" <<'PY'
import sys
f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print(int(f[11]) + int(f[12]), int(f[13]) + int(f[14]))
PY
}
HZ=$(getconf CLK_TCK)

start_server() {  # one server for every run: the first feed is its first (cold: .NET compiles the paths it takes)
    PORT=$(free_port)
    cat > "$WORK/bench.conf" <<CONF
HTTPPort $PORT
HTTPBindAddress 127.0.0.1
MaxBandwidth 100000
<Feed livestream.ffm>
FileMaxSize 2M
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
CONF
    (cd "$WORK" && exec dotnet "$WORK/sluice/sluice.dll" -f "$WORK/bench.conf") > "$WORK/server.log" 2>&1 &
    SERVER=$!; PIDS+=("$SERVER")
    for _ in $(seq 600); do grep -q "serving on" "$WORK/server.log" && break; sleep 0.1; done
    grep -q "serving on" "$WORK/server.log" || { cat "$WORK/server.log" >&2; echo "transcode.sh: the server did not start" >&2; exit 1; }
    sleep 2
}

run_sluice() {   # $1: run number; prints: server_cpu encoder_cpu first_keyframe_seconds ; leaves the encoder command in $WORK/command
    local server=$SERVER port=$PORT
    local self0 children0; read -r self0 children0 < <(cpu_ticks "$server")
    # A viewer waits on the stream; the feeder starts; the viewer notes when the first Cluster (a keyframe) arrives.
    python3 - "$port" "$WORK/in.mkv" > "$WORK/ttfk" <<'PY' &
import socket, subprocess, sys, time
port, source = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(b"GET /livestream HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.3)
start = time.monotonic()
subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", source, "-c", "copy",
                  "-f", "matroska", "-flush_packets", "1", "-cluster_time_limit", "200", f"http://127.0.0.1:{port}/livestream.ffm"])
data = b""
while b"\x1f\x43\xb6\x75" not in data:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(f"{time.monotonic() - start:.3f}")
s.close()
PY
    local viewer=$!; PIDS+=("$viewer")
    wait "$viewer" || true
    # the feeder ends with its file; the encoder stops with the feed and is reaped by the server
    for _ in $(seq $((SECONDS_PER_RUN * 10 + 150))); do [[ $(grep -c "finished after" "$WORK/server.log") -ge $1 ]] && break; sleep 0.1; done
    sleep 3
    local self1 children1; read -r self1 children1 < <(cpu_ticks "$server")
    grep -o "encoder started .*: ffmpeg .*" "$WORK/server.log" | head -1 | sed 's/^.*: ffmpeg /ffmpeg /' > "$WORK/command"
    echo "$(python3 -c "print(round(($self1 - $self0) / $HZ, 2), round(($children1 - $children0) / $HZ, 2))") $(cat "$WORK/ttfk")"
}

run_by_hand() {  # the encoder's command, reading the same file at the same pace; prints cpu seconds
    local cmd; cmd=$(sed "s|-f matroska -i pipe:0|-re -f matroska -i $WORK/in.mkv|" "$WORK/command")
    # shellcheck disable=SC2086
    /usr/bin/time -f "%U %S" -o "$WORK/time" $cmd > /dev/null 2> "$WORK/hand.log" < /dev/null
    awk '{ printf "%.2f\n", $1 + $2 }' "$WORK/time"
}

[[ -x /usr/bin/time ]] || { [[ $EUID == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >&2; }
rows=()
start_server
for run in $(seq "$RUNS"); do
    state=warm; [[ $run == 1 ]] && state=cold
    log "run $run: Sluice (server + its encoder)"
    read -r server_cpu encoder_cpu ttfk < <(run_sluice "$run")
    sluice_cpu=$(python3 -c "print(round($server_cpu + $encoder_cpu, 2))")
    log "run $run: the same ffmpeg command by hand"
    hand_cpu=$(run_by_hand)
    overhead=$(python3 -c "print(f'{($sluice_cpu - $hand_cpu) / $hand_cpu * 100:+.1f} %')")
    log "run $run ($state): Sluice ${sluice_cpu} s CPU (server ${server_cpu}, encoder ${encoder_cpu}), by hand ${hand_cpu} s, overhead ${overhead}; first keyframe after ${ttfk} s"
    # Warm: the stream's ring still holds the last run's final GOP, which a viewer gets at once.
    [[ $state == warm ]] && ttfk="— (warm)"
    rows+=("| $run ($state) | $SECONDS_PER_RUN | $server_cpu | $encoder_cpu | $sluice_cpu | $hand_cpu | $overhead | $ttfk |")
done

{
    echo "# Transcoding, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
    echo
    echo "Seed stream (libvpx 320x240 30 fps 512k, preset medium → deadline good, cpu-used 2; libvorbis 128k stereo"
    echo "22050 Hz) from 1280x720 25 fps H.264 + AAC, fed in real time (-re). CPU in seconds over the whole feed."
    echo "One server for all runs: run 1 is its first feed (cold: .NET compiles the code paths it takes), the others warm."
    echo "The time to the first keyframe is measured cold only: when warm, the stream's ring still holds the last run's final GOP."
    echo
    echo "| run | feed s | Sluice server CPU s | its encoder CPU s | Sluice total | same ffmpeg by hand CPU s | overhead | publisher start → first keyframe at a viewer, s |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Encoder command (from the server log): \`$(cat "$WORK/command")\`"
} | tee "$OUT"
