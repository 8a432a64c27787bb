#!/usr/bin/env bash
# test-pipelines.sh - run the pipelines/ scripts that need no camera, on the test
# checkpoint and a clip made from the sample photos, and check what they print.
#
# Usage: test-pipelines.sh PIPELINES_DIR FIXTURES_DIR IMAGES_DIR WORK_DIR
# (meson passes these; GST_PLUGIN_PATH_1_0 points at the freshly built plugin).
# The top-1 class each script reports for a photo must be the PyTorch + Pillow reference's
# (FIXTURES_DIR/expected.json, written by gen_plugin_fixtures.py).
set -uo pipefail

pipelines=$1 fixtures=$2 images=$3 work=$4
model=$fixtures/model
build=$(cd "$fixtures/../../.." && pwd)
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

[ -f "$model/config.json" ] || { echo "no test checkpoint in $fixtures (torch missing?)"; exit 77; }
[ -f "$images/chelsea.png" ] || { echo "no sample photos in $images"; exit 77; }
rm -rf "$work"; mkdir -p "$work"

expected_top1() {   # expected_top1 PHOTO
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model"][sys.argv[2]]["ids"][0])' \
    "$fixtures/expected.json" "$1"
}

# -h on every user-facing script: its header on stdout, exit 0 (pipelines/README.md)
for s in "$pipelines"/*.sh "$pipelines"/*.py; do
  name=$(basename "$s")
  case $name in watch-gst-launch.sh|gst-quote.sh) continue ;; esac   # helpers the scripts source
  help=$("$s" -h 2>/dev/null); rc=$?
  if [ $rc = 0 ] && printf '%s\n' "$help" | grep -q "Usage: $name"; then ok "$name -h"
  else fail "$name -h: exit $rc, stdout without 'Usage: $name'"; fi
  # the scripts that run a gst-launch-1.0 line of their own show it (README, "Pipelines")
  case $name in classify-*.sh|tag-video.sh|annotate-video.sh)
    if printf '%s\n' "$help" | grep -q '^ *gst-launch-1.0 '; then
      ok "$name -h: launch line"
    else fail "$name -h: no gst-launch-1.0 launch line"; fi ;;
  esac
done

# make-sample-clip.sh: 3 photos x 10 frames
clip=$work/sample.avi
if "$pipelines/make-sample-clip.sh" "$clip" "$images"/chelsea.png "$images"/coffee.png "$images"/astronaut.png \
    && [ -s "$clip" ]; then ok "make-sample-clip.sh"; else fail "make-sample-clip.sh"; fi

# classify-file.sh: interval=10 -> one message per photo, at 0, 1 and 2 s
out=$("$pipelines/classify-file.sh" "$clip" "$model" interval=10 top-k=2 2>&1); rc=$?
n=$(printf '%s\n' "$out" | grep -c '(element): deitclassify, ')
ts=$(printf '%s\n' "$out" | sed -n 's/.*(element): deitclassify, timestamp=(guint64)\([0-9]*\),.*/\1/p' | tr '\n' ' ')
if [ $rc = 0 ] && [ "$n" = 3 ] && [ "$ts" = "0 1000000000 2000000000 " ]; then
  ok "classify-file.sh: 3 messages at $ts"
else
  fail "classify-file.sh: rc $rc, $n messages, timestamps '$ts'"; printf '%s\n' "$out" | tail -5
fi
if printf '%s\n' "$out" | grep '(element): deitclassify, ' | grep -q 'class-ids=(int)< [0-9]*, [0-9]* >'; then
  ok "classify-file.sh: top-k=2 arrays"
else
  fail "classify-file.sh: no 2-element class-ids array"
fi

# classify-file.sh errors: missing file, bad model -> non-zero exit, no hang
if "$pipelines/classify-file.sh" "$work/missing.avi" "$model" >/dev/null 2>&1; then
  fail "classify-file.sh succeeded on a missing file"; else ok "classify-file.sh: missing file fails"; fi
if "$pipelines/classify-file.sh" "$clip" "$fixtures/model-truncated" >/dev/null 2>&1; then
  fail "classify-file.sh succeeded with a truncated model"; else ok "classify-file.sh: bad model fails"; fi
if DEIT_MODEL= "$pipelines/classify-file.sh" "$clip" >/dev/null 2>&1; then
  fail "classify-file.sh ran without a model"; else ok "classify-file.sh: no model is a usage error"; fi

