#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install the Debian packages, build gst-deit,
# and classify a sample video and the sample photos with the example pipelines
# (pipelines/run-example.sh). Set DEIT_MODEL=/path/to/checkpoint to use a checkpoint you
# downloaded; otherwise facebook/deit-tiny-distilled-patch16-224 is fetched when the network
# allows, else the random-weight test checkpoint is used (its labels are meaningless).
set -euo pipefail
cd "$(dirname "$0")"
bash .ci/install-deps
[ -f build/build.ninja ] || meson setup build
ninja -C build
exec pipelines/run-example.sh build
