#!/usr/bin/env bash
# test-tagging.sh - runs the offline tagging scripts of pipelines/ on clips made here.
#
# Usage: test-tagging.sh MODE PIPELINES_DIR CHECKPOINT_DIR WORK_DIR
#   MODE: tag-video | tag-many | annotate-video
# The clips are videotestsrc encoded with vp8enc into WebM / Matroska (gst-plugins-good),
# so the tests need no other codec package. The checkpoint comes from make_checkpoint.py
# (random weights, 8 made-up labels); without torch it is absent and the test skips (77).
# The plugin is found through GST_PLUGIN_PATH_1_0 set by meson.
set -uo pipefail

mode="$1" pipelines="$2" ckpt="$3" work="$4/$1"
here="$(cd "$(dirname "$0")" && pwd)"
py=/usr/bin/python3
[ -x "$py" ] || py=python3

if [ -f "$ckpt/SKIP" ] || [ ! -f "$ckpt/config.json" ]; then
  echo "SKIP: no test checkpoint in $ckpt ($(cat "$ckpt/SKIP" 2>/dev/null))"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# make_clip FILE MUXER FRAMES WIDTH HEIGHT PATTERN: FRAMES frames at 10 fps
make_clip() {
  gst-launch-1.0 -q videotestsrc num-buffers="$3" pattern="$6" ! \
    "video/x-raw,width=$4,height=$5,framerate=10/1" ! \
    vp8enc deadline=1 target-bitrate=2000000 ! "$2" ! filesink location="$1" ||
    { echo "could not make the test clip $1 (vp8enc, $2 from gstreamer1.0-plugins-good)" >&2; exit 1; }
}

# interrupt RESULT SCRIPT ARGS...: Ctrl-C in the middle of a run. The script runs in its
# own process group (job control, as in a terminal); once it has opened RESULT.part the
# whole group is stopped (so the run surely has not finished), sent SIGINT as a terminal
# sends it for Ctrl-C, and continued. The run must then exit non-zero, say so on stderr
# and leave neither RESULT nor RESULT.part (a finished-looking result would be skipped by
# tag-many.sh --skip-done).
interrupt() {
  local result=$1 name pid pgid rc i
  name=$(basename "$2")
  shift
  rm -f "$result" "$result.part"
  set -m
  "$@" > /dev/null 2> interrupt-stderr.txt &
  pid=$!
  set +m
  for i in $(seq 1 1000); do [ -e "$result.part" ] && break; sleep 0.01; done
  kill -STOP -- "-$pid" 2> /dev/null
  if [ ! -e "$result.part" ] || [ -e "$result" ]; then
    kill -CONT -- "-$pid" 2> /dev/null; wait "$pid"
    fail "$name interrupt: the run was not caught in the middle (clip too short?)"
    return
  fi
  kill -INT -- "-$pid"
  kill -CONT -- "-$pid"
  wait "$pid"
  rc=$?
  [ "$rc" -ne 0 ] && ok "$name interrupted: exit $rc" || fail "$name interrupted: exit 0"
  [ ! -e "$result" ] && [ ! -e "$result.part" ] && ok "$name interrupted: no result left" ||
    fail "$name interrupted: $(ls "$result"* 2>/dev/null | tr '\n' ' ')left behind"
  grep -q INTERRUPTED interrupt-stderr.txt && ok "$name interrupted: says so" ||
    { cat interrupt-stderr.txt >&2; fail "$name interrupted: nothing on stderr says so"; }
}

# An audio-only file: the tagging scripts must say "no video stream in FILE".
make_audio_only() {
  gst-launch-1.0 -q audiotestsrc num-buffers=20 ! vorbisenc ! oggmux ! filesink location="$1" ||
    { echo "could not make the audio-only file $1 (vorbisenc, oggmux from gstreamer1.0-plugins-base)" >&2; exit 1; }
}

check() {  # check FILE FRAMES INTERVAL [--same-as OTHER]
  "$py" "$here/check_tags.py" "$1" --frames "$2" --interval "$3" --config "$ckpt/config.json" "${@:4}"
}

