#!/usr/bin/env bash
# run-example.sh - the main job: classify a sample video clip and the sample photos with
# the example pipelines (classify-file.sh, classify-images.sh) and print the top classes.
#
# Usage: run-example.sh [BUILD_DIR]          (default: build/ in the source tree)
#
# Model, first that works:
#   1. $DEIT_MODEL, a checkpoint directory you already have;
#   2. facebook/deit-tiny-distilled-patch16-224 from the Hugging Face Hub, downloaded once
#      into ${XDG_CACHE_HOME:-~/.cache}/gst-deit/ (config.json, preprocessor_config.json,
#      model.safetensors or pytorch_model.bin), when the network allows;
#   3. a random-weight test checkpoint the build generates
#      (BUILD_DIR/tests/plugin/tagging-checkpoint, labels marked "(made-up)"): the pipeline
#      runs the same way, but its labels and probabilities are MEANINGLESS (random model).
# Samples: the photos in tests/data, made
# into a 3-second clip with make-sample-clip.sh; without photos a videotestsrc clip.
# DEIT_OFFLINE=1 skips the download. Exit status 0 when both pipelines ran.
set -euo pipefail

case "${1:-}" in -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "${1:-$root/build}" 2>/dev/null && pwd) || {
  echo "run-example.sh: build directory ${1:-$root/build} not found (build first: meson setup build && ninja -C build)" >&2
  exit 1
}
export GST_PLUGIN_PATH="$build/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
gst-inspect-1.0 deitclassify >/dev/null 2>&1 || {
  echo "run-example.sh: the deitclassify element is not in $build/plugin (build first)" >&2
  exit 1
}

# --- model -----------------------------------------------------------------------------
hub_repo=facebook/deit-tiny-distilled-patch16-224
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gst-deit/$hub_repo

fetch() {   # fetch URL FILE: download to FILE.part, rename on success
  local url=$1 out=$2
  if command -v curl >/dev/null; then
    curl -fsSL --connect-timeout 10 --max-time 300 -o "$out.part" "$url" || return 1
  elif command -v wget >/dev/null; then
    wget -q --timeout=10 -O "$out.part" "$url" || return 1
  else
    return 1
  fi
  mv "$out.part" "$out"
}

download_model() {
  local base=https://huggingface.co/$hub_repo/resolve/main f
  [ "${DEIT_OFFLINE:-0}" = 1 ] && return 1
  mkdir -p "$cache"
  for f in config.json preprocessor_config.json; do
    [ -s "$cache/$f" ] || fetch "$base/$f" "$cache/$f" || return 1
  done
  [ -s "$cache/model.safetensors" ] || [ -s "$cache/pytorch_model.bin" ] ||
    fetch "$base/model.safetensors" "$cache/model.safetensors" ||
    fetch "$base/pytorch_model.bin" "$cache/pytorch_model.bin" || return 1
}

random_model=0
if [ -n "${DEIT_MODEL:-}" ]; then
  model=$DEIT_MODEL
  echo "== model: $model (DEIT_MODEL)"
elif download_model 2>/dev/null; then
  model=$cache
  echo "== model: $hub_repo (Hugging Face Hub, cached in $cache)"
else
  rm -f "$cache"/*.part 2>/dev/null || true
  # tagging-checkpoint's labels say "(made-up)"; fixtures/model's ('class 1, tabby "cat"',
  # made to test quoting) looked like a real answer for every photo.
  model=$build/tests/plugin/tagging-checkpoint
  [ -f "$model/config.json" ] || model=$build/tests/plugin/fixtures/model
  if [ ! -f "$model/config.json" ]; then
    echo "== generating the test checkpoint (needs /usr/bin/python3 with torch and PIL)"
    /usr/bin/python3 "$root/tests/plugin/gen_plugin_fixtures.py" "$build/example-fixtures" \
      "$root/tests/data" >/dev/null && model=$build/example-fixtures/model || {
      echo "run-example.sh: no checkpoint: set DEIT_MODEL to a checkpoint directory (see README)" >&2
      exit 1
    }
  fi
  random_model=1
  echo "== model: the random-weight TEST checkpoint $model"
  echo "   NOTE: the Hub could not be reached, so this runs a model with random weights:"
  echo "   its labels and probabilities are MEANINGLESS. For real results download a"
  echo "   checkpoint (see README) and run: DEIT_MODEL=/path/to/checkpoint $0"
fi

# --- samples ---------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/gst-deit-example.XXXXXX")
trap 'rm -rf "$work"' EXIT
photos_dir=
for d in "$root/tests/data"; do
  if compgen -G "$d/*.png" >/dev/null; then photos_dir=$(cd "$d" && pwd); break; fi
done
clip=$work/sample.avi
if [ -n "$photos_dir" ]; then
  "$here/make-sample-clip.sh" "$clip" "$photos_dir"/*.png
else
  # (gst-launch-1.0 parses prop=value again: $TMPDIR may hold a backslash or a quote)
  . "$here/gst-quote.sh"
  gst-launch-1.0 -q -e videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240,framerate=10/1 ! \
    jpegenc ! avimux ! filesink location="$(gst_quote "$clip")" >/dev/null
fi

# One line per deitclassify message: time, top-1 label and probability.
summarize() {
  sed -n 's/^Got message #[0-9]* from element "[^"]*" (element): deitclassify, //p' |
  while IFS= read -r m; do
    ts=$(printf '%s' "$m" | sed -n 's/^timestamp=(guint64)\([0-9]*\),.*/\1/p')
    label=$(printf '%s' "$m" | sed -n 's/.* label=(string)\(\("\([^"\\]\|\\.\)*"\)\|[^,]*\),.*/\1/p' |
            sed 's/^"\(.*\)"$/\1/; s/\\\(.\)/\1/g')
    score=$(printf '%s' "$m" | sed -n 's/.* score=(double)\([-0-9.e]*\),.*/\1/p')
    printf '  t=%6.2fs  %-45s p=%.4f\n' "$(awk "BEGIN{print ${ts:-0}/1e9}")" "$label" "${score:-0}"
  done
}

echo "== video: classify-file.sh $(basename "$clip") (every 5th frame, top-3)"
"$here/classify-file.sh" "$clip" "$model" interval=5 top-k=3 | summarize

if [ -n "$photos_dir" ]; then
  echo "== photos: classify-images.sh $photos_dir (top-3)"
  "$here/classify-images.sh" "$photos_dir" "$model" top-k=3 |
  while IFS= read -r line; do
    f=${line%%: deitclassify, *}
    printf '%s\n' "Got message #0 from element \"x\" (element): deitclassify, ${line#*: deitclassify, }" |
      summarize | sed "s|^  t=  0.00s|  $(printf '%-13s' "$(basename "$f")")|"
  done
fi

if [ $random_model = 1 ]; then
  echo "== reminder: random-weight test model, the labels above are meaningless."
fi
