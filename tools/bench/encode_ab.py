#!/usr/bin/env python3
"""Sentence encoding (or decoding), two builds of libSVAECAPI.so (old, new) alternated round by round in one process.

    .venv-peers/bin/python tools/bench/encode_ab.py OLD.so NEW.so [--work /tmp/svae-benchmarks/peers]
        [--shapes svae-768-h1,svae-768-h4] [--type f32] [--rounds 21] [--decode]

encode_interleaved.py compares svae with ONNX Runtime, one library per run; a change to svae is
then judged from two runs minutes apart, and this VM's slow phases (AVX-512 code ≈ 1.7× slower for
seconds) move such a comparison by more than most kernel changes. Here both libraries are loaded
into one process (each `import svae` binds its own $SVAE_LIBRARY; ctypes loads them RTLD_LOCAL),
each round times old, new, new, old on the same work (one 16-token sentence, mean of 20 calls;
64 sentences of 16 tokens, one call; encode_interleaved.py's sentences) and the figure is the
median over rounds of each round's time ratio old / new (> 1: new faster). Also prints the
largest difference between the two builds' 64 × 16 latents. One thread each.

--decode times decoding instead: the 64 × 16 sentences' vectors (old's encoder), 32 of them
greedily at batch 1 and at batch 32 (`decode_ids(..., batch=B, max_tokens=16)`, one call each),
and prints whether the two builds' ids are equal.
"""
import argparse
import importlib
import os
import statistics
import sys
import time

# numpy's bundled OpenBLAS starts a thread per core that spins beside the timed code (perf shows
# blas_thread_server on the other vCPU); numpy only handles small vectors here. svae sets its own
# OpenBLAS to one thread, ONNX Runtime does not use it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SENTENCE = [2] + [100 + i * 37 for i in range(15)]
BATCH = [[2] + [100 + (i * 131 + j * 37) % 50000 for j in range(15)] for i in range(64)]


def load(lib):
    """A fresh `svae` module bound to `lib` (the library is opened now, while $SVAE_LIBRARY names it)."""
    for k in [k for k in sys.modules if k == "svae" or k.startswith("svae.")]:
        del sys.modules[k]
    os.environ["SVAE_LIBRARY"] = lib
    mod = importlib.import_module("svae")
    importlib.import_module("svae._library").library()
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--work", default="/tmp/svae-benchmarks/peers")
    ap.add_argument("--shapes", default="svae-768-h1,svae-768-h4")
    ap.add_argument("--type", default="f32", help="the .svae file's suffix: f32, q8_0, q4_0")
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--decode", action="store_true", help="time greedy decoding at batch 1 and 32 instead of encoding")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error(f"--rounds must be ≥ 1, got {args.rounds}")
    for f in [args.old, args.new] + [os.path.join(args.work, s, f"{s}-{args.type}.svae") for s in args.shapes.split(",")]:
        if not os.path.isfile(f):  # said here, not as ctypes' or the library's own error text
            sys.exit(f"encode_ab: {f}: no such file")
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import numpy as np
    # /proc/self/maps names a library by its real path (.build/release is a symlink)
    paths = (os.path.realpath(args.old), os.path.realpath(args.new))
    if paths[0] == paths[1]:
        sys.exit(f"encode_ab: {args.old} and {args.new} are the same file")
    old, new = load(paths[0]), load(paths[1])
    maps = sorted({line.split()[-1] for line in open("/proc/self/maps") if line.rstrip().endswith(".so")
                   and os.path.realpath(line.split()[-1]) in paths})
    if len(maps) != 2:
        sys.exit(f"encode_ab: expected both libraries mapped, found {maps}")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}; {args.rounds} rounds; old {args.old}, new {args.new}; "
          "ratio = old time / new time (> 1: new faster), median over rounds, middle half beside it.\n")
    print("| shape | work | old median | new median | ratio | middle half |\n|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        path = os.path.join(args.work, shape, f"{shape}-{args.type}.svae")
        mo, mn = old.Model(path, threads=1), new.Model(path, threads=1)
        for m in (mo, mn):
            m.encode_ids([SENTENCE])
            m.encode_ids(BATCH)
        if args.decode:
            vectors = mo.encode_ids(BATCH[:32])
            jobs = [("decode 32, batch 1", 1, lambda m: m.decode_ids(vectors, batch=1, max_tokens=16)),
                    ("decode 32, batch 32", 1, lambda m: m.decode_ids(vectors, batch=32, max_tokens=16))]
        else:
            jobs = [("one 16-token sentence", 20, lambda m: m.encode_ids([SENTENCE])), ("64 × 16", 1, lambda m: m.encode_ids(BATCH))]
        for name, calls, run in jobs:  # calls per timing
            run(mo), run(mn)  # warm-up

            def timed(m):
                t0 = time.perf_counter()
                for _ in range(calls):
                    run(m)
                return (time.perf_counter() - t0) / calls
            to, tn, ratios = [], [], []
            for _ in range(args.rounds):
                o1, n1, n2, o2 = timed(mo), timed(mn), timed(mn), timed(mo)
                to.append((o1 + o2) / 2)
                tn.append((n1 + n2) / 2)
                ratios.append((o1 + o2) / (n1 + n2))
            q = sorted(ratios)
            print(f"| {shape} | {name} | {statistics.median(to) * 1e3:.3f} ms | {statistics.median(tn) * 1e3:.3f} ms | "
                  f"{statistics.median(ratios):.3f} | {q[len(q) // 4]:.3f}–{q[3 * len(q) // 4]:.3f} |")
        if args.decode:
            same = all(a == b for a, b in zip(mo.decode_ids(vectors, batch=32, max_tokens=16), mn.decode_ids(vectors, batch=32, max_tokens=16)))
            print(f"| {shape} | ids of the two builds (batch 32) | {'equal' if same else 'DIFFER'} | | | |")
        else:
            diff = float(np.max(np.abs(np.asarray(mo.encode_ids(BATCH)) - np.asarray(mn.encode_ids(BATCH)))))
            print(f"| {shape} | max abs difference of the 64 × 16 latents | {diff:g} | | | |")


if __name__ == "__main__":
    main()
