#!/usr/bin/env bash
# tag-many.sh - tag many videos in parallel with GNU parallel: runs tag-video.sh on each
# file, several at a time, and writes each result next to its input (VIDEO.tags.jsonl).
# A file that fails is reported and does not stop the others. A file counts as tagged
# only when its job succeeded and its complete, new VIDEO.tags.jsonl is in place. A file
# given twice (same real path) is tagged once.
#
# Usage: tag-many.sh [options] (VIDEO | DIR)...
#        tag-many.sh [options] --list FILE      (one path per line; "-" reads stdin)
#   DIR               every video file under it (by extension: mp4 mkv webm avi mov m4v
#                     mpg mpeg ts mts ogv flv wmv 3gp), recursively
#   --model DIR       checkpoint directory; default: $DEIT_MODEL
#   --jobs J          files tagged at once on each machine (default: one per CPU core;
#                     with --sshlogin, N/ in a login or that machine's core count)
#   --threads T       inference threads per file (default: cores / jobs, at least 1;
#                     1 with --sshlogin)
#   --interval N      classify every Nth frame (see tag-video.sh)
#   --skip-done       leave out files whose VIDEO.tags.jsonl is complete (not empty,
#                     whole lines) and newer than the video
#   --sshlogin LOGIN  also run jobs on another machine (repeatable; GNU parallel syntax,
#                     e.g. "4/user@host" for 4 jobs there; ":" is this machine). Each
#                     machine is checked first (ssh, rsync, gst-launch-1.0, the plugin,
#                     MODEL at the same path); one that fails is named and left out.
#                     tag-video.sh is copied to a temporary folder there. The plugin is
#                     found through that machine's environment or an installed copy; the
#                     folders of this machine's GST_PLUGIN_PATH (and GST_PLUGIN_PATH_1_0)
#                     that exist there too (shared file system, same layout) come first.
#                     With a shared file system (same paths) that is all; without one
#                     add --transfer.
#   --transfer        copy each video to a temporary work folder on the remote machine
#                     and its .tags.jsonl back; only those copies are removed there,
#                     never the inputs
#   --joblog FILE     keep GNU parallel's job log (default: a temporary file)
# Exit status: 0 when every file was tagged; N (1-100) when N files failed (100 means 100
# or more); 101 on a usage or setup error (bad option, no files, GNU parallel missing,
# rsync missing with --sshlogin, no usable machine); 128+N when stopped by signal N
# (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), also one sent to this script alone.
# Needs GNU parallel (Debian package "parallel"); with remote machines also rsync and ssh
# here and rsync there.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
tag_video="$here/tag-video.sh"

usage() {   # -h: the header on stdout, exit 0; a usage error: on stderr
  if [ "${1:-101}" = 0 ]; then sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; else sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//' >&2; fi
  exit "${1:-101}"
}
die() { echo "tag-many.sh: $*" >&2; exit 101; }
# needs OPTION ARGUMENT...: the option's value, or a usage error (never an unbound variable)
needs() { [ $# -ge 2 ] || { echo "tag-many.sh: $1 needs a value" >&2; usage; }; }

model="${DEIT_MODEL:-}" jobs="" threads="" interval=1 skip_done=0 transfer=0
list="" joblog="" sshlogins=() inputs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) needs "$@"; model="$2"; shift 2 ;;
    --jobs|-j) needs "$@"; jobs="$2"; shift 2 ;;
    --threads) needs "$@"; threads="$2"; shift 2 ;;
    --interval) needs "$@"; interval="$2"; shift 2 ;;
    --skip-done) skip_done=1; shift ;;
    --sshlogin|-S) needs "$@"; sshlogins+=("$2"); shift 2 ;;
    --transfer) transfer=1; shift ;;
    --list) needs "$@"; list="$2"; shift 2 ;;
    --joblog) needs "$@"; joblog="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; inputs+=("$@"); break ;;
    -*) echo "tag-many.sh: unknown option $1" >&2; usage ;;
    *) inputs+=("$1"); shift ;;
  esac
