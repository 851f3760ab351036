#!/usr/bin/env python3
"""Sentence encoding, svae against ONNX Runtime, interleaved round by round in one process.

    .venv-peers/bin/python tools/bench/encode_interleaved.py [--work /tmp/svae-benchmarks/peers]
        [--shapes svae-768-h1,svae-768-h4] [--rounds 41] [--pairs int8,fp32] [--lib .build/release/libSVAECAPI.so]
        [--json FILE]

Why: this 2-vCPU VM has slow phases of a few seconds (another guest on the host's sibling
threads) in which AVX-512 code runs ≈ 1.7× slower. peers.py times each engine in its own block
of repetitions, so a slow phase can land on one side only and move a ratio by that much. Here
each round times ORT, then svae, then svae, then ORT (ABBA, so a drift within the round cancels)
on the same inputs, and the figure is the median over rounds of each round's ratio: a slow phase
hits both sides of a round.

Inputs: the files peers.py writes and keeps in WORK/SHAPE (`peers.py --prepare-only` makes them):
ORT's encoder.onnx in onnx-fp32/ and onnx-int8/ (`quantize_dynamic`), svae's SHAPE-f32.svae and
SHAPE-q8_0.svae (svae-convert's q8 choice, `--quant q8_0`: the encoder's matrices i8r). Pairs: ORT int8 – svae q8, ORT fp32 – svae f32. Work:
one 16-token sentence (mean of 20 calls per timing) and 64 sentences of 16 tokens (one call),
the sentences peers.py and `svae-bench model` encode. svae through its Python package (the C
API), ORT through its Python API, both given the same int64 arrays ([1, 16] and [64, 16]; ORT
also gets its mask): the same per-call overhead on both sides. One thread each.
"""
import argparse
import json
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
TOOL = os.path.splitext(os.path.basename(__file__))[0]
SENTENCE = [2] + [100 + i * 37 for i in range(15)]
BATCH = [[2] + [100 + (i * 131 + j * 37) % 50000 for j in range(15)] for i in range(64)]
CALLS_ONE = 20


def quantile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/svae-benchmarks/peers")
    ap.add_argument("--shapes", default="svae-768-h1,svae-768-h4")
    ap.add_argument("--rounds", type=int, default=41)
    ap.add_argument("--pairs", default="int8,fp32", help="which ORT kinds to pair: int8 (with svae q8), fp32 (with svae f32)")
    ap.add_argument("--lib", default=os.path.join(ROOT, ".build", "release", "libSVAECAPI.so"))
    ap.add_argument("--json", help="also write the figures here (tools/bench/benchmarks.py's encode part reads them)")
    args = ap.parse_args()
    for shape in args.shapes.split(","):
        for ort_kind, svae_kind in (("int8", "q8_0"), ("fp32", "f32")):
            if ort_kind not in args.pairs.split(","):
                continue
            for f in (f"onnx-{ort_kind}/encoder.onnx", f"{shape}-{svae_kind}.svae"):
                if not os.path.exists(os.path.join(args.work, shape, f)):
                    sys.exit(f"{TOOL}: {os.path.join(args.work, shape, f)}: no such file "
                             f"(tools/bench/peers.py --work {args.work} --prepare-only makes it)")
    os.environ["SVAE_LIBRARY"] = args.lib
    results = []
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import numpy as np
    import onnxruntime as ort
    import svae

    def session(path):
        so = ort.SessionOptions()
        so.intra_op_num_threads = so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    one, batch = np.array([SENTENCE], dtype=np.int64), np.array(BATCH, dtype=np.int64)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {' '.join(open('/proc/loadavg').read().split()[:3])}; "
          f"onnxruntime {ort.__version__}; {args.rounds} rounds; ratio = ORT time / svae time (> 1: svae faster), "
          "median over rounds of each round's ratio, with the middle half of the rounds (25–75 %) beside it, "
          "and the ratio of each side's best single timing (the minima).\n")
    print("| shape | pair | work | ORT median | svae median | ratio (median of rounds) | middle half | ratio of the best times |")
    print("|---|---|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        folder = os.path.join(args.work, shape)
        for ort_kind, svae_kind in (("int8", "q8_0"), ("fp32", "f32")):
            if ort_kind not in args.pairs.split(","):
                continue
            enc = session(os.path.join(folder, f"onnx-{ort_kind}", "encoder.onnx"))
            model = svae.Model(os.path.join(folder, f"{shape}-{svae_kind}.svae"), threads=1)
            work = {
                "one 16-token sentence": (lambda: [enc.run(None, {"ids": one, "mask": np.ones_like(one)}) for _ in range(CALLS_ONE)],
                                          lambda: [model.encode_ids(one) for _ in range(CALLS_ONE)], CALLS_ONE),
                "64 × 16": (lambda: enc.run(None, {"ids": batch, "mask": np.ones_like(batch)}),
                            lambda: model.encode_ids(batch), 1),
            }
            # Same weights: the f32 vectors agree with ORT fp32 (the int8 pair differs by its quantization).
            a, b = model.encode_ids([SENTENCE])[0], enc.run(None, {"ids": one, "mask": np.ones_like(one)})[0].reshape(-1)
            cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            if cos < 0.99:
                sys.exit(f"{shape}: svae {svae_kind} and ORT {ort_kind} vectors differ (cosine {cos:.4f}): not the same weights")
            for name, (f_ort, f_svae, calls) in work.items():
                f_ort(), f_svae()  # warm-up
                t_ort, t_svae, ratios, best_ort, best_svae = [], [], [], float("inf"), float("inf")
                for _ in range(args.rounds):
                    t = []
                    for f in (f_ort, f_svae, f_svae, f_ort):
                        t0 = time.perf_counter()
                        f()
                        t.append((time.perf_counter() - t0) / calls)
                    o, s = (t[0] + t[3]) / 2, (t[1] + t[2]) / 2
                    t_ort.append(o), t_svae.append(s), ratios.append(o / s)
                    best_ort, best_svae = min(best_ort, t[0], t[3]), min(best_svae, t[1], t[2])

                def fmt(x):
                    return f"{statistics.median(x) * 1e3:.3f} ms" if calls > 1 else f"{64 / statistics.median(x):.0f} sentences/s"
                label = "q8 (i8r encoder)" if svae_kind == "q8_0" else svae_kind
                print(f"| {shape} | ORT {ort_kind} – svae {label} (cosine {cos:.5f}) | {name} | {fmt(t_ort)} | {fmt(t_svae)} | "
                      f"{statistics.median(ratios):.2f}× | {quantile(ratios, 0.25):.2f}–{quantile(ratios, 0.75):.2f}× | "
                      f"{best_ort / best_svae:.2f}× |", flush=True)
                results.append({"shape": shape, "ort": ort_kind, "svae": svae_kind, "work": name, "median": statistics.median(ratios),
                                "q25": quantile(ratios, 0.25), "q75": quantile(ratios, 0.75), "best": best_ort / best_svae})
            del model, enc
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results}, f, indent=1)


if __name__ == "__main__":
    main()
