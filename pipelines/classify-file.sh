#!/usr/bin/env bash
# classify-file.sh - classify every frame of a video file and print the results.
#
# Usage: classify-file.sh VIDEO [MODEL] [PROPERTY=VALUE...]
#   VIDEO   any file GStreamer can decode
#   MODEL   checkpoint directory (config.json, preprocessor_config.json,
#           model.safetensors or pytorch_model.bin); default: $DEIT_MODEL
#   PROPERTY=VALUE  deitclassify properties, e.g. top-k=3 interval=5 threshold=0.1
# One "deitclassify" element message per classified frame is printed (gst-launch-1.0 -m):
# timestamp, class-id, label, score and the top-k arrays class-ids, labels, scores.
# Any file name works except a VIDEO name ending in a backslash, which gst-launch-1.0
# cannot read: a usage error.
#
# The launch line (GST_DEBUG=deitclassify:5 shows the model summary, :6 the per-frame results;
# no videoscale needed: deitclassify resizes and crops as preprocessor_config.json says):
#   gst-launch-1.0 -m filesrc location=VIDEO ! decodebin ! videoconvert ! \
#     deitclassify model=MODEL ! fakesink
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

case "${1:-}" in -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# -ge 1 ] || usage
video=$1; shift
model=${DEIT_MODEL:-}
if [ $# -gt 0 ] && [[ $1 != *=* ]]; then model=$1; shift; fi
[ -n "$model" ] || { echo "classify-file.sh: no MODEL given and DEIT_MODEL is not set" >&2; usage; }
[ -f "$video" ] || { echo "classify-file.sh: $video: no such file" >&2; exit 1; }

# GStreamer must find the plugin; say how when it does not (the usual first-run mistake).
if ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
  echo "classify-file.sh: GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$(dirname "$0")/.." && pwd)/build/plugin) or install gst-deit" >&2
  exit 1
fi
# gst-launch-1.0 parses each prop=value again: names go through gst_quote (gst-quote.sh)
. "$(dirname "$0")/gst-quote.sh"
gst_refuse_unquotable classify-file.sh "$video"
gst_unquotable "$model" && model="$model/"   # a folder: the same one
exec gst-launch-1.0 -m \
  filesrc location="$(gst_quote "$video")" ! decodebin ! videoconvert ! \
  deitclassify model="$(gst_quote "$model")" "$@" ! fakesink
