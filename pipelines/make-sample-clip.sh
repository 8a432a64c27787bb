#!/usr/bin/env bash
# make-sample-clip.sh - make a short Motion-JPEG AVI clip from still images (each shown
# for a second at 10 fps, 320x240), for trying the classify-*.sh scripts without a video.
#
# Usage: make-sample-clip.sh OUT.avi IMAGE...
# Elements used: pngdec/jpegdec, imagefreeze, jpegenc, avimux (gstreamer1.0-plugins-good)
# and concat, videoconvert, videoscale (core and -base).
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1; shift

branches=()
for img in "$@"; do
  [ -f "$img" ] || { echo "make-sample-clip.sh: $img: no such file" >&2; exit 1; }
  branches+=(filesrc location="$img" ! decodebin ! videoconvert ! videoscale !
             video/x-raw,format=I420,width=320,height=240,pixel-aspect-ratio=1/1 !
             imagefreeze num-buffers=10 ! video/x-raw,framerate=10/1 ! c.)
done

gst-launch-1.0 -q -e concat name=c ! videoconvert ! jpegenc ! avimux ! \
  filesink location="$out" "${branches[@]}" >/dev/null
[ -s "$out" ] || { echo "make-sample-clip.sh: $out was not written" >&2; exit 1; }
