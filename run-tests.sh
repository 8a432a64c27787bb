#!/usr/bin/env bash
# Builds gst-deit in ./build and runs every test suite (core, preprocess, plugin, pipelines).
# Usage: ./run-tests.sh [extra `meson test` arguments, e.g. --suite core]
set -uo pipefail
cd "$(dirname "$0")"
if [ ! -f build/build.ninja ]; then
  meson setup build || exit 1
fi
ninja -C build || exit 1
meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?
# One plain summary line (N passed, N failed, N skipped) from meson's machine-readable log.
/usr/bin/python3 - build/meson-logs/testlog.json <<'PY' || true
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    counts[r] = counts.get(r, 0) + 1
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print("tests: %d passed, %d failed, %d skipped" % (counts["OK"] + counts["EXPECTEDFAIL"], failed, counts["SKIP"]))
PY
exit $rc