done
# count VAR MAX OPTION: VAR as a plain decimal number from 1 to MAX (gst_decimal:
# leading zeros dropped, as gst-launch-1.0 would read 010 as octal 8; above
# tag-video.sh's or the property's range the job would fail or the value be ignored),
# else a usage error
. "$here/gst-quote.sh"
count() {
  gst_decimal "$1" 1 "$2" ||
    { echo "tag-many.sh: $3 must be a positive integer (at most $2)" >&2; usage; }
}
[ -z "$jobs" ] || count jobs 2147483647 --jobs
[ -z "$threads" ] || count threads 1024 --threads
count interval 2147483647 --interval
[ "$transfer" -eq 0 ] || [ ${#sshlogins[@]} -gt 0 ] || { echo "tag-many.sh: --transfer needs --sshlogin" >&2; usage; }

# Every requirement up front: GNU parallel; with remote machines rsync and ssh here.
parallel --version 2>/dev/null | grep -q "GNU parallel" ||
  die "GNU parallel not found (Debian: apt-get install parallel)"
# The logins one by one (GNU parallel also accepts "a,b" in one --sshlogin)
logins=()
for s in ${sshlogins[@]+"${sshlogins[@]}"}; do
  IFS=, read -ra parts <<< "$s"
  for p in ${parts[@]+"${parts[@]}"}; do [ -z "$p" ] || logins+=("$p"); done
done
remote=0
for l in ${logins[@]+"${logins[@]}"}; do [ "$l" = ":" ] || remote=1; done
if [ "$remote" -eq 1 ]; then
  command -v rsync >/dev/null 2>&1 ||
    die "rsync not found: --sshlogin needs rsync here and on each machine (Debian: apt-get install rsync)"
  command -v ssh >/dev/null 2>&1 ||
    die "ssh not found: --sshlogin needs an ssh client (Debian: apt-get install openssh-client)"
fi
[ -n "$model" ] || die "no model: pass --model DIR or set DEIT_MODEL"
# Remote jobs start in the login folder: give them absolute paths.
abspath() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "${1#./}" ;; esac; }
[ ${#logins[@]} -eq 0 ] || [ ! -d "$model" ] || model=$(cd "$model" && pwd)

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
for a in ${inputs[@]+"${inputs[@]}"}; do
  if [ -d "$a" ]; then add_dir "$a"; else files+=("$a"); fi
done
if [ -n "$list" ]; then
  while IFS= read -r f || [ -n "$f" ]; do
    [ -n "$f" ] && files+=("$f")
  done < <(if [ "$list" = "-" ]; then cat; else cat -- "$list"; fi)
fi
# The same file twice (overlapping folders, a repeated --list line, a symlink) would run
# two jobs on one FILE.tags.jsonl.part, and one of them would fail: keep each file once,
# by its real path, under the first name given.
if [ ${#files[@]} -gt 1 ]; then
  mapfile -d '' real < <(printf '%s\0' "${files[@]}" | xargs -0 realpath -z -m --)
  if [ ${#real[@]} -eq ${#files[@]} ]; then
    declare -A seen=()
    uniq=()
    for i in "${!files[@]}"; do
      [ -z "${seen[${real[$i]}]+x}" ] || continue
      seen[${real[$i]}]=1
      uniq+=("${files[$i]}")
    done
    files=("${uniq[@]}")
  fi
fi
# complete FILE: non-empty and ends with a newline (tag-video.sh writes whole lines)
complete() { [ -s "$1" ] && [ -z "$(tail -c 1 -- "$1")" ]; }
if [ "$skip_done" -eq 1 ] && [ ${#files[@]} -gt 0 ]; then
  todo=()
  for f in "${files[@]}"; do
    # done: a complete result (the check made after a run), newer than the video
    { complete "$f.tags.jsonl" && [ "$f.tags.jsonl" -nt "$f" ]; } || todo+=("$f")
  done
  if [ ${#todo[@]} -eq 0 ]; then
    # Nothing left to do is success (a re-run over a finished folder), not a usage error.
    echo "tag-many.sh: all ${#files[@]} files already tagged (--skip-done)" >&2
    exit 0
  fi
  files=("${todo[@]}")
fi
[ ${#files[@]} -gt 0 ] || die "no video files to tag"

cleanup_files=()
cleanup() { [ ${#cleanup_files[@]} -eq 0 ] || rm -rf -- "${cleanup_files[@]}"; }
trap cleanup EXIT
# Ctrl-C: GNU parallel stops the jobs, each tag-video.sh removes its partial result; the
# results already in place are complete ones. A signal to this script alone (kill PID)
# while GNU parallel runs: parallel runs in the background, the signal ends the "wait"
# for it, and it gets SIGINT as on Ctrl-C (stop_parallel); only then this script exits.
pjob="" pending=""
interrupted() {
  if [ -n "$pjob" ]; then pending="$1 $2"; return; fi
  echo "tag-many.sh: INTERRUPTED (SIG$1): the results in place are complete; the files" \
    "being tagged have none" >&2
  exit "$2"
}
trap 'interrupted INT 130' INT
trap 'interrupted TERM 143' TERM
trap 'interrupted HUP 129' HUP
[ -n "$joblog" ] || { joblog="$(mktemp)"; cleanup_files+=("$joblog"); }
cores=$(nproc 2>/dev/null || echo 1)

popts=()     # GNU parallel options for the machines
cmd=()       # the command GNU parallel runs for each file ({} = the file)
args=()      # what GNU parallel gets for each file
if [ ${#logins[@]} -eq 0 ]; then
  # This machine only: check once that GStreamer finds the plugin (else every file would
  # fail with the same error).
  if ! gst-inspect-1.0 deitclassify >/dev/null 2>&1; then
    die "GStreamer does not find the deitclassify element: export GST_PLUGIN_PATH=BUILD_DIR/plugin" \
      "(e.g. $(cd "$here/.." && pwd)/build/plugin) or install gst-deit"
  fi
  [ -n "$jobs" ] || jobs=$cores
  [ -n "$threads" ] || threads=$(( cores / jobs > 0 ? cores / jobs : 1 ))
  popts=(--jobs "$jobs")
  args=("${files[@]}")
  cmd=("$tag_video" --quiet --threads "$threads" --interval "$interval" -- {} "$model")
  echo "tag-many.sh: ${#files[@]} files, $jobs at a time, $threads inference threads each" >&2
else
  # A folder of our own (/tmp exists everywhere; the same path on every machine) with a
  # copy of tag-video.sh (with the watch-gst-launch.sh and gst-quote.sh it sources) and
  # job.sh, copied to each machine by GNU parallel (--basefile).
  stage=$(mktemp -d /tmp/tag-many.XXXXXXXX) || die "cannot make a temporary folder in /tmp"
  cleanup_files+=("$stage")
  mkdir -p "$stage/in" "$stage/out"
  cp "$tag_video" "$stage/tag-video.sh"
  cp "$(dirname "$tag_video")/watch-gst-launch.sh" "$stage/watch-gst-launch.sh"
  cp "$(dirname "$tag_video")/gst-quote.sh" "$stage/gst-quote.sh"
  cat > "$stage/job.sh" <<'JOB'
#!/usr/bin/env bash
# job.sh, written by tag-many.sh: runs the tag-video.sh next to it on one machine.
#   job.sh --check MODEL                   can this machine tag? (prints why not)
#   job.sh --direct FILE MODEL OPTIONS...  FILE at the same path here (shared files)
#   job.sh --staged NAME MODEL OPTIONS...  NAME copied into the current folder (--transfer)
stage=$(cd "$(dirname "$0")" && pwd)
# The folders of the calling machine's plugin path that exist here come first.
if [ -n "${DEIT_TAG_MANY_PLUGIN_PATH:-}" ]; then
  add=""
  IFS=: read -ra dirs <<< "$DEIT_TAG_MANY_PLUGIN_PATH"
  for d in ${dirs[@]+"${dirs[@]}"}; do [ -n "$d" ] && [ -d "$d" ] && add="${add:+$add:}$d"; done
  if [ -n "$add" ]; then
    export GST_PLUGIN_PATH="$add${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    [ -z "${GST_PLUGIN_PATH_1_0:-}" ] || export GST_PLUGIN_PATH_1_0="$add:$GST_PLUGIN_PATH_1_0"
  fi
fi
case "$1" in
--check)
  missing=""
  for c in bash gst-launch-1.0 gst-inspect-1.0 rsync; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
  done
  [ -z "$missing" ] || { echo "not installed:$missing"; exit 1; }
  gst-inspect-1.0 deitclassify >/dev/null 2>&1 ||
    { echo "GStreamer does not find the deitclassify element (GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-})"; exit 1; }
  [ -f "$2/config.json" ] || { echo "no checkpoint at $2 (no config.json)"; exit 1; }
  exit 0 ;;
--direct)
  file=$2 model=$3; shift 3
  exec bash "$stage/tag-video.sh" "$@" -- "$file" "$model" ;;
--staged)
  name=$2 model=$3; shift 3
  if [ "${PARALLEL_SSHLOGIN:-:}" != ":" ]; then
    # a remote machine: the copy is in this job's work folder, the result goes back from it
    [ -f "./$name" ] || { echo "tag-many.sh: the copy of the video did not arrive on $(uname -n)" >&2; exit 1; }
    exec bash "$stage/tag-video.sh" "$@" --output "./$name.tags.jsonl" -- "./$name" "$model"
  fi
  # ":" (this machine): GNU parallel copies nothing
  exec bash "$stage/tag-video.sh" "$@" --output "$stage/out/$name.tags.jsonl" -- "$stage/in/$name" "$model" ;;
esac
echo "job.sh: bad arguments" >&2
exit 2
JOB
  export DEIT_TAG_MANY_PLUGIN_PATH="${GST_PLUGIN_PATH_1_0:-}${GST_PLUGIN_PATH_1_0:+:}${GST_PLUGIN_PATH:-}"
  base=(--basefile "$stage/tag-video.sh" --basefile "$stage/watch-gst-launch.sh"
        --basefile "$stage/gst-quote.sh"
        --basefile "$stage/job.sh" --env DEIT_TAG_MANY_PLUGIN_PATH)

  # Check every machine first; leave out (and name) those that cannot tag, so that a
  # misconfigured machine does not fail job after job.
  good=()
  for l in "${logins[@]}"; do
    if out=$(parallel --will-cite --nonall -S "$l" "${base[@]}" -q \
               bash "$stage/job.sh" --check "$model" 2>&1 < /dev/null); then
      good+=("$l")
    else
      echo "tag-many.sh: machine '$l' left out: $(printf '%s' "${out:-ssh or rsync failed}" | tr '\n' ' ')" >&2
    fi
  done
  [ ${#good[@]} -gt 0 ] || die "no machine can tag (see above)"
  for l in "${good[@]}"; do popts+=(--sshlogin "$l"); done
  popts+=("${base[@]}" --cleanup)
  # Without --jobs, each machine runs as many jobs as its N/ says or it has cores.
  popts+=(--jobs "${jobs:-100%}")
  [ -n "$threads" ] || threads=1
  opts=(--quiet --threads "$threads" --interval "$interval")
  if [ "$transfer" -eq 0 ]; then
    for f in "${files[@]}"; do args+=("$(abspath "$f")"); done
    cmd=(bash "$stage/job.sh" --direct {} "$model" "${opts[@]}")
  else
    # Each video goes over under a plain name (v1.webm...) through a symlink (rsync -L
    # copies what it points to) into a work folder of its own there (--workdir ...: under
    # ~/.parallel/tmp, removed after the job with the copies in it), and its result comes
    # back to $stage/out. Nothing at the user's paths is ever given to --cleanup.
    i=0
    for f in "${files[@]}"; do
      i=$((i + 1))
      ext=${f##*.}
      case "$ext" in */*|"$f"|*[!A-Za-z0-9]*) ext=video ;; esac
      ln -s "$(abspath "$f")" "$stage/in/v$i.$ext"
      args+=("v$i.$ext")
    done
    popts+=(--workdir ... --rsync-opts -rDzRL --transferfile "$stage/in/./{}"
            --return "$stage/out/./{}.tags.jsonl")
    cmd=(bash "$stage/job.sh" --staged {} "$model" "${opts[@]}")
  fi
  echo "tag-many.sh: ${#files[@]} files on ${#good[@]} machine(s) (${good[*]})," \
    "${jobs:-N/ or one per core} at a time on each, $threads inference threads each" >&2
fi

# The result of each file before the run, to tell a new result from an old one
# (tag-video.sh renames a complete result into place: a new inode).
sig() { stat -L -c '%d:%i:%s:%y' -- "$1" 2>/dev/null || echo none; }
before=()
for f in "${files[@]}"; do before+=("$(sig "$f.tags.jsonl")"); done

# One tag-video.sh per file; its errors go to stderr grouped per job. --halt never:
# a failure does not stop the other jobs. -q: GNU parallel runs the command through a
# shell; -q quotes each word, so paths with spaces or quotes stay one argument.
# In the background (see interrupted above); env --default-signal: a background job of a
# script starts with SIGINT ignored, until parallel installs its handler.
penv=()
! env --default-signal=INT true 2>/dev/null || penv=(env --default-signal=INT)
${penv[@]+"${penv[@]}"} parallel --will-cite -0 -q --halt never --joblog "$joblog" "${popts[@]}" "${cmd[@]}" \
  < <(printf '%s\0' "${args[@]}") &
pjob=$!
prc=0
[ -n "$pending" ] || wait "$pjob" || prc=$?
if [ -n "$pending" ]; then
  # GNU parallel on SIGINT sends its jobs SIGTERM (each tag-video.sh then removes its
  # .part) and exits; again every second until it is gone
  n=0
  while kill -0 "$pjob" 2>/dev/null; do
    [ $((n % 10)) -ne 0 ] || kill -INT "$pjob" 2>/dev/null
    n=$((n + 1))
    sleep 0.1
  done
  pjob=""
  interrupted $pending
fi
pjob=""
if [ "$prc" -gt 100 ]; then
  echo "tag-many.sh: GNU parallel stopped with exit status $prc; only the results in place count" >&2
fi

# The job log has one line per job (after a header): Seq Host Starttime JobRuntime Send
# Receive Exitval Signal Command. Seq is the position of the file in the input.
declare -A status=() host=()
while IFS=$'\t' read -r seq h _start _runtime _send _receive exitval signal _cmd; do
  [ "$seq" = "Seq" ] && continue
  case "$seq" in ''|*[!0-9]*) continue ;; esac
  host[$seq]=$h
  if [ "$signal" != 0 ]; then status[$seq]="signal $signal"
  elif [ "$exitval" != 0 ]; then status[$seq]="exit status $exitval"
  else status[$seq]=ok; fi
done < "$joblog"

failed=()
for i in "${!files[@]}"; do
  seq=$((i + 1)) f=${files[$i]} res="${files[$i]}.tags.jsonl"
  st=${status[$seq]:-"did not run"}
  on=""
  [ ${#logins[@]} -eq 0 ] || on=" on ${host[$seq]:-no machine}"
  if [ "$st" = ok ]; then
    if [ "$transfer" -eq 1 ]; then
      got="$stage/out/${args[$i]}.tags.jsonl"
      if ! complete "$got"; then
        st="no complete result came back"
      elif ! { cp -- "$got" "$res.part" && mv -f -- "$res.part" "$res"; }; then
        rm -f -- "$res.part"; st="cannot write $res"
      fi
    elif ! complete "$res" || [ "$(sig "$res")" = "${before[$i]}" ]; then
      st="no new complete $res"
    fi
  fi
  if [ "$st" != ok ]; then
    # this machine only: a failed job is named by its file (tag-video.sh said why above)
    if [ ${#logins[@]} -eq 0 ] && [ "${st#exit status}" != "$st" ]; then failed+=("$f")
    else failed+=("$f ($st$on)"); fi
  fi
done
done_count=$(( ${#files[@]} - ${#failed[@]} ))
echo "tag-many.sh: $done_count of ${#files[@]} files tagged" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "tag-many.sh: ${#failed[@]} failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
fi
n=${#failed[@]}
exit $(( n > 100 ? 100 : n ))
