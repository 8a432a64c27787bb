#!/usr/bin/env bash
# classify-images.sh - classify every image (PNG, JPEG) of a folder, one line per image.
#
# Usage: classify-images.sh FOLDER [MODEL] [PROPERTY=VALUE...]
#   FOLDER  holds *.png, *.jpg, *.jpeg files
#   MODEL   checkpoint directory; default: $DEIT_MODEL
#   PROPERTY=VALUE  deitclassify properties, e.g. top-k=3
# Prints "FILE: " followed by the deitclassify element message of that image (class-id,
# label, score, top-k arrays). Exit status 1 if an image could not be classified.
# Any folder or file name works (spaces, quotes, backslashes).
#
# The launch line, run per image (GST_DEBUG=deitclassify:5 for the model summary):
#   gst-launch-1.0 -m filesrc location=IMAGE ! decodebin ! videoconvert ! \
#     deitclassify model=MODEL ! fakesink
set -euo pipefail

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

case "${1:-}" in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# -ge 1 ] || usage
dir=$1; shift
model=${DEIT_MODEL:-}
if [ $# -gt 0 ] && [[ $1 != *=* ]]; then model=$1; shift; fi
[ -n "$model" ] || { echo "classify-images.sh: no MODEL given and DEIT_MODEL is not set" >&2; usage; }

shopt -s nullglob nocaseglob
files=("$dir"/*.png "$dir"/*.jpg "$dir"/*.jpeg)
[ ${#files[@]} -gt 0 ] || { echo "classify-images.sh: no .png/.jpg/.jpeg file in $dir" >&2; exit 1; }

# GStreamer must find the plugin; say how when it does not (the usual first-run mistake).
if ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
  echo "classify-images.sh: GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$(dirname "$0")/.." && pwd)/build/plugin) or install gst-deit" >&2
  exit 1
fi
# gst-launch-1.0 parses each prop=value again: names go through gst_quote (gst-quote.sh;
# an image name ends in .png/.jpg/.jpeg, never in the backslash it cannot take)
. "$(dirname "$0")/gst-quote.sh"
gst_unquotable "$model" && model="$model/"   # a folder: the same one
status=0
for f in "${files[@]}"; do
  if ! out=$(gst-launch-1.0 -m filesrc location="$(gst_quote "$f")" ! decodebin ! videoconvert ! \
               deitclassify model="$(gst_quote "$model")" "$@" ! fakesink 2>&1); then
    echo "$f: failed" >&2
    # the ERROR lines, each with the line after its "Additional debug info:"
    printf '%s\n' "$out" | awk '/^ERROR/ || /^Additional debug info/ || prev { print }
      { prev = /^Additional debug info/ }' >&2 || true
    status=1
    continue
  fi
  printf '%s: %s\n' "$f" "$(printf '%s\n' "$out" |
    sed -n 's/^Got message #[0-9]* from element "[^"]*" (element): \(deitclassify, .*\)/\1/p')"
done
exit $status