case "$mode" in
tag-video)
  make_clip clip.webm webmmux 30 96 64 ball
  # every frame: 30 lines; progress goes to stderr, stdout stays empty
  if "$pipelines/tag-video.sh" clip.webm "$ckpt" > stdout.txt 2> stderr.txt; then
    check clip.webm.tags.jsonl 30 1 && ok "every frame" || fail "every frame"
    grep -q "progressreport" stderr.txt && ok "progress on stderr" || fail "no progress lines on stderr"
    [ ! -s stdout.txt ] && ok "stdout empty" || fail "tag-video.sh printed on stdout"
  else
    cat stderr.txt >&2; fail "tag-video.sh failed on a good clip"
  fi
  # every 4th frame: frames 0, 4, ..., 28 = 8 lines
  if "$pipelines/tag-video.sh" --quiet clip.webm "$ckpt" --interval 4 --output every4.jsonl; then
    check every4.jsonl 30 4 && ok "interval 4" || fail "interval 4"
  else
    fail "tag-video.sh --interval 4 failed"
  fi
  # --batch 4 (deitclassify batch-size=4; 30 frames: 7 batches and a partial one of 2 at
  # EOS): the same lines as frame by frame (scores within 1e-6, see check_tags.py)
  if "$pipelines/tag-video.sh" -q clip.webm "$ckpt" --batch 4 --output batch4.jsonl; then
    check batch4.jsonl 30 1 --same-as clip.webm.tags.jsonl && ok "--batch 4 = batch 1" ||
      fail "--batch 4 differs from batch 1"
  else
    fail "tag-video.sh --batch 4 failed"
  fi
  # --batch 3 --interval 4: frames 0, 4, ..., 28 in batches of 3 (the last one partial)
  if "$pipelines/tag-video.sh" -q clip.webm "$ckpt" --interval 4 --batch 3 --output every4b3.jsonl; then
    check every4b3.jsonl 30 4 --same-as every4.jsonl && ok "--interval 4 --batch 3 = batch 1" ||
      fail "--interval 4 --batch 3 differs from batch 1"
  else
    fail "tag-video.sh --interval 4 --batch 3 failed"
  fi
  # DEIT_MODEL instead of the MODEL argument
  if DEIT_MODEL="$ckpt" "$pipelines/tag-video.sh" -q clip.webm --output env.jsonl; then
    check env.jsonl 30 1 && ok "DEIT_MODEL" || fail "DEIT_MODEL"
  else
    fail "tag-video.sh with DEIT_MODEL failed"
  fi
  # errors: exit status non-zero, no result file, no partial file
  head -c 4096 /dev/urandom > corrupt.webm
  "$pipelines/tag-video.sh" -q corrupt.webm "$ckpt" 2> err.txt
  rc=$?
  [ "$rc" -ne 0 ] && ok "corrupt file: exit $rc" || fail "corrupt file: exit 0"
  [ ! -e corrupt.webm.tags.jsonl ] && [ ! -e corrupt.webm.tags.jsonl.part ] &&
    ok "corrupt file: no output left" || fail "corrupt file: output file left behind"
  grep -q "corrupt.webm" err.txt && ok "corrupt file named" || fail "error does not name the file"
  "$pipelines/tag-video.sh" -q missing.webm "$ckpt" 2> /dev/null
  [ $? -ne 0 ] && ok "missing file fails" || fail "missing file: exit 0"
  "$pipelines/tag-video.sh" -q clip.webm "$work/no-such-model" --output nomodel.jsonl 2> /dev/null
  [ $? -ne 0 ] && [ ! -e nomodel.jsonl ] && ok "missing model fails" || fail "missing model: exit 0 or output left"
  "$pipelines/tag-video.sh" clip.webm "$ckpt" --interval 0 2> /dev/null
  [ $? -eq 2 ] && ok "interval 0 is a usage error" || fail "interval 0 accepted"
  "$pipelines/tag-video.sh" clip.webm "$ckpt" --batch 65 2> /dev/null
  [ $? -eq 2 ] && ok "batch 65 is a usage error" || fail "batch 65 accepted"
  # no video stream: a clear error naming the file, no result
  make_audio_only "audio only.ogg"
  "$pipelines/tag-video.sh" -q "audio only.ogg" "$ckpt" 2> err.txt
  rc=$?
  [ "$rc" -eq 1 ] && [ ! -e "audio only.ogg.tags.jsonl" ] && ok "audio-only file: exit 1, no result" ||
    fail "audio-only file: exit $rc or result left"
  grep -q "no video stream in audio only.ogg" err.txt && ok "audio-only file: 'no video stream in FILE'" ||
    { cat err.txt >&2; fail "audio-only file: no 'no video stream in FILE' message"; }
  # Ctrl-C in the middle of a 3000-frame clip (about a second of work here)
  make_clip long.webm webmmux 3000 64 48 ball
  interrupt long.webm.tags.jsonl "$pipelines/tag-video.sh" long.webm "$ckpt" --threads 1
  interrupt long4.jsonl "$pipelines/tag-video.sh" -q long.webm "$ckpt" --batch 4 --output long4.jsonl
  ;;