# classify-images.sh: one line per photo, top-1 = the PyTorch + Pillow reference
out=$("$pipelines/classify-images.sh" "$images" "$model" top-k=3 2>&1); rc=$?
[ $rc = 0 ] || fail "classify-images.sh: exit status $rc"
for p in chelsea coffee astronaut; do
  line=$(printf '%s\n' "$out" | grep "/$p.png: deitclassify, ")
  got=$(printf '%s' "$line" | sed -n 's/.* class-id=(int)\([0-9-]*\),.*/\1/p')
  exp=$(expected_top1 $p)
  if [ -n "$got" ] && [ "$got" = "$exp" ]; then ok "classify-images.sh $p: class $got"
  else fail "classify-images.sh $p: class '$got', reference $exp"; fi
done

# classify-app.py (Python, PyGObject): each photo's top-3 read from the buffer's ROI meta
# equals the PyTorch + Pillow reference (ids; probabilities, printed to 4 decimals,
# within 2e-4)
if /usr/bin/python3 -c 'import gi; gi.require_version("GstVideo", "1.0"); from gi.repository import GstVideo' \
    2>/dev/null; then
  for p in chelsea coffee astronaut; do
    out=$(/usr/bin/python3 "$pipelines/classify-app.py" "$images/$p.png" "$model" top-k=3 2>&1); rc=$?
    if [ $rc = 0 ] && printf '%s\n' "$out" | /usr/bin/python3 -c '
import json, re, sys
ref = json.load(open(sys.argv[1]))["model"][sys.argv[2]]
lines = [l for l in sys.stdin.read().splitlines() if re.match(r"^[0-9.]+ s new ", l)]
assert len(lines) == 1, lines
top = [t.split(" ", 2) for t in lines[0].split(" s new ", 1)[1].split(" | ")]
assert [int(t[0]) for t in top] == ref["ids"][:3], (top, ref["ids"][:3])
assert all(abs(float(t[1]) - s) <= 2e-4 for t, s in zip(top, ref["scores"])), (top, ref["scores"][:3])
' "$fixtures/expected.json" "$p"; then ok "classify-app.py $p: top-3 as the reference"
    else fail "classify-app.py $p: exit $rc"; printf '%s\n' "$out" | tail -3; fi
  done
elif [ "${CI:-}" = true ]; then
  fail "classify-app.py: python3-gi or the GstVideo typelib is missing (.ci/install-deps installs them)"
else
  echo "skip: classify-app.py (python3-gi, gir1.2-gst-plugins-base-1.0 not installed)"
fi

# Any file and folder name: gst-launch-1.0 parses each prop=value again, so the scripts
# quote names for it (unquoted, a backslash was dropped: back\slash.png opened
# backslash.png; a double quote followed by a space cut the name in two). $w has both;
# the folder holding everything below, the photo, the clip and the model folder too.
w='b\ack "q x'
wdir=$work/$w wmodel=$work/$w/model
mkdir -p "$wdir/photos" && cp "$images/chelsea.png" "$wdir/photos/$w.png" && cp -r "$model" "$wmodel"
if "$pipelines/make-sample-clip.sh" "$wdir/$w-made.avi" "$wdir/photos/$w.png" && [ -s "$wdir/$w-made.avi" ]; then
  ok "make-sample-clip.sh: image and clip names with a backslash and a quote"
else
  fail "make-sample-clip.sh: image and clip names with a backslash and a quote"
fi
cp "$clip" "$wdir/$w.avi"
out=$("$pipelines/classify-file.sh" "$wdir/$w.avi" "$wmodel" interval=10 2>&1); rc=$?
n=$(printf '%s\n' "$out" | grep -c '(element): deitclassify, ')
if [ $rc = 0 ] && [ "$n" = 3 ]; then ok "classify-file.sh: video and model names with a backslash and a quote"
else fail "classify-file.sh: video and model names with a backslash and a quote: rc $rc, $n messages"
  printf '%s\n' "$out" | tail -3; fi
cp "$wdir/$w.avi" "$work/end\\"
"$pipelines/classify-file.sh" "$work/end\\" "$wmodel" >/dev/null 2>"$work/err.txt"; rc=$?
[ $rc = 2 ] && grep -q "ending in a backslash" "$work/err.txt" && ok "classify-file.sh: a name ending in a backslash is refused" ||
  fail "classify-file.sh: a name ending in a backslash: rc $rc"
out=$("$pipelines/classify-images.sh" "$wdir/photos" "$wmodel" 2>&1); rc=$?
got=$(printf '%s\n' "$out" | grep -F "$wdir/photos/$w.png: deitclassify, " | sed -n 's/.* class-id=(int)\([0-9-]*\),.*/\1/p')
if [ $rc = 0 ] && [ -n "$got" ] && [ "$got" = "$(expected_top1 chelsea)" ]; then
  ok "classify-images.sh: folder, image and model names with a backslash and a quote"
