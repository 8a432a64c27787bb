#!/usr/bin/env bash
# classify-camera.sh - classify a V4L2 camera live and show the result on the video.
#
# Usage: classify-camera.sh [MODEL] [DEVICE] [PROPERTY=VALUE...]
#   MODEL   checkpoint directory; default: $DEIT_MODEL
#   DEVICE  default /dev/video0
#   PROPERTY=VALUE  deitclassify properties, e.g. top-k=3 threshold=0.2
# async=true: the inference runs on a worker thread on the newest frame, so the camera
# never waits for the model; every frame carries the latest result, which deitoverlay
# draws. One deitclassify message per classified frame is printed (-m).
#
# The launch line (GST_DEBUG=deitclassify:5 for the model summary, :6 for timings):
#   gst-launch-1.0 -m v4l2src device=DEVICE ! videoconvert ! \
#     deitclassify model=MODEL async=true ! deitoverlay ! videoconvert ! \
#     autovideosink sync=false
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

model=${DEIT_MODEL:-}
device=/dev/video0
if [ $# -gt 0 ] && [[ $1 != *=* ]] && [[ $1 != /dev/* ]]; then model=$1; shift; fi
if [ $# -gt 0 ] && [[ $1 == /dev/* ]]; then device=$1; shift; fi
[ -n "$model" ] || { echo "classify-camera.sh: no MODEL given and DEIT_MODEL is not set" >&2; usage; }

# GStreamer must find the plugin; say how when it does not (the usual first-run mistake).
if ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
  echo "classify-camera.sh: GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$(dirname "$0")/.." && pwd)/build/plugin) or install gst-deit" >&2
  exit 1
fi
exec gst-launch-1.0 -m \
  v4l2src device="$device" ! videoconvert ! \
  deitclassify model="$model" async=true "$@" ! deitoverlay ! videoconvert ! \
  autovideosink sync=false
