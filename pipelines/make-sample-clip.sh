#!/usr/bin/env bash
# make-sample-clip.sh - make a short Motion-JPEG AVI clip from still images (each shown
# for a second at 10 fps, 320x240), for trying the classify-*.sh scripts without a video.
#
# Usage: make-sample-clip.sh OUT.avi IMAGE...
# Elements used: pngdec/jpegdec, imagefreeze, jpegenc, avimux (gstreamer1.0-plugins-good),
# rawvideoparse, videoconvert, videoscale (gstreamer1.0-plugins-base).
# Any file name works except one ending in a backslash, which gst-launch-1.0 cannot take.
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1; shift
# gst-launch-1.0 parses each prop=value again: names go through gst_quote (gst-quote.sh)
. "$(dirname "$0")/gst-quote.sh"
gst_refuse_unquotable make-sample-clip.sh "$out" "$@"

# Each image becomes 10 raw I420 frames appended to one file, one pipeline at a time;
# then one pipeline encodes the raw file. (A single concat pipeline over several
# decodebin branches deadlocks now and then in GStreamer 1.22.)
raw=$(mktemp "${TMPDIR:-/tmp}/sample-clip.XXXXXX.i420")
trap 'rm -f -- "$raw"' EXIT
for img in "$@"; do
  [ -f "$img" ] || { echo "make-sample-clip.sh: $img: no such file" >&2; exit 1; }
  gst-launch-1.0 -q filesrc location="$(gst_quote "$img")" ! decodebin ! videoconvert ! videoscale ! \
    video/x-raw,format=I420,width=320,height=240,pixel-aspect-ratio=1/1 ! \
    imagefreeze num-buffers=10 ! filesink location="$(gst_quote "$raw")" append=true >/dev/null
done
gst-launch-1.0 -q filesrc location="$(gst_quote "$raw")" ! \
  rawvideoparse format=i420 width=320 height=240 framerate=10/1 ! \
  jpegenc ! avimux ! filesink location="$(gst_quote "$out")" >/dev/null
[ -s "$out" ] || { echo "make-sample-clip.sh: $out was not written" >&2; exit 1; }
