#!/usr/bin/env bash
# tag-many.sh - tag many videos in parallel with GNU parallel: runs tag-video.sh on each
# file, several at a time, and writes each result next to its input (VIDEO.tags.jsonl).
# A file that fails is reported and does not stop the others.
#
# Usage: tag-many.sh [options] (VIDEO | DIR)...
#        tag-many.sh [options] --list FILE      (one path per line; "-" reads stdin)
#   DIR               every video file under it (by extension: mp4 mkv webm avi mov m4v
#                     mpg mpeg ts mts ogv flv wmv 3gp), recursively
#   --model DIR       checkpoint directory; default: $DEIT_MODEL
#   --jobs J          files tagged at once (default: one per CPU core)
#   --threads T       inference threads per file (default: cores / jobs, at least 1)
#   --interval N      classify every Nth frame (see tag-video.sh)
#   --skip-done       leave out files whose VIDEO.tags.jsonl is newer than the video
#   --sshlogin LOGIN  also run jobs on another machine (repeatable; GNU parallel syntax,
#                     e.g. "4/user@host"; ":" is this machine). The remote needs the plugin
#                     (GST_PLUGIN_PATH in its environment or installed) and MODEL at the
#                     same path; tag-video.sh is copied there (--basefile). With a shared
#                     file system that is all; without one add --transfer, which copies each
#                     video over and its .tags.jsonl back (--transferfile/--return/--cleanup).
#   --transfer        see --sshlogin
#   --joblog FILE     keep GNU parallel's job log (default: a temporary file)
# Exit status: 0 when every file was tagged; N (1-100) when N files failed (100 means 100
# or more); 101 on a usage or setup error (no files, GNU parallel missing).
# Needs GNU parallel (Debian package "parallel").
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tag_video="$here/tag-video.sh"

usage() {
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-101}"
}

model="${DEIT_MODEL:-}" jobs="" threads="" interval=1 skip_done=0 transfer=0
list="" joblog="" sshlogins=() inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="${2:?--model needs a directory}"; shift 2 ;;
    --jobs|-j) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    --threads) threads="${2:?--threads needs a number}"; shift 2 ;;
    --interval) interval="${2:?--interval needs a number}"; shift 2 ;;
    --skip-done) skip_done=1; shift ;;
    --sshlogin|-S) sshlogins+=(--sshlogin "${2:?--sshlogin needs a login}"); shift 2 ;;
    --transfer) transfer=1; shift ;;
    --list) list="${2:?--list needs a file}"; shift 2 ;;
    --joblog) joblog="${2:?--joblog needs a file}"; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; inputs+=("$@"); break ;;
    -*) echo "tag-many.sh: unknown option $1" >&2; usage ;;
    *) inputs+=("$1"); shift ;;
  esac
done

command -v parallel >/dev/null 2>&1 || {
  echo "tag-many.sh: GNU parallel not found (Debian: apt-get install parallel)" >&2
  exit 101
}
if [ -z "$model" ]; then
  echo "tag-many.sh: no model: pass --model DIR or set DEIT_MODEL" >&2
  exit 101
fi

# Collect the files: arguments (files or folders) and the list file.
files=()
add_dir() {
  local f
  while IFS= read -r -d '' f; do files+=("$f"); done < <(
    find "$1" -type f \( -iname '*.mp4' -o -iname '*.mkv' -o -iname '*.webm' \
      -o -iname '*.avi' -o -iname '*.mov' -o -iname '*.m4v' -o -iname '*.mpg' \
      -o -iname '*.mpeg' -o -iname '*.ts' -o -iname '*.mts' -o -iname '*.ogv' \
      -o -iname '*.flv' -o -iname '*.wmv' -o -iname '*.3gp' \) \
      ! -iname '*.annotated.webm' -print0 | sort -z)
}
for a in "${inputs[@]}"; do
  if [ -d "$a" ]; then add_dir "$a"; else files+=("$a"); fi
done
if [ -n "$list" ]; then
  while IFS= read -r f || [ -n "$f" ]; do
    [ -n "$f" ] && files+=("$f")
  done < <(if [ "$list" = "-" ]; then cat; else cat -- "$list"; fi)
fi
if [ "$skip_done" -eq 1 ] && [ ${#files[@]} -gt 0 ]; then
  todo=()
  for f in "${files[@]}"; do
    [ "$f.tags.jsonl" -nt "$f" ] || todo+=("$f")
  done
  if [ ${#todo[@]} -eq 0 ]; then
    # Nothing left to do is success (a re-run over a finished folder), not a usage error.
    echo "tag-many.sh: all ${#files[@]} files already tagged (--skip-done)" >&2
    exit 0
  fi
  files=("${todo[@]}")
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "tag-many.sh: no video files to tag" >&2
  exit 101
fi

# Without remote machines, check once that GStreamer finds the plugin (else every file
# would fail with the same error).
if [ ${#sshlogins[@]} -eq 0 ] && ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
  echo "tag-many.sh: GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
    "(e.g. $(cd "$here/.." && pwd)/build/plugin) or install gst-deit" >&2
  exit 101
fi
cores=$(nproc 2>/dev/null || echo 1)
[ -n "$jobs" ] || jobs=$cores
[ -n "$threads" ] || threads=$(( cores / jobs > 0 ? cores / jobs : 1 ))

remote=()
if [ ${#sshlogins[@]} -gt 0 ]; then
  remote=("${sshlogins[@]}" --basefile "$tag_video")
  [ "$transfer" -eq 1 ] && remote+=(--transferfile {} --return {}.tags.jsonl --cleanup)
fi

[ -n "$joblog" ] || { joblog="$(mktemp)"; trap 'rm -f "$joblog"' EXIT; }
echo "tag-many.sh: ${#files[@]} files, $jobs at a time, $threads inference threads each" >&2

# One tag-video.sh per file; its errors go to stderr grouped per job. --halt never:
# a failure does not stop the other jobs. -q: GNU parallel runs the command through a
# shell; -q quotes each word, so a model or script path with spaces stays one argument.
printf '%s\0' "${files[@]}" |
  parallel --will-cite -0 -q --jobs "$jobs" --halt never --joblog "$joblog" "${remote[@]}" \
    "$tag_video" --quiet --threads "$threads" --interval "$interval" {} "$model"

# The job log has one line per job (after a header): Seq Host Starttime JobRuntime Send
# Receive Exitval Signal Command. Seq is the position of the file in the input.
failed=()
while IFS=$'\t' read -r seq _host _start _runtime _send _receive exitval signal _cmd; do
  [ "$seq" = "Seq" ] && continue
  if [ "$exitval" != 0 ] || [ "$signal" != 0 ]; then
    failed+=("${files[$((seq - 1))]}")
  fi
done < "$joblog"
done_count=$(( ${#files[@]} - ${#failed[@]} ))
echo "tag-many.sh: $done_count of ${#files[@]} files tagged" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "tag-many.sh: ${#failed[@]} failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
fi
n=${#failed[@]}
exit $(( n > 100 ? 100 : n ))
