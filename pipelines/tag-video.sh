#!/usr/bin/env bash
# tag-video.sh - classify every frame (or every Nth) of a video file and write the results
# as JSON Lines next to it: VIDEO.tags.jsonl, one object per classified frame (see the
# deitjsonenc element for the fields).
#
# Usage: tag-video.sh VIDEO [MODEL] [--interval N] [--batch B] [--top-k K] [--threshold P]
#                     [--threads T] [--output FILE] [--quiet]
#   VIDEO      any file GStreamer can decode (decodebin picks the demuxer and decoder)
#   MODEL      checkpoint directory (config.json, preprocessor_config.json, weights);
#              default: $DEIT_MODEL
#   --interval N   classify every Nth frame only; the file then has one line per N frames
#   --batch B      classify B frames per inference (deitclassify batch-size, 1..64,
#                  default 1): more frames per second, the same results
#   --output FILE  default VIDEO.tags.jsonl; written to FILE.part first and renamed only
#                  after a complete run (EOS), so a failed or interrupted run never
#                  leaves a result
#   --quiet        no progress lines
# Progress (position / duration, every second) goes to stderr through progressreport.
# Exit status: 0 on success, 1 when the pipeline fails (unreadable or undecodable file,
# no video stream, not one frame decoded, bad model), 2 on a usage error, 128+N when interrupted by signal N
# (130 for Ctrl-C); then no result is left.
# Any file name works (spaces, quotes, backslashes, tabs, newlines; "--" before one that
# starts with a dash) except a VIDEO name ending in a backslash, which gst-launch-1.0
# cannot read: a usage error.
#
# The launch line it runs (GST_DEBUG=deitclassify:5 shows what the element does):
#   gst-launch-1.0 filesrc location=VIDEO ! decodebin caps="video/x-raw(ANY)" expose-all-streams=false ! \
#     videoconvert ! progressreport ! \
#     deitclassify model=MODEL interval=N batch-size=B ! deitjsonenc fresh-only=true ! filesink location=OUT
# (decodebin with caps="video/x-raw(ANY)" expose-all-streams=false: only video streams
# come out, audio is never decoded; a file without video fails with "no video stream".)
# The plugin is found through GST_PLUGIN_PATH (e.g. GST_PLUGIN_PATH=build/plugin) or an
# installed copy.
set -euo pipefail

usage() {   # -h: the whole header on stdout (with the launch line), exit 0; a usage error: its usage part on stderr
  if [ "${1:-2}" = 0 ]; then sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; else sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; fi
  exit "${1:-2}"
}

video="" model="${DEIT_MODEL:-}" interval=1 batch=1 topk=5 threshold=0 threads=0 output="" quiet=0
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --interval) interval="${2:?--interval needs a number}"; shift 2 ;;
    --batch) batch="${2:?--batch needs a number}"; shift 2 ;;
    --top-k) topk="${2:?--top-k needs a number}"; shift 2 ;;
    --threshold) threshold="${2:?--threshold needs a probability}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a number}"; shift 2 ;;
    --output|-o) output="${2:?--output needs a file name}"; shift 2 ;;
    --quiet|-q) quiet=1; shift ;;
    -h|--help) usage 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "tag-video.sh: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -ge 1 ] && [ ${#positional[@]} -le 2 ] || usage
