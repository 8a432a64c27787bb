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
# No display ($DISPLAY and $WAYLAND_DISPLAY unset, e.g. over ssh): the messages are
# printed as above and the frames go to fakesink instead of a video sink (which would
# fail to open a window), without the overlay.
# Environment: DEIT_CAMERA_SRC replaces the source (a gst-launch description, e.g.
# "videotestsrc num-buffers=100" to try it without a camera); DEIT_VIDEO_SINK replaces
# autovideosink.
# Any MODEL folder and DEVICE name works, except a DEVICE name ending in a backslash,
# which gst-launch-1.0 cannot take: a usage error.
#
# The launch line (GST_DEBUG=deitclassify:5 for the model summary, :6 for timings):
#   gst-launch-1.0 -m v4l2src device=DEVICE ! videoconvert ! \
#     deitclassify model=MODEL async=true ! deitoverlay ! videoconvert ! \
#     autovideosink sync=false
set -euo pipefail

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

case "${1:-}" in -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
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
# gst-launch-1.0 parses each prop=value again: names go through gst_quote (gst-quote.sh)
. "$(dirname "$0")/gst-quote.sh"
gst_unquotable "$model" && model="$model/"   # a folder: the same one
# The source: the camera, or DEIT_CAMERA_SRC (split into words like a launch line)
if [ -n "${DEIT_CAMERA_SRC:-}" ]; then
  read -ra src <<< "$DEIT_CAMERA_SRC"
else
  gst_refuse_unquotable classify-camera.sh "$device"
  src=(v4l2src device="$(gst_quote "$device")")
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "classify-camera.sh: no display (DISPLAY and WAYLAND_DISPLAY are unset):" \
    "printing the results only (fakesink, no overlay)" >&2
  exec gst-launch-1.0 -m \
    "${src[@]}" ! videoconvert ! \
    deitclassify model="$(gst_quote "$model")" async=true "$@" ! fakesink sync=false
fi
read -ra sink <<< "${DEIT_VIDEO_SINK:-autovideosink}"
exec gst-launch-1.0 -m \
  "${src[@]}" ! videoconvert ! \
  deitclassify model="$(gst_quote "$model")" async=true "$@" ! deitoverlay ! videoconvert ! \
  "${sink[@]}" sync=false
