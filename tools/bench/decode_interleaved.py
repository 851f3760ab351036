#!/usr/bin/env python3
"""Batched sentence decoding, svae batch 1 and batch 32 against ONNX Runtime int8 batch 32,
interleaved round by round in one process (issue 14's targets).

    .venv-peers/bin/python tools/bench/decode_interleaved.py [--work /tmp/svae-benchmarks/peers]
        [--shapes svae-768-h1,svae-768-h4] [--types q8_0,q4_0] [--rounds 21] [--batch 32]
        [--lib .build/release/libSVAECAPI.so] [--json FILE]

Why: this 2-vCPU VM has slow phases of a few seconds in which AVX-512 code runs ≈ 1.7× slower.
peers.py times each engine in its own block of repetitions (`svae-bench model --decode-batch`
for svae, `time_ort_batch` for ORT), so a slow phase can land on one side only: one run read
svae q8 h1 batch 32 at 342 sentences/s, a later one at 195, with no code change. Here each round
times svae batch 1, svae batch B, ORT int8 batch B, then the same three in reverse order
(A B C C B A: a drift within the round cancels for every pair), and each ratio is the median
over rounds of the round's ratio, with the middle half (25–75 %) of the rounds beside it.

Work (greedy, 16 generated ids at most per sentence, one thread each):
  - svae batch 1: the B vectors decoded one at a time (`Model.decode_ids(vectors, batch=1,
    max_tokens=16)`: `svae_decode_batch` with batch_size 1, the matrix-vector kernels);
  - svae batch B: the same B vectors in lockstep (`batch=B`);
  - ORT int8 batch B: peers.py's `time_ort_batch` work: cross_batch.onnx once for the B vectors,
    then 16 steps of step_batch.onnx (the KV-step graph with a batch dimension, past K/V as
    inputs), argmax fed back, `quantize_dynamic` QInt8 graphs.
svae's vectors come from its own encoder (the svae file timed) of the first B sentences of
peers.py's BATCH; ORT's from ORT int8's encoder.onnx of the same sentences (the two agree to the
cosine printed; they differ by their quantization).

`max_tokens=16` is 16 generated ids: svae feeds BOS, then each generated id, and runs one decoder
step per generated id (`SentenceInProgress`: a sentence ends after EOS, included, or when it
holds max_tokens ids), as ORT's 16 steps give 16 argmax ids. But ORT always runs 16 steps, while
svae ends a sentence at EOS. So the script counts the ids svae generated and reports tokens/s
(generated positions per second) beside sentences/s; svae against ORT is judged on tokens/s when
svae's mean length is below 16 (the table says which). Batch 1 and batch B decode the same
vectors; their ids are compared (they agree up to near-ties, svae.h `svae_decode_batch`).

Inputs: the files peers.py writes and keeps in WORK/SHAPE (`peers.py --prepare-only` makes them):
SHAPE-q8_0.svae (svae-convert's q8 choice, `--quant q8_0`: the decoder's matrices i8r),
SHAPE-q4_0.svae, onnx-int8/{encoder,cross_batch,step_batch}.onnx.
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
sys.path.insert(0, HERE)
from encode_interleaved import quantile  # noqa: E402
from peers import BATCH, SENTENCE, SHAPES, STEPS, empty_batch_cache  # noqa: E402  (peers.py's work, shapes, 16 steps)

BOS = SENTENCE[0]
LABEL = {"q8_0": "q8 (i8r decoder)", "q4_0": "q4_0"}


def summary(xs):
    return {"median": statistics.median(xs), "q25": quantile(xs, 0.25), "q75": quantile(xs, 0.75)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/svae-benchmarks/peers")
    ap.add_argument("--shapes", default="svae-768-h1,svae-768-h4")
    ap.add_argument("--types", default="q8_0,q4_0", help="svae files timed: q8_0 (the q8 choice), q4_0, f32")
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--batch", type=int, default=32, help="sentences decoded (one at a time, and in lockstep)")
    ap.add_argument("--lib", default=os.path.join(ROOT, ".build", "release", "libSVAECAPI.so"))
    ap.add_argument("--json", help="also write the figures here (tools/bench/benchmarks.py's decode part reads them)")
    args = ap.parse_args()
    if not 1 <= args.batch <= len(BATCH):
        ap.error(f"--batch must be 1..{len(BATCH)}, got {args.batch}")
    if args.rounds < 1:
        ap.error(f"--rounds must be ≥ 1, got {args.rounds}")
    os.environ["SVAE_LIBRARY"] = args.lib
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import numpy as np
    import onnxruntime as ort
    import svae

    b = args.batch
    sentences = BATCH[:b]

    def session(path):
        so = ort.SessionOptions()
        so.intra_op_num_threads = so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    def cosines(a, o):
        return [float(np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y))) for x, y in zip(a, o)]

    # Same weights on both sides, checked before any timing: the vectors of svae's file against
    # ORT int8's. Not tight: q4_0's error grows through the layers of random weights (measured on
    # svae-768-h4: lowest cosine 0.77 of 32), but other weights would give cosines near 0.
    for shape in args.shapes.split(","):
        if shape not in SHAPES:
            sys.exit(f"decode_interleaved: unknown shape {shape!r}: one of {', '.join(SHAPES)}")
        needed = [os.path.join(args.work, shape, "onnx-int8", n + ".onnx") for n in ("encoder", "cross_batch", "step_batch")]
        needed += [os.path.join(args.work, shape, f"{shape}-{q}.svae") for q in args.types.split(",")]
        missing = [f for f in needed if not os.path.isfile(f)]
        if missing:  # said here, not as onnxruntime's or the library's own error text
            sys.exit(f"decode_interleaved: {', '.join(missing)}: no such file (tools/bench/peers.py --work {args.work} "
                     "--prepare-only writes them; --types takes q8_0, q4_0, f32)")
        ids = np.array(sentences, dtype=np.int64)
        enc = session(os.path.join(args.work, shape, "onnx-int8", "encoder.onnx"))
        ort_vectors = enc.run(None, {"ids": ids, "mask": np.ones_like(ids)})[0].reshape(b, -1)
        for qtype in args.types.split(","):
            path = os.path.join(args.work, shape, f"{shape}-{qtype}.svae")
            cos = cosines(svae.Model(path, threads=1).encode_ids(sentences), ort_vectors)
            if statistics.mean(cos) < 0.8:
                sys.exit(f"{path}: its vectors and ORT int8's ({shape}/onnx-int8/encoder.onnx) differ (mean cosine "
                         f"{statistics.mean(cos):.4f} over {b} sentences): not the same weights")

    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load_before}; onnxruntime {ort.__version__}; "
          f"{args.rounds} rounds, each svae batch 1, svae batch {b}, ORT int8 batch {b}, then the same in reverse order; "
          f"{b} sentences (peers.py's BATCH[:{b}]) encoded, then decoded greedily, at most {STEPS} generated ids each, one thread. "
          "Rates: median over rounds of each side's rate in the round; ratios: median over rounds of the round's ratio, "
          "with the middle half of the rounds (25–75 %) beside it. svae's vectors from its own encoder, ORT's from ORT "
          f"int8's encoder; ORT always runs {STEPS} steps ({b * STEPS} positions), svae ends a sentence at EOS "
          "(tokens = ids svae generated, EOS included).\n")
    print(f"| shape | svae file | svae ids per sentence (b1 = b{b}) | svae batch 1, sentences/s | svae batch {b}, sentences/s | "
          f"ORT int8 batch {b}, sentences/s | svae batch {b}, tokens/s | ORT int8 batch {b}, tokens/s | "
          f"batch {b} ÷ batch 1 (middle half) | svae b{b} ÷ ORT int8 b{b} (middle half) | judged on |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for shape in args.shapes.split(","):
        d, heads, layers = SHAPES[shape]
        folder = os.path.join(args.work, shape)
        onnx = os.path.join(folder, "onnx-int8")
        enc, cross, step = (session(os.path.join(onnx, n + ".onnx")) for n in ("encoder", "cross_batch", "step_batch"))
        ids = np.array(sentences, dtype=np.int64)
        ort_vectors = enc.run(None, {"ids": ids, "mask": np.ones_like(ids)})[0].reshape(b, -1).astype(np.float32)
        if ort_vectors.shape[1] != d:
            sys.exit(f"{onnx}/encoder.onnx: vectors of {ort_vectors.shape[1]} floats, expected {d} for {shape}")
        del enc

        def ort_decode():
            cr = cross.run(None, {"memory": ort_vectors})[0]
            pk, pv = empty_batch_cache({"hidden": d, "heads": heads, "layers": layers}, b)
            tok = np.full(b, BOS, dtype=np.int64)
            out = []
            for p in range(STEPS):
                logits, pk, pv = step.run(None, {"token": tok, "pos": np.full(b, p, dtype=np.int64), "cross": cr,
                                                 "past_k": pk, "past_v": pv})
                tok = logits.argmax(-1).astype(np.int64)
                out.append(tok)
            return np.stack(out, axis=1)  # [b, STEPS]

        for qtype in args.types.split(","):
            path = os.path.join(folder, f"{shape}-{qtype}.svae")
            model = svae.Model(path, threads=1)
            if model.hidden_size != d:
                sys.exit(f"{path}: hidden size {model.hidden_size}, expected {d} for {shape}")
            vectors = np.asarray(model.encode_ids(sentences), dtype=np.float32)
            cos = cosines(vectors, ort_vectors)

            def b1():
                return model.decode_ids(vectors, batch=1, max_tokens=STEPS)

            def bn():
                return model.decode_ids(vectors, batch=b, max_tokens=STEPS)
            # warm-up, and what each side generates
            ids1, idsn, ids_ort = b1(), bn(), ort_decode()
            if any(len(r) > STEPS for r in ids1 + idsn):
                sys.exit(f"{path}: a sentence of more than max_tokens = {STEPS} ids")
            tokens1, tokens = sum(map(len, ids1)), sum(map(len, idsn))
            same = sum(x == y for x, y in zip(ids1, idsn))
            agree = sum(int(a == o) for r, orow in zip(idsn, ids_ort) for a, o in zip(r, orow))
            t1, tn, to = [], [], []
            for _ in range(args.rounds):
                t = {}
                for name, f in (("b1", b1), ("bn", bn), ("ort", ort_decode), ("ort", ort_decode), ("bn", bn), ("b1", b1)):
                    t0 = time.perf_counter()
                    f()
                    t[name] = t.get(name, 0.0) + (time.perf_counter() - t0) / 2
                t1.append(t["b1"]), tn.append(t["bn"]), to.append(t["ort"])
            speedup = [x / y for x, y in zip(t1, tn)]  # batch B over batch 1 (same sentences, same ids)
            vs_ort = [o / s for o, s in zip(to, tn)]  # sentences/s ratio
            mean_len = tokens / b
            by_tokens = mean_len < STEPS
            vs_ort_judged = [r * tokens / (b * STEPS) for r in vs_ort] if by_tokens else vs_ort
            r = {"shape": shape, "type": qtype, "batch": b, "rounds": args.rounds, "steps": STEPS,
                 "tokens_b1": tokens1, "tokens": tokens, "mean_length": mean_len, "same_ids_b1_bn": same,
                 "ort_agreeing_positions": agree, "cosine_min": min(cos), "cosine_mean": statistics.mean(cos),
                 "b1_sps": summary([b / x for x in t1]), "bn_sps": summary([b / x for x in tn]),
                 "ort_sps": summary([b / x for x in to]), "bn_tps": summary([tokens / x for x in tn]),
                 "b1_tps": summary([tokens1 / x for x in t1]), "ort_tps": summary([b * STEPS / x for x in to]),
                 "bn_over_b1": summary(speedup), "bn_over_ort_sentences": summary(vs_ort),
                 "bn_over_ort_tokens": summary([x * tokens / (b * STEPS) for x in vs_ort]),
                 "bn_over_ort": summary(vs_ort_judged), "ort_judged_on": "tokens/s" if by_tokens else "sentences/s",
                 "load_after": " ".join(open("/proc/loadavg").read().split()[:3])}
            results.append(r)

            def ratio(s):
                return f"{s['median']:.2f}× ({s['q25']:.2f}–{s['q75']:.2f})"
            judged = (f"tokens/s (svae {mean_len:.2f} ids per sentence < {STEPS}; sentences/s: "
                      f"{r['bn_over_ort_sentences']['median']:.2f}×)" if by_tokens else f"sentences/s (= tokens/s: every sentence {STEPS} ids)")
            print(f"| {shape} | {LABEL.get(qtype, qtype)} | {mean_len:.2f}"
                  f"{'' if same == b else f' (b1: {tokens1 / b:.2f}; {b - same} of {b} sentences differ)'} | "
                  f"{r['b1_sps']['median']:.1f} | {r['bn_sps']['median']:.1f} | {r['ort_sps']['median']:.1f} | "
                  f"{r['bn_tps']['median']:.0f} | {r['ort_tps']['median']:.0f} | {ratio(r['bn_over_b1'])} | "
                  f"{ratio(r['bn_over_ort'])} | {judged} |", flush=True)
            del model
        del cross, step
    print(f"\nLoad average after: {' '.join(open('/proc/loadavg').read().split()[:3])}. Vectors: cosine svae ↔ ORT int8, mean "
          f"(lowest) over the {b} sentences: "
          + "; ".join(f"{r['shape']} {r['type']} {r['cosine_mean']:.4f} ({r['cosine_min']:.4f})" for r in results)
          + f". Greedy ids of svae batch {b} equal to ORT int8's at the same position (svae's positions only; different "
          "quantizations and vectors, so not expected to agree everywhere): "
          + "; ".join(f"{r['shape']} {r['type']} {r['ort_agreeing_positions']} of {r['tokens']}" for r in results) + ".")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_before": load_before, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
