#!/usr/bin/env python3
"""Write an SVAE-768-H4-shaped checkpoint with random f32 weights under the REFERENCE names.

    python3 tools/bench/make_random_checkpoint.py OUT.safetensors [--seed 0] [--tokenizer DIR]

Shapes follow BestAnHongjun/SentenceVAE (sentence_vae/models/): hidden 768, 12 heads,
4 encoder + 4 decoder layers (nn.TransformerEncoderLayer / nn.TransformerDecoderLayer),
vocab 50272, FFN 1536, learnable_add (encoder.la). About 650 MB: never commit the output.
It exists to measure the converter's peak memory and time (BENCHMARKS.md); weights are
N(0, 0.02²), so quantization error figures from it mean nothing.

numpy only: the safetensors file is written by hand (u64 header length, JSON header with
dtype/shape/data_offsets, then the tensors back to back), one tensor at a time so this
script itself never holds more than one tensor.

--tokenizer DIR also writes DIR/vocab.json + DIR/merges.txt: a SYNTHETIC byte-level BPE table
of OPT's size (the four OPT specials, 256 byte symbols, then merges of random token pairs
until 50265 tokens): the same sizes as OPT's tokenizer, so the converter's tokenizer
section (zstd level 19) is measured too, but not OPT's real tokens.
"""
import argparse
import json
import struct

import numpy as np

D, HEADS, LAYERS, VOCAB, FFN = 768, 12, 4, 50272, 1536


def tensors():
    """(name, shape) in the order a PyTorch state_dict lists them."""
    out = []

    def linear(n, o, i):
        out.extend([(n + ".weight", (o, i)), (n + ".bias", (o,))])

    def norm(n):
        out.extend([(n + ".weight", (D,)), (n + ".bias", (D,))])

    def mha(n):  # nn.MultiheadAttention: packed Q, K, V in_proj + out_proj
        out.extend([(n + ".in_proj_weight", (3 * D, D)), (n + ".in_proj_bias", (3 * D,))])
        linear(n + ".out_proj", D, D)

    def layers(p, cross):  # nn.TransformerEncoderLayer / nn.TransformerDecoderLayer
        for k in range(LAYERS):
            q = f"{p}.layers.{k}."
            mha(q + "self_attn")
            if cross:
                mha(q + "multihead_attn")
            linear(q + "linear1", FFN, D)
            linear(q + "linear2", D, FFN)
            for i in range(1, 4 if cross else 3):
                norm(q + f"norm{i}")

    out.append(("encoder.embed_token.weight", (VOCAB, D)))
    layers("encoder.encoder", cross=False)
    linear("encoder.la", 1, D)
    norm("encoder.lnorm")
    out.append(("decoder.embed_token.weight", (VOCAB, D)))
    layers("decoder.decoder", cross=True)
    linear("decoder.linear", VOCAB, D)
    return out


def write_tokenizer(folder, rng, size=50265):
    import os
    os.makedirs(folder, exist_ok=True)
    tokens = ["<s>", "<pad>", "</s>", "<unk>"] + [chr(0x100 + i) for i in range(256)]
    index = {t: i for i, t in enumerate(tokens)}
    merges = []
    while len(tokens) < size:
        a, b = tokens[4 + rng.integers(len(tokens) - 4)], tokens[4 + rng.integers(len(tokens) - 4)]
        if len(a) + len(b) > 12 or a + b in index:
            continue
        index[a + b] = len(tokens)
        tokens.append(a + b)
        merges.append(f"{a} {b}")
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    print(f"{folder}: {len(tokens)} tokens, {len(merges)} merges (synthetic)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", metavar="DIR", help="also write a synthetic OPT-sized vocab.json + merges.txt there")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.tokenizer:
        write_tokenizer(args.tokenizer, np.random.default_rng(args.seed + 1))
    specs = tensors()
    header, offset = {}, 0
    for name, shape in specs:
        n = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # pad like the official writer
    with open(args.out, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for name, shape in specs:
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight") \
                    or name == "encoder.lnorm.weight":
                a = np.ones(shape, dtype="<f4")
            else:
                a = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype("<f4")
            f.write(a.tobytes())
    print(f"{args.out}: {len(specs)} tensors, {offset / 1e6:.1f} MB of f32 data")


if __name__ == "__main__":
    main()
