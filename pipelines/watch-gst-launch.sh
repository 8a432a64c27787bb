# watch-gst-launch.sh - sourced by tag-video.sh and annotate-video.sh (not run by itself):
# what both need to run one gst-launch-1.0 into a .part file and never look finished when
# it was not. Sourcing it installs the interruption traps; the caller sets $me (its name)
# before, and $video, $part, $running, $log and $quiet as it goes.
#
# Ctrl-C (SIGINT to the whole process group), SIGTERM, SIGHUP: gst-launch-1.0 stops the
# pipeline and exits 0 as if the file had ended, so a run must remember that it was
# interrupted (check $interrupted after gst-launch-1.0 returns and call
# finish_interrupted) and never rename the partial result. (No -e: a forced EOS would
# also look like the end of the file.)
# A signal sent to the script alone (kill PID, a supervisor's terminate()) reaches only
# bash, which would run its trap only after a foreground gst-launch-1.0 had finished
# the whole file: so the pipeline runs in the background ("{ ... | watch_output
# PIDFILE; } &") and wait_pipeline waits for it; a trapped signal ends that wait, and
# wait_pipeline stops gst-launch-1.0 as Ctrl-C does (SIGINT to the PID in $pidfile,
# again every half second until it is gone). A background job of a script starts with
# SIGINT ignored, which gst-launch-1.0 overrides only once it has parsed its pipeline:
# "${gst_env[@]}" (env --default-signal=INT, where env has it) runs it with the default
# action until then.
interrupted=""
part=""
running=0
on_signal() {
  interrupted=$1
  # not yet (or no longer) inside gst-launch-1.0: stop here
  [ "${running:-0}" -eq 1 ] || finish_interrupted
}
finish_interrupted() {
  [ -z "$part" ] || rm -f -- "$part"
  echo "$me: INTERRUPTED (SIG$interrupted) on ${video:-?}: no result written" >&2
  case "$interrupted" in INT) exit 130 ;; TERM) exit 143 ;; *) exit 129 ;; esac
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
gst_env=()
! env --default-signal=INT true 2>/dev/null || gst_env=(env --default-signal=INT)
wait_pipeline() {  # wait_pipeline JOB: waits for the background job JOB; its status in $rc
  local job=$1 gpid n=0
  rc=0
  [ -n "$interrupted" ] || wait "$job" || rc=$?
  [ -n "$interrupted" ] || return 0
  while kill -0 "$job" 2>/dev/null; do
    if [ $((n % 5)) -eq 0 ]; then
      gpid=$(cat "$pidfile" 2>/dev/null) || gpid=""
      [ -z "$gpid" ] || kill -INT "$gpid" 2>/dev/null || true
    fi
    n=$((n + 1))
    sleep 0.1
  done
}
#
# GStreamer 1.22's gst-launch-1.0 sometimes never ends on a file it cannot play: after
# its ERROR when decodebin cannot type a file, or stuck in PREROLLING with no error when
# an audio stream fails to link (filesrc ! decodebin ! videoconvert on an audio file: a
# few runs in a hundred on a busy machine, also without deitclassify; the audio is no
# longer exposed, but the guard stays). That would hang the run, and tag-many.sh,
# for ever. watch_output copies gst-launch-1.0's output to stderr (--quiet: only errors
# and warnings) and to $log, and kills the process (its PID is in PIDFILE) when it is
# still there DEIT_ERROR_GRACE seconds (default 10) after an ERROR line, or
# DEIT_PREROLL_TIMEOUT seconds (default 300) after "PREROLLING" without "PREROLLED";
# the run then fails like any other.
watch_output() {  # watch_output PIDFILE
  local pidfile=$1 line pending="" error_at="" preroll_at="" rc pid why=""
  while :; do
    rc=0
    IFS= read -r -t 1 line || rc=$?
    if [ "$rc" -eq 0 ] || { [ "$rc" -le 128 ] && [ -n "$pending$line" ]; }; then
      line=$pending$line pending=""
      printf '%s\n' "$line" >> "$log"
      case "$line" in
        ERROR:*) [ -n "$error_at" ] || error_at=$SECONDS ;;
        "Pipeline is PREROLLING"*) preroll_at=$SECONDS ;;
        "Pipeline is PREROLLED"*) preroll_at="" ;;
      esac
      if [ "$quiet" -eq 0 ]; then
        printf '%s\n' "$line" >&2
      else
        # what -q would not print: gst-launch-1.0's state messages
        case "$line" in
          "Setting pipeline to "*|"Pipeline is "*|"Redistribute latency"*|"New clock: "*|"Got EOS from element"*|\
          "Execution ended after"*|"Freeing pipeline"*|"Got context from element"*|"Progress: "*) ;;
          *) printf '%s\n' "$line" >&2 ;;
        esac
      fi
      [ "$rc" -eq 0 ] && continue
    fi
    [ "$rc" -le 128 ] && return 0   # end of the output
    pending=$pending$line           # read timed out (keeps a partial line)
    why=""
    if [ -n "$error_at" ] && [ "$error_at" != done ] &&
       [ $((SECONDS - error_at)) -ge "${DEIT_ERROR_GRACE:-10}" ]; then
      why="did not stop ${DEIT_ERROR_GRACE:-10} s after its error"
    elif [ -n "$preroll_at" ] && [ "$error_at" != done ] &&
         [ $((SECONDS - preroll_at)) -ge "${DEIT_PREROLL_TIMEOUT:-300}" ]; then
      why="was still prerolling after ${DEIT_PREROLL_TIMEOUT:-300} s"
    fi
    if [ -n "$why" ]; then
      pid=$(cat "$pidfile" 2>/dev/null)
      if [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; then
        echo "$me: gst-launch-1.0 $why: killed it" >&2
      fi
      error_at=done
    fi
  done
}
