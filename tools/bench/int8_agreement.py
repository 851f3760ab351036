#!/usr/bin/env python3
"""How far int8 sentence vectors move from f32 on the benchmark's 768-wide files, svae and ONNX Runtime side by side.

    .venv-peers/bin/python tools/bench/int8_agreement.py [--work /tmp/svae-benchmarks/peers]
        [--shapes svae-768-h1,svae-768-h4] [--sentences 256] [--seed 11] [--lib .build/release/libSVAECAPI.so]
        [--conditioning]

Encodes N random sentences of 16 ids (BOS, then 15 ids drawn uniformly from 4..49999; the ONNX
graphs are traced at 16 positions) with svae's f32 and q8-choice files and ORT's fp32 and int8
graphs (peers.py's files, random weights), and prints for each pair the min and median cosine
over the sentences, how many are below 0.999 (issue 20's bound), and how many of svae's sentences
below it are also below it for ORT int8. One thread each. Not a speed measurement.

--conditioning also rebuilds each shape's PyTorch model from peers.py's seed (`build_torch`;
needs torch; its vectors must agree with svae f32's, or the script stops) and prints, for svae's sentences below 0.999 and over
the others, how much the learnable-add pooling amplifies errors: the sum over tokens of
|centred α_t h_t| over |centred Σ_t α_t h_t| (tools/parity/pooling_conditioning.py's measure;
1 = no cancellation).
"""
import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TOOL = os.path.splitext(os.path.basename(__file__))[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/svae-benchmarks/peers")
    ap.add_argument("--shapes", default="svae-768-h1,svae-768-h4")
    ap.add_argument("--sentences", type=int, default=256)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--lib", default=os.path.join(ROOT, ".build", "release", "libSVAECAPI.so"))
    ap.add_argument("--conditioning", action="store_true", help="also the pooling's amplification per sentence (PyTorch)")
    args = ap.parse_args()
    if args.sentences < 1:
        ap.error(f"--sentences must be ≥ 1, got {args.sentences}")
    for shape in args.shapes.split(","):
        for f in [f"onnx-{k}/encoder.onnx" for k in ("fp32", "int8")] + [f"{shape}-{t}.svae" for t in ("f32", "q8_0")]:
            if not os.path.exists(os.path.join(args.work, shape, f)):
                sys.exit(f"{TOOL}: {os.path.join(args.work, shape, f)}: no such file "
                         f"(tools/bench/peers.py --work {args.work} --prepare-only makes it)")
    os.environ["SVAE_LIBRARY"] = args.lib
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import numpy as np
    import onnxruntime as ort
    import svae

    n = args.sentences
    rng = np.random.default_rng(args.seed)
    ids = np.concatenate([np.full((n, 1), 2), rng.integers(4, 50000, size=(n, 15))], axis=1).astype(np.int64)

    def cosines(x, y):
        return (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))

    print(f"{n} random sentences of 16 ids (seed {args.seed}); cosine between the two engines' / types' vectors\n")
    print("| shape | pair | min | median | below 0.999 |")
    print("|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        folder = os.path.join(args.work, shape)
        vec = {}
        for kind in ("fp32", "int8"):
            so = ort.SessionOptions()
            so.intra_op_num_threads = so.inter_op_num_threads = 1
            s = ort.InferenceSession(os.path.join(folder, f"onnx-{kind}", "encoder.onnx"), so, providers=["CPUExecutionProvider"])
            vec["ORT " + kind] = s.run(None, {"ids": ids, "mask": np.ones_like(ids)})[0].reshape(n, -1)
        for kind in ("f32", "q8_0"):
            with svae.Model(os.path.join(folder, f"{shape}-{kind}.svae"), threads=1) as m:
                vec["svae " + kind] = m.encode_ids(ids)
        low = {}
        for a, b in (("svae f32", "ORT fp32"), ("ORT int8", "ORT fp32"), ("svae q8_0", "svae f32"), ("svae q8_0", "ORT int8")):
            c = cosines(vec[a], vec[b])
            low[(a, b)] = set(np.flatnonzero(c < 0.999).tolist())
            print(f"| {shape} | {a} – {b} | {c.min():.5f} | {np.median(c):.5f} | {len(low[(a, b)])} |")
        mine, theirs = low[("svae q8_0", "svae f32")], low[("ORT int8", "ORT fp32")]
        print(f"| {shape} | svae q8_0's sentences below 0.999 that ORT int8's are below 0.999 on too | | | "
              f"{len(mine & theirs)} of {len(mine)} |")
        if args.conditioning:
            amp, ref = amplification(shape, ids)
            agree = cosines(ref, vec["svae f32"]).min()
            if agree < 0.9999:
                sys.exit(f"{shape}: the rebuilt PyTorch model's vectors differ from svae f32's (min cosine {agree:.5f}): "
                         "not the weights of the .svae files")
            rest = sorted(set(range(n)) - mine)
            below = " ".join(f"{amp[i]:.1f}" for i in sorted(mine, key=lambda i: -amp[i]))
            print(f"| {shape} | pooling amplification, svae q8_0's sentences below 0.999 | {below or '–'} | | |")
            print(f"| {shape} | pooling amplification, the other {len(rest)}: median, 99th percentile, max | "
                  f"{np.median(amp[rest]):.1f}, {np.percentile(amp[rest], 99):.1f}, {amp[rest].max():.1f} | | |")


def amplification(shape, ids):
    """Per sentence: sum_t |centred α_t h_t| / |centred sum_t α_t h_t| from the PyTorch model, and
    its sentence vectors (to check that the weights are the files')."""
    import numpy as np
    import torch
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(ROOT, "tools", "parity"))
    import peers
    from pooling_conditioning import amplification as measure
    torch.set_num_threads(1)
    _, _, model = peers.build_torch(shape, seed=8000 + peers.SHAPES[shape][2])  # peers.py's seed
    t = torch.from_numpy(ids)
    ratio, vectors = measure(model.encoder, t, torch.ones_like(t))
    return np.asarray(ratio.tolist()), vectors.numpy()


if __name__ == "__main__":
    main()
