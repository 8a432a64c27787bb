#!/usr/bin/env bash
# annotate-video.sh - write a copy of a video with the classification drawn on every frame
# (deitoverlay: a top-k panel with probability bars in a corner).
#
# Usage: annotate-video.sh VIDEO [MODEL] [OUT] [--interval N] [--corner C] [--quiet]
#   VIDEO   any file GStreamer can decode
#   MODEL   checkpoint directory; default: $DEIT_MODEL
#   OUT     default VIDEO.annotated.webm (VP8 in WebM; the audio is not copied)
#   --interval N  classify every Nth frame; the frames in between show the last result
#   --corner C    top-left (default), top-right, bottom-left, bottom-right
# Encoder: vp8enc + webmmux from gstreamer1.0-plugins-good (installed with the plugin's
# test dependencies, no -ugly/-bad/libav needed). OUT is written as OUT.part and renamed
# only after a complete run. Exit status 0 on success, 1 on failure (no video stream,
# undecodable file, not one frame decoded, bad model...), 2 on a usage error, 128+N
# when interrupted by signal N (130 for Ctrl-C); on failure or interruption no OUT (nor
# OUT.part) is left.
# Any file name works ("--" before one that starts with a dash) except a VIDEO name
# ending in a backslash, which gst-launch-1.0 cannot read: a usage error.
#
# The launch line it runs (GST_DEBUG=deitclassify:5,deitoverlay:5 for details):
#   gst-launch-1.0 filesrc location=VIDEO ! decodebin caps="video/x-raw(ANY)" expose-all-streams=false ! \
#     videoconvert ! progressreport ! \
#     deitclassify model=MODEL ! deitoverlay ! tee name=t ! \
#     queue ! deitjsonenc fresh-only=true ! filesink location=FRAMES  t. ! \
#     queue ! videoconvert ! vp8enc deadline=1 cpu-used=4 threads=T ! webmmux ! filesink location=OUT
# (FRAMES, a temporary file: one JSON line per classified frame; empty when not one
# frame was decoded, see below)
set -euo pipefail

usage() {   # -h: the whole header on stdout (with the launch line), exit 0; a usage error: its usage part on stderr
  if [ "${1:-2}" = 0 ]; then sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; else sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; fi
  exit "${1:-2}"
}

model="${DEIT_MODEL:-}" interval=1 corner=top-left quiet=0
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --interval) interval="${2:?--interval needs a number}"; shift 2 ;;
    --corner) corner="${2:?--corner needs a corner name}"; shift 2 ;;
    --quiet|-q) quiet=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "annotate-video.sh: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && [ ${#positional[@]} -le 3 ] || usage
video="${positional[0]}"
[ ${#positional[@]} -ge 2 ] && model="${positional[1]}"
out="${positional[2]:-$video.annotated.webm}"

if [ -z "$model" ]; then
  echo "annotate-video.sh: no model: pass a checkpoint directory as MODEL or set DEIT_MODEL" >&2
  exit 2
fi
if [ ! -f "$video" ]; then
  echo "annotate-video.sh: $video: no such file" >&2
  exit 1
fi
case "$interval" in ''|*[!0-9]*|0) echo "annotate-video.sh: --interval must be a positive integer" >&2; exit 2 ;; esac
case "$corner" in
  top-left|top-right|bottom-left|bottom-right) ;;
  *) echo "annotate-video.sh: --corner must be top-left, top-right, bottom-left or bottom-right" >&2; exit 2 ;;
esac
progress="progressreport update-freq=1" launch_opts=()
# --quiet: no progress lines; watch_output hides the state messages (as -q would)
[ "$quiet" -eq 1 ] && progress="identity"

me=annotate-video.sh
# interruption traps (a run never looks finished) and watch_output, which stops a
# gst-launch-1.0 that hangs after its error or in PREROLLING
. "$(dirname "$0")/watch-gst-launch.sh"
# gst_quote, gst_unquotable: file names for gst-launch-1.0's parser
. "$(dirname "$0")/gst-quote.sh"

# GStreamer must find the plugin; say how when it does not (the usual first-run mistake).
if ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
  echo "annotate-video.sh: GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$(dirname "$0")/.." && pwd)/build/plugin) or install gst-deit" >&2
  exit 1
fi
threads=$(nproc 2>/dev/null || echo 1)
# every name goes to gst-launch-1.0 through gst_quote (see gst-quote.sh)
gst_refuse_unquotable annotate-video.sh "$video"
gst_unquotable "$model" && model="$model/"   # a folder: the same one
part="$out.part"
rm -f -- "$part"

# vp8enc: deadline=1 is "realtime" speed; the target bitrate scales with the picture
# (vp8enc's default of 256 kbit/s would blur the text on large frames).
# A copy of what gst-launch-1.0 prints, to explain a failure (see below), and its PID.
log=$(mktemp)
pidfile=$(mktemp)
frames=$(mktemp)
trap 'rm -f -- "$log" "$pidfile" "$frames"' EXIT
rc=0
running=1
# in the background, so that a signal to this script is handled at once (wait_pipeline)
{ sh -c 'echo $$ > "$0" && exec "$@"' "$pidfile" ${gst_env[@]+"${gst_env[@]}"} \
  gst-launch-1.0 ${launch_opts[@]+"${launch_opts[@]}"} \
    filesrc location="$(gst_quote "$video")" ! decodebin caps="video/x-raw(ANY)" expose-all-streams=false ! \
    videoconvert ! $progress ! \
    deitclassify model="$(gst_quote "$model")" interval="$interval" post-messages=false ! \
    deitoverlay corner="$corner" ! tee name=t ! \
    queue ! deitjsonenc fresh-only=true ! filesink location="$(gst_quote "$frames")" t. ! \
    queue ! videoconvert ! vp8enc deadline=1 cpu-used=4 threads="$threads" target-bitrate=2000000 ! \
    webmmux ! filesink location="$(gst_quote "$part")" 2>&1 | watch_output "$pidfile"; } &
wait_pipeline $!
running=0
[ -z "$interrupted" ] || finish_interrupted
if [ "$rc" -ne 0 ]; then
  rm -f -- "$part"
  # decodebin exposes video streams only: with none it fails with "no suitable plugins
  # found" and a "Missing decoder:" line per stream it could not turn into video.
  if grep -q "no suitable plugins found" "$log"; then
    if grep -q "Missing decoder: .*(video/" "$log"; then
      echo "annotate-video.sh: no decoder for the video stream of $video (see above; other formats need e.g." \
        "gstreamer1.0-libav or gstreamer1.0-plugins-ugly/-bad)" >&2
    else
      echo "annotate-video.sh: no video stream in $video" >&2
    fi
  fi
  echo "annotate-video.sh: FAILED on $video (gst-launch-1.0 exit status $rc)" >&2
  exit 1
fi
# gst-launch-1.0 also exits 0 when no frame came out of the decoder (a video stream with
# no frame, a file cut short after its headers): the WebM would then hold its headers
# only (~300 bytes) and look like a result. The tee branch wrote one JSON line to
# $frames per classified frame (the first frame always is), as tag-video.sh's result:
# empty, not one frame was decoded.
if [ ! -s "$frames" ]; then
  rm -f -- "$part"
  echo "annotate-video.sh: no frame of $video could be decoded" >&2
  echo "annotate-video.sh: FAILED on $video" >&2
  exit 1
fi
mv -f -- "$part" "$out"
[ "$quiet" -eq 1 ] || echo "annotate-video.sh: wrote $out" >&2
