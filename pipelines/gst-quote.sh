# shellcheck shell=bash
# gst-quote.sh - sourced by the scripts that build a gst-launch-1.0 line with a file or
# folder name or a number in it (not run by itself; defines four functions, nothing
# else: no traps, no variables, so any script can source it).
#
# gst-launch-1.0 parses its arguments again (prop=value), so a file name passed as
# location="$f" loses its backslashes (back\slash.webm opens backslash.webm), stops at a
# tab or a newline, and a double quote followed by a space splits it. gst_quote VALUE
# prints VALUE as one value for that parser: in double quotes, with \ and " escaped;
# every character then comes through (spaces, tabs, newlines, quotes, backslashes, a
# leading dash) except a backslash at the very end, which the parser takes as escaping
# the closing quote (it then reads on to the next quote of the description).
# gst_unquotable VALUE is true for such a value: refuse it (a usage error) rather than
# read or write another file; a folder (MODEL) can be given as "VALUE/" instead.
# gst_refuse_unquotable SCRIPT NAME... does that refusing: a message naming the first
# such NAME, then exit 2.
# Numbers too: gst-launch-1.0 reads 010 as octal (8), and for a value out of range it
# only warns, keeps the default and exits 0. gst_decimal VAR MIN MAX is true when VAR
# holds a plain decimal number from MIN to MAX, and rewrites it without leading zeros.
gst_quote() { local v=${1//\\/\\\\}; v=${v//\"/\\\"}; printf '"%s"' "$v"; }
gst_unquotable() { [[ $1 == *\\ ]]; }
gst_decimal() {
  local v=${!1}
  case "$v" in ''|*[!0-9]*) return 1 ;; esac
  v=${v#"${v%%[!0]*}"}
  v=${v:-0}
  [ ${#v} -le 10 ] && [ "$v" -ge "$2" ] && [ "$v" -le "$3" ] || return 1
  printf -v "$1" '%s' "$v"
}
gst_refuse_unquotable() {
  local me=$1 n
  shift
  for n in "$@"; do
    if gst_unquotable "$n"; then
      echo "$me: $n: a name ending in a backslash cannot be passed to gst-launch-1.0; rename it" >&2
      exit 2
    fi
  done
}
