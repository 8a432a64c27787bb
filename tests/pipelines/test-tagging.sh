#!/usr/bin/env bash
# test-tagging.sh - runs the offline tagging scripts of pipelines/ on clips made here.
#
# Usage: test-tagging.sh MODE PIPELINES_DIR CHECKPOINT_DIR WORK_DIR
#   MODE: tag-video | tag-many | tag-many-ssh | annotate-video
# tag-many-ssh: tag-many.sh --sshlogin against a private sshd on 127.0.0.1 (ssh-fixture.sh;
# skip, 77, when sshd is not installed, except with CI=true).
# The clips are videotestsrc encoded with vp8enc into WebM / Matroska (gst-plugins-good),
# so the tests need no other codec package. The checkpoint comes from make_checkpoint.py
# (random weights, 8 made-up labels); without torch it is absent and the test skips (77).
# The plugin is found through GST_PLUGIN_PATH_1_0 set by meson.
set -uo pipefail

mode="$1" pipelines="$2" ckpt="$3" work="$4/$1"
# gst-launch-1.0 sometimes hangs after its error on a corrupt file; the scripts kill it
# DEIT_ERROR_GRACE seconds later (default 10): keep the tests short
export DEIT_ERROR_GRACE=3
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

# signal_alone RESULT SIG SCRIPT ARGS...: SIG (TERM or HUP) sent to the script's PID
# alone (kill PID, a supervisor's terminate()), not to its process group, while a
# gst-launch-1.0 that would run for 300 s (slow-bin/gst-launch-1.0: it opens its last
# location=, then stops only on SIGINT, exiting 0 as gst-launch-1.0 does on Ctrl-C) is
# running. The script must stop it and exit 128+N within a few seconds (bash runs a trap
# only after a foreground pipeline ends), say so, and leave neither RESULT nor RESULT.part.
signal_alone() {
  local result=$1 sig=$2 name pid rc i start want
  name=$(basename "$3")
  shift 2
  case "$sig" in TERM) want=143 ;; HUP) want=129 ;; esac
  if [ ! -x slow-bin/gst-launch-1.0 ]; then
    mkdir -p slow-bin
    cat > slow-bin/gst-launch-1.0 <<'SLOW'
