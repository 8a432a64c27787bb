#!/usr/bin/env bash
# run-fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS [libFuzzer args...]
# Replays every committed seed (a crash there is a regression), then fuzzes for SECONDS
# from the seeds plus what earlier runs found in WORK_DIR (the build directory: the
# committed corpus is never written). A crash leaves crash-* in WORK_DIR/artifacts and
# fails the test; libFuzzer prints the input as a reproducer command.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=$4
shift 4
mkdir -p "$work/corpus" "$work/artifacts"
# one process, one thread: the machine is shared; rss limit well above the targets' needs
"$fuzzer" -runs=0 -rss_limit_mb=2048 "$seeds"
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$seeds"
