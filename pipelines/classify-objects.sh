#!/usr/bin/env bash
# classify-objects.sh - a detector finds objects, deitclassify classifies each one
# (the second stage of a cascade: inference-region=roi-list).
#
# Usage: classify-objects.sh INPUT [MODEL] [--detector "ELEMENT PROPS"] [--class TYPES]
#                            [--output FILE] [PROPERTY=VALUE...]
#   INPUT   an image (PNG, JPEG), a video file, or a V4L2 camera (/dev/videoN)
#   MODEL   checkpoint directory; default: $DEIT_MODEL
#   --detector  any element that puts GstVideoRegionOfInterestMeta boxes on frames;
#           default "facedetect display=false" (gstreamer1.0-opencv, Haar cascades from
#           opencv-data), whose boxes have the type "face"
#   --class     ROI types to classify (deitclassify object-class); default: face with
#           the default detector, every type with another one
#   --output    write the annotated result: FILE.png for an image, FILE.webm for a video;
#           default for a camera: a window (a message-printing sink without a display)
#   PROPERTY=VALUE  deitclassify properties, e.g. top-k=3 object-min-width=40
# Prints one deitclassify element message per classified object (roi-id, roi-type, x,
# y, width, height, class-id, label, score, top-k arrays).
# Any file name works except an INPUT or --output name ending in a backslash, which
# gst-launch-1.0 cannot take: a usage error.
#
# The launch line (an image, the default detector):
#   gst-launch-1.0 -m filesrc location=IMAGE ! decodebin ! videoconvert ! \
#     facedetect display=false ! videoconvert ! \
#     deitclassify model=MODEL inference-region=roi-list object-class=face ! \
#     deitoverlay ! videoconvert ! pngenc ! filesink location=OUT.png
set -euo pipefail

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "classify-objects.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || usage
case $1 in -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
input=$1; shift
model=${DEIT_MODEL:-}
if [ $# -gt 0 ] && [[ $1 != *=* ]] && [[ $1 != --* ]]; then model=$1; shift; fi
detector="facedetect display=false"
classes=""
classes_set=0
output=""
props=()
while [ $# -gt 0 ]; do
  case $1 in
    --detector) [ $# -ge 2 ] || usage; detector=$2; [ "$classes_set" = 1 ] || classes=""; shift 2 ;;
    --class) [ $# -ge 2 ] || usage; classes=$2; classes_set=1; shift 2 ;;
    --output) [ $# -ge 2 ] || usage; output=$2; shift 2 ;;
    *=*) props+=("$1"); shift ;;
    *) usage ;;
  esac
done
if [ "$classes_set" = 0 ] && [[ $detector == facedetect* ]]; then classes=face; fi
[ -n "$model" ] || { echo "classify-objects.sh: no MODEL given and DEIT_MODEL is not set" >&2; usage; }

# GStreamer must find both elements; say how when it does not.
gst-inspect-1.0 deitclassify >/dev/null 2>&1 ||
  die "GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$(dirname "$0")/.." && pwd)/build/plugin) or install gst-deit"
det_name=${detector%% *}
gst-inspect-1.0 "$det_name" >/dev/null 2>&1 ||
  die "GStreamer does not find the detector element '$det_name'" \
    "$([ "$det_name" = facedetect ] && echo "(Debian: apt install gstreamer1.0-opencv opencv-data)")"

kind=video
case $input in
  /dev/video*) kind=camera ;;
  *.png|*.PNG|*.jpg|*.JPG|*.jpeg|*.JPEG) kind=image ;;
esac
[ "$kind" = camera ] || [ -f "$input" ] || die "$input: no such file"

# gst-launch-1.0 parses each prop=value again: names go through gst_quote (gst-quote.sh)
. "$(dirname "$0")/gst-quote.sh"
gst_refuse_unquotable classify-objects.sh "$input" "$output"
gst_unquotable "$model" && model="$model/"   # a folder: the same one

# shellcheck disable=SC2206
det=($detector)
classify=(deitclassify model="$(gst_quote "$model")" inference-region=roi-list object-class="$classes" "${props[@]}")
case $kind in
  camera) src=(v4l2src device="$(gst_quote "$input")") ;;
  *) src=(filesrc location="$(gst_quote "$input")" ! decodebin) ;;
esac
if [ -n "$output" ]; then
  q_output=$(gst_quote "$output")
  case $kind in
    image) sink=(deitoverlay ! videoconvert ! pngenc ! filesink location="$q_output") ;;
    *) sink=(deitoverlay ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$q_output") ;;
  esac
elif [ "$kind" = camera ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  sink=(deitoverlay ! videoconvert ! autovideosink sync=false)
else
  sink=(fakesink)
fi
[ "$kind" = camera ] && classify+=(async=true)

exec gst-launch-1.0 -m "${src[@]}" ! videoconvert ! "${det[@]}" ! videoconvert ! \
  "${classify[@]}" ! "${sink[@]}"
