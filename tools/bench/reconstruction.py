#!/usr/bin/env python3
"""Held-out reconstruction quality of a model directory in every element type, with our runtime.

    python3 tools/bench/reconstruction.py [models/svae-tiny] [--types f32,q8_0,q4_0]

Converts the model with `svae-convert` (release build) to each type, runs
`svae reconstruct --json` on the directory's heldout.txt, and prints a Markdown table:
exact reconstruction rate (greedy output == input tokens, EOS included), position-wise token
accuracy of the greedy output against the input tokens followed by EOS, and the cosine of each
sentence vector (`svae encode --json`, exact floats) to the first type's (f32): minimum and median.
Only the standard library.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def release_bin_dir(bin_dir=None):
    """`bin_dir`, or the release products directory after `swift build -c release`."""
    if bin_dir:
        return bin_dir
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=os.path.join(ROOT, "models", "svae-tiny"))
    ap.add_argument("--types", default="f32,q8_0,q4_0")
    ap.add_argument("--bin-dir", help="use the svae / svae-convert already built here (default: swift build -c release)")
    args = ap.parse_args()
    bin_dir = release_bin_dir(args.bin_dir)
    heldout = os.path.join(args.model, "heldout.txt")
    types = args.types.split(",")
    print(f"| type | file bytes | sentences | exact reconstruction | token accuracy | vector cosine to {types[0]}: min | median |")
    print(f"|---|---|---|---|---|---|---|")
    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        for t in types:
            out = os.path.join(tmp, f"model-{t}.svae")
            subprocess.run([os.path.join(bin_dir, "svae-convert"), args.model, "-o", out, "--quant", t, "--quiet"], check=True)
            res = subprocess.run([os.path.join(bin_dir, "svae"), "reconstruct", out, "--json", "--input", heldout],
                                 check=True, capture_output=True, text=True).stdout
            rows = [json.loads(l) for l in res.splitlines() if l.strip()]
            exact = sum(r["exact"] for r in rows)
            same = total = 0
            for r in rows:
                target = r["ids"][1:] + [2]
                out_ids = r["output_ids"]
                total += len(target)
                same += sum(1 for i, x in enumerate(target) if i < len(out_ids) and out_ids[i] == x)
            enc = subprocess.run([os.path.join(bin_dir, "svae"), "encode", out, "--json", "--input", heldout],
                                 check=True, capture_output=True, text=True).stdout
            vectors = [json.loads(l)["vector"] for l in enc.splitlines() if l.strip()]
            reference = reference or vectors
            cos = sorted(cosine(a, b) for a, b in zip(vectors, reference))
            print(f"| {t} | {os.path.getsize(out)} | {len(rows)} | {100 * exact / len(rows):.1f}% ({exact}) | {100 * same / total:.1f}% "
                  f"| {cos[0]:.5f} | {cos[len(cos) // 2]:.5f} |")


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


if __name__ == "__main__":
    sys.exit(main())