tag-many)
  mkdir -p videos/sub
  make_clip videos/a.webm webmmux 20 64 48 ball
  make_clip videos/sub/b.mkv matroskamux 15 64 48 smpte
  head -c 4096 /dev/urandom > videos/corrupt.webm
  echo "not a video" > videos/notes.txt     # not a video extension: ignored
  "$pipelines/tag-many.sh" --model "$ckpt" --jobs 2 videos > stdout.txt 2> stderr.txt
  rc=$?
  cat stderr.txt
  [ "$rc" -eq 1 ] && ok "exit status 1 = one failed file" || fail "exit status $rc, expected 1"
  check videos/a.webm.tags.jsonl 20 1 && ok "a.webm tagged" || fail "a.webm"
  check videos/sub/b.mkv.tags.jsonl 15 1 && ok "sub/b.mkv tagged (recursive)" || fail "sub/b.mkv"
  [ ! -e videos/corrupt.webm.tags.jsonl ] && ok "no result for the corrupt file" || fail "corrupt file has a result"
  [ ! -e videos/notes.txt.tags.jsonl ] && ok "non-video ignored" || fail "notes.txt was tagged"
  grep -q "^  .*videos/corrupt.webm$" stderr.txt && ok "failed file reported" || fail "corrupt.webm not reported"
  # --list with two bad entries and --skip-done: a.webm and b.mkv are done, so only the
  # two bad ones run: exit status 2
  printf '%s\n' videos/a.webm videos/missing.webm videos/corrupt.webm > list.txt
  "$pipelines/tag-many.sh" --model "$ckpt" --skip-done --list list.txt 2> stderr2.txt
  rc=$?
  [ "$rc" -eq 2 ] && ok "--list: exit status 2" || { cat stderr2.txt; fail "--list: exit status $rc, expected 2"; }
  grep -q "0 of 2 files" stderr2.txt && ok "--skip-done left out the tagged file" || fail "--skip-done"
  # --sshlogin with ":" (GNU parallel's name for this machine): the option handling of
  # the multi-machine mode, without a network
  rm -f videos/a.webm.tags.jsonl
  "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin : videos/a.webm 2> stderr3.txt
  rc=$?
  [ "$rc" -eq 0 ] && check videos/a.webm.tags.jsonl 20 1 && ok "--sshlogin :" ||
    { cat stderr3.txt; fail "--sshlogin : (exit status $rc)"; }
  "$pipelines/tag-many.sh" --model "$ckpt" "$work/empty-dir-that-does-not-exist" 2> /dev/null
  rc=$?
  [ "$rc" -eq 1 ] && ok "a missing file counts as failed" || fail "missing file: exit $rc"
  ;;

annotate-video)
  make_clip clip.webm webmmux 12 320 240 smpte
  if "$pipelines/annotate-video.sh" -q clip.webm "$ckpt" out.webm; then
    ok "annotate-video.sh ran"
  else
    fail "annotate-video.sh failed"
  fi
  # decode both to raw RGB and compare: same number of frames; the panel (top-left)
  # differs strongly, the opposite corner only by VP8 coding noise
  for f in clip out; do
    gst-launch-1.0 -q filesrc location=$f.webm ! decodebin ! videoconvert ! \
      video/x-raw,format=RGB,width=320,height=240 ! filesink location=$f.rgb || fail "decode $f.webm"
  done
  "$py" - <<'PY' || fail "annotated frames"
import sys
W, H, N = 320, 240, 12
a, b = open("clip.rgb", "rb").read(), open("out.rgb", "rb").read()
fs = W * H * 3
if len(a) != N * fs or len(b) != N * fs:
    sys.exit("frames: original %d, annotated %d, expected %d" % (len(a) / fs, len(b) / fs, N))
def mad(x0, y0, x1, y1):
    tot = n = 0
    for k in range(N):
        for y in range(y0, y1):
            o = k * fs + y * W * 3
            ra, rb = a[o + x0 * 3:o + x1 * 3], b[o + x0 * 3:o + x1 * 3]
            tot += sum(abs(p - q) for p, q in zip(ra, rb)); n += len(ra)
    return tot / n
# the panel sits in the top-left corner from (~6, ~6); its first 60x30 px are surely in it
panel, far = mad(10, 10, 70, 40), mad(200, 150, 320, 240)
print("mean abs difference: panel region %.1f, opposite corner %.1f" % (panel, far))
# thresholds: the semi-transparent black panel darkens the colour bars by ~70%, a
# difference of > 50 on average; two VP8 encodes at 2 Mbit/s of the same bars differ by < 8
if not (panel > 30 and far < 10):
    sys.exit("panel %.1f (want > 30), opposite corner %.1f (want < 10)" % (panel, far))
PY
  [ $failures -eq 0 ] && ok "panel drawn, rest unchanged"
  # no video stream: a clear error naming the file, no output
  make_audio_only "it's audio.ogg"
  "$pipelines/annotate-video.sh" -q "it's audio.ogg" "$ckpt" 2> err.txt
  rc=$?
  [ "$rc" -eq 1 ] && [ ! -e "it's audio.ogg.annotated.webm" ] && ok "audio-only file: exit 1, no output" ||
    fail "audio-only file: exit $rc or output left"
  grep -q "no video stream in it's audio.ogg" err.txt && ok "audio-only file: 'no video stream in FILE'" ||
    { cat err.txt >&2; fail "audio-only file: no 'no video stream in FILE' message"; }
  # Ctrl-C in the middle of a 600-frame clip
  make_clip long.webm webmmux 600 160 120 ball
  interrupt long.webm.annotated.webm "$pipelines/annotate-video.sh" long.webm "$ckpt"
  ;;
*)
  echo "unknown mode $mode" >&2; exit 2 ;;
esac

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