else
  fail "classify-images.sh: folder, image and model names with a backslash and a quote: rc $rc, class '$got'"
  printf '%s\n' "$out" | tail -3
fi
out=$(DISPLAY= WAYLAND_DISPLAY= DEIT_CAMERA_SRC="videotestsrc num-buffers=3" timeout 60 \
  "$pipelines/classify-camera.sh" "$wmodel" 2>&1); rc=$?
n=$(printf '%s\n' "$out" | grep -c '(element): deitclassify, ')
[ $rc = 0 ] && [ "$n" -ge 1 ] && ok "classify-camera.sh: model name with a backslash and a quote" ||
  { fail "classify-camera.sh: model name with a backslash and a quote: rc $rc, $n messages"; printf '%s\n' "$out" | tail -3; }
# no such device: v4l2src's error names the device as given
if gst-inspect-1.0 v4l2src >/dev/null 2>&1; then
  out=$(DISPLAY= WAYLAND_DISPLAY= timeout 60 "$pipelines/classify-camera.sh" "$wmodel" "/dev/video-$w" 2>&1); rc=$?
  [ $rc != 0 ] && printf '%s\n' "$out" | grep -qF "Cannot identify device '/dev/video-$w'" &&
    ok "classify-camera.sh: device name with a backslash and a quote reaches v4l2src" ||
    { fail "classify-camera.sh: device name with a backslash and a quote: rc $rc"; printf '%s\n' "$out" | tail -3; }
else
  echo "skip: classify-camera.sh device name (no v4l2src)"
fi

# run-example.sh offline: the test checkpoint, the MEANINGLESS note, the clip and photos
# (its work folder, and make-sample-clip.sh's raw file, in a $TMPDIR named like $w)
mkdir -p "$wdir/tmp"
out=$(TMPDIR="$wdir/tmp" DEIT_OFFLINE=1 DEIT_MODEL= "$pipelines/run-example.sh" "$build" 2>&1); rc=$?
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q MEANINGLESS \
    && [ "$(printf '%s\n' "$out" | grep -c '^  t=')" -ge 3 ] \
    && [ "$(printf '%s\n' "$out" | grep -c '^  [a-z]*\.png ')" = 3 ]; then
  ok "run-example.sh (offline)"
else
  fail "run-example.sh (offline): rc $rc"; printf '%s\n' "$out" | tail -20
fi

# classify-camera.sh with a fake camera (DEIT_CAMERA_SRC): no camera needed
bash -n "$pipelines/classify-camera.sh" && ok "classify-camera.sh: syntax" || fail "classify-camera.sh: syntax"
DEIT_MODEL= "$pipelines/classify-camera.sh" >/dev/null 2>&1
[ $? = 2 ] && ok "classify-camera.sh: usage" || fail "classify-camera.sh: no usage error without a model"
# no display: results printed, frames to fakesink; DEIT_VIDEO_SINK names a sink that does
# not exist, so using a video sink at all would fail
out=$(DISPLAY= WAYLAND_DISPLAY= DEIT_CAMERA_SRC="videotestsrc num-buffers=20" DEIT_VIDEO_SINK=no-such-video-sink \
  timeout 60 "$pipelines/classify-camera.sh" "$model" top-k=2 2>&1); rc=$?
n=$(printf '%s\n' "$out" | grep -c '(element): deitclassify, ')
if [ $rc = 0 ] && [ "$n" -ge 1 ] && printf '%s\n' "$out" | grep -q "no display"; then
  ok "classify-camera.sh without a display: $n messages, no video sink"
else
  fail "classify-camera.sh without a display: rc $rc, $n messages"; printf '%s\n' "$out" | tail -5
fi
# with a display: the overlay and the video sink (fakesink here)
out=$(DISPLAY=:99 DEIT_CAMERA_SRC="videotestsrc num-buffers=20" DEIT_VIDEO_SINK=fakesink \
  timeout 60 "$pipelines/classify-camera.sh" "$model" 2>&1); rc=$?
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -q '(element): deitclassify, ' && ! printf '%s\n' "$out" | grep -q "no display"; then
  ok "classify-camera.sh with a display: overlay and video sink"
else
  fail "classify-camera.sh with a display: rc $rc"; printf '%s\n' "$out" | tail -5
fi

echo "$fails failure(s)"
[ $fails = 0 ]
