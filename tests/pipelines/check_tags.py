#!/usr/bin/python3
"""check_tags.py - checks a VIDEO.tags.jsonl written by pipelines/tag-video.sh.

Usage: check_tags.py FILE --frames N [--interval K] [--fps F] --config CKPT/config.json
                     [--top-k K] [--same-as OTHER.jsonl]

Parses every line with Python's json module (independent of the json-glib writer) and
checks: one line per classified frame (ceil(N / K) lines for frames 0, K, 2K, ...), the
documented keys and types, frame indices, PTS = frame / fps (within 1 ms: WebM stores
timestamps in milliseconds), strictly increasing PTS, fresh = true, top-k results sorted
by probability with labels and ids from the checkpoint's id2label, probabilities summing
to at most 1.

--same-as OTHER: the file says what OTHER says (deitclassify batch-size=B vs 1): the same
number of lines and, line by line, every key and value equal, except the "score"
probabilities, which may differ by 1e-6. Why not byte for byte: a batch of B frames runs
each linear layer as one GEMM with B times the rows, and OpenBLAS sums some rows (the
tail rows of its register blocking) in another order, so a float32 probability can move
by a few units in the last place (seen: up to 2.4e-7); 1e-6 is the element tests' tolerance.
"""

import argparse
import json
import math
import sys

KEYS = {"frame": int, "pts": int, "duration": int, "stream_time": int, "inference_pts": int,
        "model": str, "fresh": bool, "results": list, "rois": list}


def fail(msg):
    print("check_tags.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--frames", type=int, required=True)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--config", required=True)
    ap.add_argument("--same-as")
    args = ap.parse_args()

    with open(args.config) as f:
        id2label = {int(k): v for k, v in json.load(f)["id2label"].items()}
    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    if not text.endswith("\n"):
        fail("file does not end with a newline")
    lines = text[:-1].split("\n")
    expected_frames = list(range(0, args.frames, args.interval))
    if len(lines) != len(expected_frames):
        fail("%d lines, expected %d (%d frames, interval %d)"
             % (len(lines), len(expected_frames), args.frames, args.interval))
    last_pts = -1
    for i, line in enumerate(lines):
        try:
            o = json.loads(line)
        except ValueError as e:
            fail("line %d does not parse: %s" % (i + 1, e))
        for k, t in KEYS.items():
            if k not in o:
                fail("line %d: no key %r" % (i + 1, k))
            if not isinstance(o[k], t) or (t is int and isinstance(o[k], bool)):
                fail("line %d: %r is %r, expected %s" % (i + 1, k, o[k], t.__name__))
        if o["frame"] != expected_frames[i]:
            fail("line %d: frame %d, expected %d" % (i + 1, o["frame"], expected_frames[i]))
        want_pts = o["frame"] * 1e9 / args.fps
        if abs(o["pts"] - want_pts) > 1e6:
            fail("line %d: pts %d, expected %.0f (+-1 ms)" % (i + 1, o["pts"], want_pts))
        if o["pts"] <= last_pts:
            fail("line %d: pts %d not after %d" % (i + 1, o["pts"], last_pts))
        last_pts = o["pts"]
        if o["inference_pts"] != o["pts"] or o["fresh"] is not True:
            fail("line %d: not a fresh result (fresh=%r, inference_pts=%r, pts=%r)"
                 % (i + 1, o["fresh"], o["inference_pts"], o["pts"]))
        res = o["results"]
        if len(res) != min(args.top_k, len(id2label)):
            fail("line %d: %d results, expected top-%d" % (i + 1, len(res), args.top_k))
        for r in res:
            if id2label.get(r["class_id"]) != r["label"]:
                fail("line %d: class %r labelled %r, the checkpoint says %r"
                     % (i + 1, r["class_id"], r["label"], id2label.get(r["class_id"])))
            if not 0.0 <= r["score"] <= 1.0:
                fail("line %d: score %r outside [0, 1]" % (i + 1, r["score"]))
        scores = [r["score"] for r in res]
        if scores != sorted(scores, reverse=True):
            fail("line %d: results not sorted by score: %r" % (i + 1, scores))
        if sum(scores) > 1.0 + 1e-5:   # float32 softmax rounding
            fail("line %d: probabilities sum to %r > 1" % (i + 1, sum(scores)))
    if args.same_as:
        compare(lines, args.same_as)
    print("check_tags.py: %s OK (%d lines)" % (args.file, len(lines)))
    return 0


SCORE_TOL = 1e-6


def same(a, b, path):
    """Returns None if a and b agree (scores within SCORE_TOL), else where they differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            return "%s: keys %r vs %r" % (path, sorted(a), sorted(b))
        for k in a:
            if k == "score" and isinstance(a[k], float) and isinstance(b[k], float):
                if abs(a[k] - b[k]) > SCORE_TOL:
                    return "%s.score: %r vs %r" % (path, a[k], b[k])
                continue
            d = same(a[k], b[k], path + "." + k)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return "%s: %d vs %d entries" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = same(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if type(a) is not type(b) or a != b:
        return "%s: %r vs %r" % (path, a, b)
    return None


def compare(lines, other):
    with open(other, encoding="utf-8") as f:
        text = f.read()
    other_lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    if len(lines) != len(other_lines):
        fail("%d lines, %s has %d" % (len(lines), other, len(other_lines)))
    for i, (a, b) in enumerate(zip(lines, other_lines)):
        d = same(json.loads(a), json.loads(b), "line %d" % (i + 1))
        if d:
            fail("differs from %s: %s" % (other, d))


if __name__ == "__main__":
    sys.exit(main())
