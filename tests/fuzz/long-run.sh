#!/usr/bin/env bash
# long-run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
# The documented long fuzzing run: each target in turn (one process at a time, nice 19),
# from the committed seeds plus BUILD_DIR/corpus-<target>/corpus (kept between runs),
# SECONDS_PER_TARGET each (default 300), with json.dict / torchbin.dict where they apply.
# Crashes land in BUILD_DIR/corpus-<target>/artifacts.
# Prints one summary line per target: executions, final cov: and ft:, corpus size,
# crash artifacts and slow units (see below).
# BUILD_DIR is a clang build with -Dfuzz=enabled (see README.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: long-run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]}
seconds=${2:-300}
shift 2 2>/dev/null || shift $#
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors torchbin config preprocessor-config model-load npy preprocess)
status=0
for t in "${targets[@]}"; do
  work="$build/tests/fuzz/corpus-$t"
  log="$work/long-run.log"
  mkdir -p "$work/corpus" "$work/artifacts"
  dict=()
  case $t in
    safetensors|config|preprocessor-config|model-load) dict=(-dict="$here/json.dict") ;;
    torchbin) dict=(-dict="$here/torchbin.dict") ;;
  esac
  nice -n 19 "$build/tests/fuzz/fuzz-$t" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || status=1
  execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  # crash-/leak-/timeout-/oom- files are findings; slow-unit- ones (an input that once took
  # > 10 s) are reported apart: rerun them, on a busy machine they are usually scheduling
  crashes=$(ls "$work/artifacts" | grep -cvE '^slow-unit-')
  slow=$(ls "$work/artifacts" | grep -cE '^slow-unit-')
  printf '%-20s %4ss  exit %d  execs %s  cov %s  ft %s  corpus %s  crashes %s  slow %s\n' "$t" "$seconds" $rc \
    "${execs:-?}" "${cov:-?}" "${ft:-?}" "$(ls "$work/corpus" | wc -l)" "$crashes" "$slow"
done
exit $status
