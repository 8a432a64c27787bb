#!/usr/bin/python3
# classify-app.py - deitclassify's results in a Python application (PyGObject), frame by
# frame, read from the buffers themselves rather than from the bus.
#
# Usage: classify-app.py FILE [MODEL] [PROPERTY=VALUE...]
#   FILE   a video or image file GStreamer can decode
#   MODEL  checkpoint directory; default: $DEIT_MODEL
#   PROPERTY=VALUE  deitclassify properties, e.g. top-k=3 interval=5
# Runs  filesrc location=FILE ! decodebin ! videoconvert ! deitclassify model=MODEL ... !
#       appsink
# and prints one line per frame: its time in seconds, "new" (classified on this frame)
# or "old" (carried over, interval > 1), then the top-k as class id, probability, label
# ("-" for a frame without a result):
#   1.000 s new 8 0.9755 tabby, tabby cat | 2 0.0136 tiger cat
# The results come from the GstVideoRegionOfInterestMeta deitclassify attaches to every
# classified frame (roi_type "classification", a parameter structure
# "deit-classification" with the fields of docs/elements.md), which GStreamer's own
# Python bindings read: no binding of ours is needed. The meta is found by its id, 0;
# behind a detector whose boxes also have id 0 (facedetect) that lookup can find a box
# instead, and with several deitclassify elements it finds the first one's: read the
# bus messages or deitjsonenc's lines there. Needs python3-gi, gir1.2-gstreamer-1.0 and
# gir1.2-gst-plugins-base-1.0 (Debian), and the plugin on GST_PLUGIN_PATH.
# Exit status: 0 on success, 1 when the pipeline fails, 2 on a usage error.
import os
import sys
import warnings

def usage(code):
    """The comment block at the top of this file (after the #! line)."""
    lines = []
    with open(__file__) as f:
        for line in f.read().splitlines()[1:]:
            if not line.startswith("#"):
                break
            lines.append(line[2:] if line.startswith("# ") else line[1:])
    print("\n".join(lines), file=sys.stdout if code == 0 else sys.stderr)
    sys.exit(code)


def main(argv):
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        usage(0 if argv and argv[0] in ("-h", "--help") else 2)
    path, rest = argv[0], argv[1:]
    model = os.environ.get("DEIT_MODEL", "")
    if rest and ("=" not in rest[0] or os.path.isdir(rest[0])):
        model, rest = rest[0], rest[1:]
    if not model:
        print("classify-app.py: no model: give MODEL or set DEIT_MODEL", file=sys.stderr)
        return 2
    if not os.path.isfile(path):
        print("classify-app.py: %s: no such file" % path, file=sys.stderr)
        return 1

    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstVideo", "1.0")
    from gi.repository import GLib, Gst, GstVideo
    # GstValueArray fields come back as GObject.ValueArray, which PyGObject deprecates
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    Gst.init(None)

    def quote(s):
        return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')

    desc = ("filesrc location=%s ! decodebin ! videoconvert ! deitclassify model=%s %s ! "
            "appsink name=sink sync=false" % (quote(path), quote(model), " ".join(rest)))
    try:
        pipeline = Gst.parse_launch(desc)
    except GLib.Error as e:
        print("classify-app.py: %s" % e.message, file=sys.stderr)
        return 2
    sink = pipeline.get_by_name("sink")
    bus = pipeline.get_bus()
    classification = GLib.quark_from_string("classification")
    pipeline.set_state(Gst.State.PLAYING)
    try:
        return pull_results(pipeline, sink, bus, classification, Gst, GstVideo)
    finally:
        # also on Ctrl-C or a closed stdout: stop the streaming thread before Python
        # exits, or it would still be classifying while the process is torn down
        pipeline.set_state(Gst.State.NULL)


def pull_results(pipeline, sink, bus, classification, Gst, GstVideo):
    status = 0
    while True:
        sample = sink.emit("try-pull-sample", Gst.SECOND // 10)
        if sample is None:
            msg = bus.pop_filtered(Gst.MessageType.ERROR)
            if msg is not None:
                err, debug = msg.parse_error()
                print("classify-app.py: %s (%s)" % (err.message, debug), file=sys.stderr)
                status = 1
                break
            if sink.get_property("eos"):
                break
            continue
        buf = sample.get_buffer()
        t = buf.pts / Gst.SECOND if buf.pts != Gst.CLOCK_TIME_NONE else float("nan")
        # the full-frame result: the classification ROI meta with the frame's results
        # (ROI metas with id 0, the id deitclassify gives them; see docs/elements.md for
        # the boxes of inference-region=roi-list, which carry their detector's id)
        roi = GstVideo.buffer_get_video_region_of_interest_meta_id(buf, 0)
        params = roi.get_param("deit-classification") if roi is not None and roi.roi_type == classification else None
        if params is None:
            print("%.3f s -" % t)
            continue
        _, ids = params.get_array("top_k_label_ids")
        _, labels = params.get_array("top_k_labels")
        _, scores = params.get_array("top_k_confidences")
        _, fresh = params.get_boolean("fresh")
        top = " | ".join("%d %.4f %s" % (ids.get_nth(i), scores.get_nth(i), labels.get_nth(i))
                         for i in range(ids.n_values))
        print("%.3f s %s %s" % (t, "new" if fresh else "old", top), flush=True)
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:   # e.g. piped into head: stop quietly
        sys.stderr.close()
        sys.exit(1)
