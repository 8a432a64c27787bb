#!/bin/sh
# bench-pipeline.sh - frames per second of a 1080p I420 stream through deitclassify with a
# DeiT-tiny-sized checkpoint (random weights, real checkpoint format) into fakesink:
# pipeline time, i.e. test-pattern generation + preprocessing (1920x1080 I420 -> bicubic
# 256 -> crop 224) + the forward pass + metas/messages, not the model alone.
#
#   bench/bench-pipeline.sh BUILD_DIR [FRAMES=300] [THREADS=2]
#
# Runs two launch lines: the element in the source's streaming thread, and with a queue
# in front so that videotestsrc renders the next frame while the element classifies.
# Frames per second = frames / the running time gst-launch-1.0 reports ("Execution ended
# after ..."), which covers PLAYING to EOS, so loading the model is not included.
set -eu

BUILD=${1:?usage: bench-pipeline.sh BUILD_DIR [FRAMES] [THREADS]}
FRAMES=${2:-300}
THREADS=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL="$HERE/.cache/tiny-distilled"
mkdir -p "$HERE/.cache"

if [ ! -f "$BUILD/plugin/libgstdeit.so" ]; then
    echo "bench-pipeline: $BUILD/plugin/libgstdeit.so not built (the deitclassify element)" >&2
    exit 77
fi
if [ ! -f "$MODEL/model.safetensors" ]; then
    "$BUILD/bench/deit-bench" --config tiny --distilled --save "$MODEL" --iters 1 --warmup 0 --threads 1 >/dev/null
fi

export GST_PLUGIN_PATH="$BUILD/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export LD_LIBRARY_PATH="$BUILD/plugin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
CAPS="video/x-raw,format=I420,width=1920,height=1080,framerate=30/1"

run() {
    name=$1
    shift
    out=$(gst-launch-1.0 "$@" 2>&1) || { echo "$out" >&2; exit 1; }
    t=$(echo "$out" | sed -n 's/.*Execution ended after \([0-9:.]*\).*/\1/p' | tail -1)
    if [ -z "$t" ]; then
        echo "$out" >&2
        echo "bench-pipeline: no 'Execution ended' line from gst-launch-1.0" >&2
        exit 1
    fi
    # H:MM:SS.nnnnnnnnn -> seconds
    secs=$(echo "$t" | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }')
    fps=$(awk -v f="$FRAMES" -v s="$secs" 'BEGIN { printf "%.1f", f / s }')
    ms=$(awk -v f="$FRAMES" -v s="$secs" 'BEGIN { printf "%.2f", 1000 * s / f }')
    echo "$name: $FRAMES frames in ${secs}s = $fps fps ($ms ms/frame)"
    echo "{\"pipeline\":\"$name\",\"frames\":$FRAMES,\"threads\":$THREADS,\"seconds\":$secs,\"fps\":$fps}"
}

run "videotestsrc ! deitclassify ! fakesink" \
    videotestsrc num-buffers="$FRAMES" ! "$CAPS" ! \
    deitclassify model="$MODEL" threads="$THREADS" post-messages=false ! fakesink sync=false
run "videotestsrc ! queue ! deitclassify ! fakesink" \
    videotestsrc num-buffers="$FRAMES" ! "$CAPS" ! queue max-size-buffers=4 ! \
    deitclassify model="$MODEL" threads="$THREADS" post-messages=false ! fakesink sync=false