video="${positional[0]}"
[ ${#positional[@]} -eq 2 ] && model="${positional[1]}"

if [ -z "$model" ]; then
  echo "tag-video.sh: no model: pass a checkpoint directory as MODEL or set DEIT_MODEL" >&2
  exit 2
fi
if [ ! -f "$video" ]; then
  echo "tag-video.sh: $video: no such file" >&2
  exit 1
fi
# gst_quote, gst_unquotable, gst_decimal: names and numbers for gst-launch-1.0's parser
. "$(dirname "$0")/gst-quote.sh"
# Check the numbers here, as plain decimal numbers within the property's range (see
# gst_decimal). number VAR MIN MAX MESSAGE: VAR without its leading zeros, or a usage
# error.
number() { gst_decimal "$1" "$2" "$3" || { echo "tag-video.sh: $4" >&2; exit 2; }; }
number interval 1 2147483647 "--interval must be a positive integer (at most 2147483647)"
number batch 1 64 "--batch must be an integer from 1 to 64"
number topk 1 2147483647 "--top-k must be a positive integer (at most 2147483647)"
number threads 0 1024 "--threads must be an integer from 0 to 1024 (0 = one per core)"
if ! awk -v p="$threshold" 'BEGIN { exit !(p ~ /^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ && p + 0 <= 1) }'; then
  echo "tag-video.sh: --threshold must be a probability from 0 to 1" >&2; exit 2
fi
[ -n "$output" ] || output="$video.tags.jsonl"

progress="progressreport update-freq=1" launch_opts=()
# --quiet: no progress lines; watch_output hides the state messages (as -q would)
[ "$quiet" -eq 1 ] && progress="identity"

me=tag-video.sh
# interruption traps (a run never looks finished) and watch_output, which stops a
# gst-launch-1.0 that hangs after its error or in PREROLLING
. "$(dirname "$0")/watch-gst-launch.sh"

# GStreamer must find the plugin; say how when it does not (the usual first-run mistake).
if ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
  echo "tag-video.sh: GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$(dirname "$0")/.." && pwd)/build/plugin) or install gst-deit" >&2
  exit 1
fi
# every name goes to gst-launch-1.0 through gst_quote (see gst-quote.sh)
gst_refuse_unquotable tag-video.sh "$video"
gst_unquotable "$model" && model="$model/"   # a folder: the same one
part="$output.part"
rm -f -- "$part"
# gst-launch prints its state messages and progressreport its lines on stdout: send them
# to stderr so stdout stays clean for callers (tag-many.sh).
# A copy of what gst-launch-1.0 prints, to explain a failure (see below), and its PID.
log=$(mktemp)
pidfile=$(mktemp)
trap 'rm -f "$log" "$pidfile"' EXIT
rc=0
running=1
# in the background, so that a signal to this script is handled at once (wait_pipeline)
{ sh -c 'echo $$ > "$0" && exec "$@"' "$pidfile" ${gst_env[@]+"${gst_env[@]}"} \
  gst-launch-1.0 ${launch_opts[@]+"${launch_opts[@]}"} \
    filesrc location="$(gst_quote "$video")" ! decodebin caps="video/x-raw(ANY)" expose-all-streams=false ! \
    videoconvert ! $progress ! \
    deitclassify model="$(gst_quote "$model")" interval="$interval" batch-size="$batch" top-k="$topk" threshold="$threshold" \
      threads="$threads" post-messages=false ! \
    deitjsonenc fresh-only=true ! filesink location="$(gst_quote "$part")" 2>&1 | watch_output "$pidfile"; } &
wait_pipeline $!
running=0
[ -z "$interrupted" ] || finish_interrupted
if [ "$rc" -ne 0 ]; then
  rm -f -- "$part"
  # decodebin exposes video streams only: with none it fails with "no suitable plugins
  # found" and a "Missing decoder:" line per stream it could not turn into video.
  if grep -q "no suitable plugins found" "$log"; then
    if grep -q "Missing decoder: .*(video/" "$log"; then
      echo "tag-video.sh: no decoder for the video stream of $video (see above; other formats need e.g." \
        "gstreamer1.0-libav or gstreamer1.0-plugins-ugly/-bad)" >&2
    else
      echo "tag-video.sh: no video stream in $video" >&2
    fi
  fi
  echo "tag-video.sh: FAILED on $video (gst-launch-1.0 exit status $rc)" >&2
  exit 1
fi
# gst-launch-1.0 also exits 0 when no frame reached deitclassify (a file cut short
# after its headers, a video stream with no frame): an empty result is a failure, else
# it would look tagged (tag-many.sh --skip-done would skip the file for ever).
if [ ! -s "$part" ]; then
  rm -f -- "$part"
  echo "tag-video.sh: no frame of $video could be decoded" >&2
  echo "tag-video.sh: FAILED on $video" >&2
  exit 1
fi
mv -f -- "$part" "$output"
[ "$quiet" -eq 1 ] || echo "tag-video.sh: $(wc -l < "$output") lines written to $output" >&2
