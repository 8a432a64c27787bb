#!/usr/bin/env bash
# make-annotated.sh - regenerates docs/annotated-chelsea.png and docs/annotated-coffee.png
# (the sample photos run through deitclassify ! deitoverlay by gst-launch-1.0) and
# docs/annotated-faces.png (pipelines/classify-objects.sh: facedetect finds the face in
# astronaut.png, deitclassify inference-region=roi-list classifies it; needs
# gstreamer1.0-opencv and opencv-data).
#
# Usage: docs/make-annotated.sh [BUILD_DIR]      (default: ./build; run from the repo root)
#   DEIT_MODEL=DIR docs/make-annotated.sh        use a real checkpoint instead
#
# Without DEIT_MODEL it makes a small random-weight DeiT checkpoint whose 8 labels are
# made up (tests/pipelines/make_checkpoint.py --size demo, needs /usr/bin/python3 with
# torch): the pictures then show what the overlay looks like, not a real classification.
# The photos are read from tests/data (else ../shared/images; SAMPLE_IMAGES=DIR to
# override).
#
# chelsea is classified and annotated in RGB (panel top-left), coffee in I420 (panel
# bottom-right), to show that the overlay draws into YUV frames without a conversion.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
images="${SAMPLE_IMAGES:-}"
if [ -z "$images" ]; then
  images="$root/tests/data"
  [ -f "$images/chelsea.png" ] || images="$root/../shared/images"
fi
export GST_PLUGIN_PATH="$build/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

model="${DEIT_MODEL:-}"
if [ -z "$model" ]; then
  model="$build/docs-demo-checkpoint"
  /usr/bin/python3 "$root/tests/pipelines/make_checkpoint.py" "$model" --size demo \
    --name "random-weight demo model (made-up labels)"
  if [ -f "$model/SKIP" ]; then
    echo "make-annotated.sh: torch is needed to make the demo checkpoint: $(cat "$model/SKIP")" >&2
    exit 1
  fi
fi

# annotate IMAGE FORMAT CORNER OUT
annotate() {
  gst-launch-1.0 -q filesrc location="$images/$1.png" ! pngdec ! videoconvert ! \
    "video/x-raw,format=$2" ! deitclassify model="$model" ! deitoverlay corner="$3" ! \
    videoconvert ! pngenc ! filesink location="$4"
  echo "wrote $4"
}
annotate chelsea RGB top-left "$root/docs/annotated-chelsea.png"
annotate coffee I420 bottom-right "$root/docs/annotated-coffee.png"
"$root/pipelines/classify-objects.sh" "$images/astronaut.png" "$model" \
  --output "$root/docs/annotated-faces.png" >/dev/null 2>&1
echo "wrote $root/docs/annotated-faces.png"
