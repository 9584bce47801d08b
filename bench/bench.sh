#!/usr/bin/env bash
# Media format benchmarks: demux and mux throughput per format, end-to-end remux of a ~200 MB MPEG-TS file against
# ffmpeg -c copy, allocations per packet. BenchmarkDotNet (bench/Sluice.Bench), in-process. See bench/README.md.
#
#   bench/bench.sh [--short] [--only demux,mux,remux] [--out FILE] [--media DIR]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v ffmpeg >/dev/null || { [[ $EUID == 0 ]] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg >&2; }
command -v ffmpeg >/dev/null || { echo "bench.sh: ffmpeg is needed (apt-get install ffmpeg)" >&2; exit 1; }
case "${1:-}" in -h|--help) sed -n '2,5p' "$0"; exit 0 ;; esac

echo "[bench] building bench/Sluice.Bench (Release)" >&2
dotnet build "$REPO/bench/Sluice.Bench/Sluice.Bench.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
exec dotnet run -c Release --no-build --project "$REPO/bench/Sluice.Bench" -- "$@"
