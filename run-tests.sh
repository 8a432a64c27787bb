#!/usr/bin/env bash
# Builds gst-deit in ./build and runs every test suite (core, preprocess, plugin, pipelines).
# Usage: ./run-tests.sh [extra `meson test` arguments, e.g. --suite core]
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -f build/build.ninja ]; then
  meson setup build
fi
ninja -C build
meson test -C build --print-errorlogs --num-processes 2 "$@"