#!/bin/sh
for a; do case $a in location=*) out=${a#location=} ;; esac; done
out=${out#\"}; out=${out%\"}
: > "$out"
echo "Setting pipeline to PLAYING ..."
sleep 300 > /dev/null 2>&1 &
s=$!
echo "$$ $s" >> "$SLOW_PIDS"
trap 'kill $s; echo "handling interrupt."; exit 0' INT
wait $s
SLOW
    chmod +x slow-bin/gst-launch-1.0
  fi
  rm -f "$result" "$result.part" slow-pids.txt
  PATH="$work/slow-bin:$PATH" SLOW_PIDS="$work/slow-pids.txt" "$@" > /dev/null 2> signal-stderr.txt &
  pid=$!
  for i in $(seq 1 500); do [ -e "$result.part" ] && break; sleep 0.02; done
  start=$SECONDS
  kill -"$sig" "$pid"
  for i in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2> /dev/null; then
    fail "$name: SIG$sig to its PID alone: still running 10 s later"
    kill -KILL "$pid"
  fi
  wait "$pid"
  rc=$?
  # (without the fix: what the stuck run left running)
  [ ! -s slow-pids.txt ] || kill $(cat slow-pids.txt) 2> /dev/null
  [ "$rc" -eq "$want" ] && ok "$name: SIG$sig to its PID alone: exit $rc after $((SECONDS - start)) s" ||
    fail "$name: SIG$sig to its PID alone: exit $rc, expected $want"
  [ ! -e "$result" ] && [ ! -e "$result.part" ] && ok "$name: SIG$sig to its PID alone: no result left" ||
    fail "$name: SIG$sig to its PID alone: $(ls "$result"* 2>/dev/null | tr '\n' ' ')left behind"
  grep -q "INTERRUPTED (SIG$sig)" signal-stderr.txt && ok "$name: SIG$sig to its PID alone: says so" ||
    { cat signal-stderr.txt >&2; fail "$name: SIG$sig to its PID alone: nothing on stderr says so"; }
}

# noframe.webm (a video stream of 0 frames) and cut.ogv (Theora headers, no frame),
# in the current directory: gst-launch-1.0 decodes not one frame of them and exits 0
make_no_frame_files() {
  gst-launch-1.0 -q videotestsrc num-buffers=0 ! "video/x-raw,width=64,height=48,framerate=10/1" ! \
    vp8enc ! webmmux ! filesink location=noframe.webm || { echo "could not make noframe.webm" >&2; exit 1; }
  gst-launch-1.0 -q videotestsrc num-buffers=30 ! "video/x-raw,width=64,height=48,framerate=10/1" ! \
    theoraenc ! oggmux ! filesink location=whole.ogv || { echo "could not make whole.ogv (theoraenc)" >&2; exit 1; }
  head -c 3000 whole.ogv > cut.ogv   # the Theora headers, no frame
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
  # any file name: gst-launch-1.0 parses prop=value again, so the scripts quote names for
  # it (a backslash was dropped: back\slash.webm read backslash.webm; a tab, a newline or
  # a double quote before a space cut the name), also the model folder's; a leading dash
  # reaches rm and mv after "--"
  make_clip names.webm webmmux 10 64 48 ball
  mkdir -p 'mo\del "x'
  cp "$ckpt"/* 'mo\del "x'/
  cp names.webm backslash.webm   # what the name without its backslash would read
  for n in 'back\slash.webm' 'q" x.webm' $'tab\there.webm' $'new\nline.webm' '-dash.webm' "it's \\\" x.webm"; do
    cp -- names.webm "$n"
    if "$pipelines/tag-video.sh" -q -- "$n" 'mo\del "x' 2> err.txt && check "./$n.tags.jsonl" 10 1 &&
       [ ! -e "$n.tags.jsonl.part" ]; then
      ok "file name $(printf %q "$n"), model folder 'mo\del \"x': tagged"
    else
      cat err.txt >&2; fail "file name $(printf %q "$n"), model folder 'mo\del \"x'"
    fi
  done
  [ ! -e backslash.webm.tags.jsonl ] && ok "back\\slash.webm: not backslash.webm tagged" ||
    fail "back\\slash.webm: backslash.webm tagged instead"
  # ... except one ending in a backslash, which gst-launch-1.0 cannot read: refused
  cp names.webm 'end\'
  "$pipelines/tag-video.sh" -q 'end\' "$ckpt" 2> err.txt
  rc=$?
  [ "$rc" -eq 2 ] && [ ! -e 'end\.tags.jsonl' ] && grep -q "ending in a backslash" err.txt &&
    ok "a name ending in a backslash: refused (exit 2)" || { cat err.txt >&2; fail "a name ending in a backslash: exit $rc"; }
  # errors: exit status non-zero, no result file, no partial file
  head -c 4096 /dev/urandom > corrupt.webm
  "$pipelines/tag-video.sh" -q corrupt.webm "$ckpt" 2> err.txt
  rc=$?
  [ "$rc" -ne 0 ] && ok "corrupt file: exit $rc" || fail "corrupt file: exit 0"
  [ ! -e corrupt.webm.tags.jsonl ] && [ ! -e corrupt.webm.tags.jsonl.part ] &&
    ok "corrupt file: no output left" || fail "corrupt file: output file left behind"
  grep -q "corrupt.webm" err.txt && ok "corrupt file named" || fail "error does not name the file"
  # a video stream without one decodable frame (gst-launch-1.0 exits 0): a failure, not
  # an empty result that tag-many.sh --skip-done would then skip for ever
  make_no_frame_files
  for f in noframe.webm cut.ogv; do
    "$pipelines/tag-video.sh" -q "$f" "$ckpt" 2> err.txt
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -e "$f.tags.jsonl" ] && [ ! -e "$f.tags.jsonl.part" ] &&
      ok "$f (no decodable frame): exit 1, no result" ||
      { cat err.txt >&2; fail "$f (no decodable frame): exit $rc, $(ls "$f".tags* 2>/dev/null | tr '\n' ' ')"; }
  done
  grep -q "no frame of cut.ogv could be decoded" err.txt && ok "no frame: says so" || fail "no frame: not said"
  "$pipelines/tag-video.sh" -q missing.webm "$ckpt" 2> /dev/null
  [ $? -ne 0 ] && ok "missing file fails" || fail "missing file: exit 0"
  "$pipelines/tag-video.sh" -q clip.webm "$work/no-such-model" --output nomodel.jsonl 2> /dev/null
  [ $? -ne 0 ] && [ ! -e nomodel.jsonl ] && ok "missing model fails" || fail "missing model: exit 0 or output left"
  "$pipelines/tag-video.sh" clip.webm "$ckpt" --interval 0 2> /dev/null
  [ $? -eq 2 ] && ok "interval 0 is a usage error" || fail "interval 0 accepted"
  "$pipelines/tag-video.sh" clip.webm "$ckpt" --batch 65 2> /dev/null
  [ $? -eq 2 ] && ok "batch 65 is a usage error" || fail "batch 65 accepted"
  # numbers are decimal (gst-launch-1.0 reads 010 as octal 8: frames 0, 8, 16, 24) and
  # within the property's range (above it gst-launch-1.0 keeps the default, exit 0)
  if "$pipelines/tag-video.sh" -q clip.webm "$ckpt" --interval 010 --output every10.jsonl 2> err.txt; then
    check every10.jsonl 30 10 && ok "--interval 010 = 10" || fail "--interval 010 is not 10"
  else
    cat err.txt >&2; fail "tag-video.sh --interval 010 failed"
  fi
  for o in "--interval 2147483648" "--top-k 4294967297" "--threads 01025" "--batch 0065" "--interval 99999999999999999999"; do
    rm -f big.jsonl
    "$pipelines/tag-video.sh" -q clip.webm "$ckpt" $o --output big.jsonl 2> /dev/null
    rc=$?
    [ "$rc" -eq 2 ] && [ ! -e big.jsonl ] && ok "$o: usage error" || fail "$o: exit $rc, expected 2"
  done
  # video and audio: the video is tagged, the audio is not even decoded
  gst-launch-1.0 -q videotestsrc num-buffers=10 pattern=ball ! "video/x-raw,width=64,height=48,framerate=10/1" ! \
    vp8enc deadline=1 ! webmmux name=mux ! filesink location=av.webm \
    audiotestsrc num-buffers=20 ! vorbisenc ! mux. || { echo "could not make av.webm" >&2; exit 1; }
  if "$pipelines/tag-video.sh" -q av.webm "$ckpt" 2> err.txt; then
    check av.webm.tags.jsonl 10 1 && ok "video + audio: the video tagged" || fail "video + audio"
    ! grep -q "WARNING" err.txt && ok "video + audio: no warning" || { cat err.txt >&2; fail "video + audio: warnings"; }
  else
    cat err.txt >&2; fail "tag-video.sh failed on a clip with video and audio"
  fi
  # no video stream: a clear error naming the file, no result
  make_audio_only "audio only.ogg"
  "$pipelines/tag-video.sh" -q "audio only.ogg" "$ckpt" 2> err.txt
  rc=$?
  [ "$rc" -eq 1 ] && [ ! -e "audio only.ogg.tags.jsonl" ] && ok "audio-only file: exit 1, no result" ||
    fail "audio-only file: exit $rc or result left"
  grep -q "no video stream in audio only.ogg" err.txt && ok "audio-only file: 'no video stream in FILE'" ||
    { cat err.txt >&2; fail "audio-only file: no 'no video stream in FILE' message"; }
  # a gst-launch-1.0 that never exits after its error (GStreamer 1.22's sometimes does
  # not, on a file decodebin cannot type): the run must fail within the grace period
  mkdir -p hang-bin
  printf '#!/bin/sh\necho "ERROR: from element /fake: simulated error"\nexec sleep 300\n' > hang-bin/gst-launch-1.0
  chmod +x hang-bin/gst-launch-1.0
  start=$SECONDS
  PATH="$work/hang-bin:$PATH" DEIT_ERROR_GRACE=2 timeout 20 "$pipelines/tag-video.sh" -q clip.webm "$ckpt" \
    --output hang.jsonl 2> err.txt
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ ! -e hang.jsonl ] && [ ! -e hang.jsonl.part ] &&
     grep -q "did not stop 2 s after its error" err.txt; then
    ok "hung gst-launch-1.0: stopped after $((SECONDS - start)) s, exit $rc, no result"
  else
    cat err.txt >&2; fail "hung gst-launch-1.0: exit $rc (124: still hanging after 20 s)"
  fi
  # ... and one stuck in PREROLLING without an error (GStreamer 1.22 on a file without
  # video, now and then)
  printf '#!/bin/sh\necho "Setting pipeline to PAUSED ..."\necho "Pipeline is PREROLLING ..."\nexec sleep 300\n' \
    > hang-bin/gst-launch-1.0
  start=$SECONDS
  PATH="$work/hang-bin:$PATH" DEIT_PREROLL_TIMEOUT=2 timeout 20 "$pipelines/tag-video.sh" -q clip.webm "$ckpt" \
    --output hang.jsonl 2> err.txt
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ ! -e hang.jsonl ] && [ ! -e hang.jsonl.part ] &&
     grep -q "was still prerolling after 2 s" err.txt && ! grep -q "PREROLLING" err.txt; then
    ok "gst-launch-1.0 stuck prerolling: stopped after $((SECONDS - start)) s, exit $rc, no result"
  else
    cat err.txt >&2; fail "gst-launch-1.0 stuck prerolling: exit $rc (124: still hanging after 20 s)"
  fi
  # Ctrl-C in the middle of a 3000-frame clip (about a second of work here)
  make_clip long.webm webmmux 3000 64 48 ball
  interrupt long.webm.tags.jsonl "$pipelines/tag-video.sh" long.webm "$ckpt" --threads 1
  interrupt long4.jsonl "$pipelines/tag-video.sh" -q long.webm "$ckpt" --batch 4 --output long4.jsonl
  # SIGTERM / SIGHUP to the script alone stops the run at once
  signal_alone clip.webm.tags.jsonl TERM "$pipelines/tag-video.sh" clip.webm "$ckpt"
  signal_alone clip.webm.tags.jsonl HUP "$pipelines/tag-video.sh" -q clip.webm "$ckpt"
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
  # --skip-done re-tags a file whose result is empty or cut short (from an older
  # tag-video.sh, or a crash), although newer than the video: the same completeness
  # check as after a run
  : > videos/sub/b.mkv.tags.jsonl
  check videos/a.webm.tags.jsonl 20 1 > /dev/null && head -c 100 videos/a.webm.tags.jsonl > cut.jsonl
  cp videos/a.webm videos/a2.webm && touch -d '1 hour ago' videos/a2.webm && mv cut.jsonl videos/a2.webm.tags.jsonl
  "$pipelines/tag-many.sh" --model "$ckpt" --skip-done videos/a.webm videos/sub/b.mkv videos/a2.webm 2> stderr6.txt
  rc=$?
  [ "$rc" -eq 0 ] && grep -q "2 of 2 files tagged" stderr6.txt && check videos/sub/b.mkv.tags.jsonl 15 1 &&
    check videos/a2.webm.tags.jsonl 20 1 && ok "--skip-done: an empty or cut result is not done" ||
    { cat stderr6.txt; fail "--skip-done: skipped an empty or cut result (exit status $rc)"; }
  rm -f videos/a2.webm*
  # a file without a decodable frame fails (tag-video.sh leaves no empty result)
  gst-launch-1.0 -q videotestsrc num-buffers=0 ! "video/x-raw,width=64,height=48,framerate=10/1" ! \
    vp8enc ! webmmux ! filesink location=noframe.webm || { echo "could not make noframe.webm" >&2; exit 1; }
  "$pipelines/tag-many.sh" --model "$ckpt" --skip-done noframe.webm 2> stderr7.txt
  rc=$?
  [ "$rc" -eq 1 ] && [ ! -e noframe.webm.tags.jsonl ] && ok "no decodable frame: failed, no result" ||
    { cat stderr7.txt; fail "no decodable frame: exit status $rc"; }
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
  # Ctrl-C in the middle: non-zero, no result, says so
  make_clip long.webm webmmux 3000 64 48 ball
  interrupt long.webm.tags.jsonl "$pipelines/tag-many.sh" --model "$ckpt" long.webm
  # SIGTERM to tag-many.sh alone: GNU parallel and its jobs are stopped at once
  signal_alone long.webm.tags.jsonl TERM "$pipelines/tag-many.sh" --model "$ckpt" long.webm
  # ":" with --transfer: GNU parallel copies nothing for this machine
  rm -f videos/a.webm.tags.jsonl
  "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin : --transfer videos/a.webm 2> stderr4.txt
  rc=$?
  [ "$rc" -eq 0 ] && check videos/a.webm.tags.jsonl 20 1 && ok "--sshlogin : --transfer" ||
    { cat stderr4.txt; fail "--sshlogin : --transfer (exit status $rc)"; }
  # numbers are decimal (010 is 10, not octal 8: frames 0, 8, 16) and within range
  rm -f videos/a.webm.tags.jsonl
  "$pipelines/tag-many.sh" --model "$ckpt" --interval 010 --threads 01 videos/a.webm 2> stderr8.txt
  rc=$?
  [ "$rc" -eq 0 ] && check videos/a.webm.tags.jsonl 20 10 && ok "--interval 010 = 10" ||
    { cat stderr8.txt; fail "--interval 010 (exit status $rc)"; }
  for o in "--interval 2147483648" "--threads 1025" "--jobs 99999999999"; do
    "$pipelines/tag-many.sh" --model "$ckpt" $o videos/a.webm 2> /dev/null
    rc=$?
    [ "$rc" -eq 101 ] && ok "$o: usage error 101" || fail "$o: exit status $rc, expected 101"
  done
  # the same file given several times (overlapping folders, a repeated --list line, other
  # spellings of its path) is tagged once: two jobs would share one FILE.tags.jsonl.part
  mkdir -p dup/sub
  make_clip dup/sub/c.webm webmmux 10 64 48 ball
  printf '%s\n' dup/sub/c.webm ./dup//sub/c.webm > dup-list.txt
  "$pipelines/tag-many.sh" --model "$ckpt" --jobs 2 dup dup/sub "$work/dup/sub/c.webm" --list dup-list.txt 2> stderr9.txt
  rc=$?
  [ "$rc" -eq 0 ] && grep -q "1 of 1 files tagged" stderr9.txt && check dup/sub/c.webm.tags.jsonl 10 1 &&
    ok "the same file given 5 times: tagged once" || { cat stderr9.txt; fail "the same file given 5 times: exit status $rc"; }
  # a bad number is the documented usage error (101), not an unbound variable (1)
  for opt in --jobs --threads --interval; do
    "$pipelines/tag-many.sh" --model "$ckpt" "$opt" x videos 2> stderr5.txt
    rc=$?
    [ "$rc" -eq 101 ] && grep -q -- "$opt must be a positive integer" stderr5.txt && ok "$opt x: usage error 101" ||
      { cat stderr5.txt; fail "$opt x: exit status $rc, expected 101"; }
  done
  ;;

tag-many-ssh)
  . "$here/ssh-fixture.sh"
  start_sshd "$work/ssh"
  trap stop_sshd EXIT
  export PARALLEL_SSH="ssh -F $work/ssh/ssh_config"
  # names with a space and an apostrophe, in a folder with a space, and a corrupt file
  mkdir -p "my videos"
  make_clip "my videos/it's here.webm" webmmux 20 64 48 ball
  make_clip "my videos/two  words.mkv" matroskamux 15 64 48 smpte
  make_clip "my videos/plain.webm" webmmux 10 64 48 snow
  head -c 4096 /dev/zero > "my videos/corrupt.webm"
  sums() {
    (cd "my videos" && find . -type f ! -name '*.tags.jsonl' -print0 | sort -z | xargs -0 md5sum)
    md5sum "$pipelines/tag-video.sh"
  }
  sums > sums-before.txt
  inputs_intact() {  # NAME: nothing given to tag-many.sh was deleted or changed
    if sums 2> /dev/null | cmp -s - sums-before.txt; then ok "$1: inputs and tag-video.sh intact"
    else fail "$1: inputs or tag-video.sh changed or deleted"; sums 2>&1 | diff sums-before.txt - >&2; fi
  }
  check_all() {  # NAME
    check "my videos/it's here.webm.tags.jsonl" 20 1 && check "my videos/two  words.mkv.tags.jsonl" 15 1 &&
      check "my videos/plain.webm.tags.jsonl" 10 1 && ok "$1: results complete" || fail "$1: results"
    [ ! -e "my videos/corrupt.webm.tags.jsonl" ] && ok "$1: no result for the corrupt file" ||
      fail "$1: the corrupt file has a result"
  }
  clean_results() { rm -f "my videos"/*.tags.jsonl; }

  # 1. shared file system (the same paths there): 1 failed file, named with its machine
  "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin deit-remote "my videos" 2> err1.txt
  rc=$?
  [ "$rc" -eq 1 ] && ok "shared: exit status 1 (the corrupt file)" ||
    { cat err1.txt; fail "shared: exit status $rc, expected 1"; }
  check_all shared
  grep -q "corrupt.webm (exit status 1 on deit-remote)" err1.txt && ok "shared: the failure names the machine" ||
    { cat err1.txt; fail "shared: the failure does not name the machine"; }
  inputs_intact shared

  # 2. --transfer: each video copied there and its result back; nothing of ours removed
  clean_results
  "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin deit-remote --transfer "my videos" 2> err2.txt
  rc=$?
  [ "$rc" -eq 1 ] && ok "transfer: exit status 1 (the corrupt file)" ||
    { cat err2.txt; fail "transfer: exit status $rc, expected 1"; }
  check_all transfer
  inputs_intact transfer

  # 3. the results do not come back (an rsync here that copies nothing from the remote
  # machine): no file may count as tagged, although every job succeeded there
  clean_results
  mkdir -p shim
  # (GNU parallel fetches a result with "rsync ... deit-remote:FILE LOCAL_DIR")
  printf '#!/bin/sh\nprev=\nfor a in "$@"; do case "$prev" in deit-remote:*) exit 0 ;; esac; prev=$a; done\nexec %s "$@"\n' \
    "$(command -v rsync)" > shim/rsync
  chmod +x shim/rsync
  PATH="$work/shim:$PATH" "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin deit-remote --transfer \
    "my videos/plain.webm" "my videos/it's here.webm" 2> err3.txt
  rc=$?
  [ "$rc" -eq 2 ] && grep -q "0 of 2 files tagged" err3.txt && ok "no result back: 2 failed" ||
    { cat err3.txt; fail "no result back: exit status $rc, expected 2 and '0 of 2 files tagged'"; }
  [ ! -e "my videos/plain.webm.tags.jsonl" ] && ok "no result back: no result file" ||
    fail "no result back: a result file"

  # 4. rsync missing here: a setup error up front (101), nothing run, nothing counted
  # (a PATH of symlinks to every command of /usr/bin and /bin but rsync)
  rm -rf norsync && mkdir norsync
  cp -s /usr/bin/* norsync/ 2> /dev/null
  [ -L /bin ] || cp -sn /bin/* norsync/ 2> /dev/null
  rm -f norsync/rsync
  PATH="$work/norsync" "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin deit-remote "my videos" 2> err4.txt
  rc=$?
  [ "$rc" -eq 101 ] && grep -q "rsync" err4.txt && ! grep -q "files tagged" err4.txt &&
    ok "no rsync: exit 101, says rsync" || { cat err4.txt; fail "no rsync: exit status $rc, expected 101 naming rsync"; }

  # 5. a machine that cannot be reached is named and left out, the other does the work;
  # "1/deit-remote": one job at a time there, whatever this machine's core count
  clean_results
  "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin deit-broken --sshlogin 1/deit-remote --joblog jobs5.txt \
    "my videos/plain.webm" "my videos/it's here.webm" "my videos/two  words.mkv" 2> err5.txt
  rc=$?
  [ "$rc" -eq 0 ] && grep -q "machine 'deit-broken' left out" err5.txt && ok "broken machine: named and left out, all tagged" ||
    { cat err5.txt; fail "broken machine: exit status $rc, or not named"; }
  # no job may start before the previous one ended (Starttime, JobRuntime: seconds)
  if [ "$(wc -l < jobs5.txt)" -eq 4 ] && awk -F'\t' 'NR > 1 { s[NR] = $3; e[NR] = $3 + $4 } END {
        for (i in s) for (j in s) if (i != j && s[j] >= s[i] && s[j] < e[i] - 0.01) exit 1 }' jobs5.txt; then
    ok "1/deit-remote: one job at a time"
  else
    cat jobs5.txt; fail "1/deit-remote: jobs overlapped (the N/ count was overridden)"
  fi
  # 6. only machines that cannot tag: a setup error (101) naming them
  "$pipelines/tag-many.sh" --model "$ckpt" --sshlogin deit-broken "my videos" 2> err6.txt
  rc=$?
  [ "$rc" -eq 101 ] && grep -q "machine 'deit-broken' left out" err6.txt && ok "only a broken machine: exit 101, named" ||
    { cat err6.txt; fail "only a broken machine: exit status $rc, expected 101"; }
  inputs_intact "after all runs"
  stop_sshd
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
  # a video stream without one decodable frame (gst-launch-1.0 exits 0): a failure, not
  # a WebM of headers only (~300 bytes) that looks like a result
  make_no_frame_files
  for f in noframe.webm cut.ogv; do
    "$pipelines/annotate-video.sh" -q "$f" "$ckpt" 2> err.txt
    rc=$?
    [ "$rc" -eq 1 ] && [ ! -e "$f.annotated.webm" ] && [ ! -e "$f.annotated.webm.part" ] &&
      grep -q "no frame of $f could be decoded" err.txt &&
      ok "$f (no decodable frame): exit 1, says so, no output" ||
      { cat err.txt >&2; fail "$f (no decodable frame): exit $rc, $(ls "$f".annotated* 2>/dev/null | tr '\n' ' ')"; }
  done
  # one frame is enough
  make_clip one.webm webmmux 1 64 48 ball
  "$pipelines/annotate-video.sh" -q one.webm "$ckpt" 2> err.txt && [ -s one.webm.annotated.webm ] &&
    ok "a one-frame video: annotated" || { cat err.txt >&2; fail "a one-frame video"; }
  # any file name (see tag-video): a video, an OUT after "--" with a leading dash, and a
  # model folder with a backslash, double quotes and spaces, and one at its end
  mkdir -p 'mo\del "x\'
  cp "$ckpt"/* 'mo\del "x\'/
  make_clip 'in\ "put.webm' webmmux 5 64 48 ball
  if "$pipelines/annotate-video.sh" -q -- 'in\ "put.webm' 'mo\del "x\' $'-out\t\\ "x.webm' 2> err.txt &&
     [ -s $'-out\t\\ "x.webm' ] && [ ! -e $'-out\t\\ "x.webm.part' ]; then
    ok "file names with backslashes, quotes, a tab, a leading dash: annotated"
  else
    cat err.txt >&2; fail "file names with backslashes, quotes, a tab, a leading dash"
  fi
  # Ctrl-C in the middle of a 600-frame clip
  make_clip long.webm webmmux 600 160 120 ball
  interrupt long.webm.annotated.webm "$pipelines/annotate-video.sh" long.webm "$ckpt"
  signal_alone clip.webm.annotated.webm TERM "$pipelines/annotate-video.sh" clip.webm "$ckpt"
  ;;
*)
  echo "unknown mode $mode" >&2; exit 2 ;;
esac

if [ $failures -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
