#!/usr/bin/env python3
"""HF `tokenizers` throughput on a text file, single thread, same GPT-2 fixtures as the tests.

    RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false \
        .venv-tok/bin/python tools/tokenizer/hf_bench.py TEXT_FILE [REPETITIONS] [IDS_OUT]

IDS_OUT receives the ids (space separated) for `bench` to compare with.
"""
import json
import os
import sys
import time

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "SVAETokenizerTests", "Fixtures")


def main():
    t0 = time.perf_counter()
    with open(os.path.join(FIXTURES, "gpt2-vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(FIXTURES, "gpt2-merges.txt"), encoding="utf-8") as f:
        merges = [tuple(l.split(" ")) for l in f.read().split("\n") if l and not l.startswith("#version")]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True)])
    with open(sys.argv[1], encoding="utf-8", newline="") as f:  # keep \r\n as is
        text = f.read()
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    nb = len(text.encode("utf-8"))
    print(f"load {time.perf_counter() - t0:.3f} s; text {nb} bytes")

    t = time.perf_counter()
    ids = tok.encode(text).ids
    cold = time.perf_counter() - t
    print(f"cold: {nb / cold / 1e6:.2f} MB/s, {len(ids) / cold / 1e6:.3f} Mtok/s, {len(ids)} tokens")
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write(" ".join(map(str, ids)))

    t = time.perf_counter()
    for _ in range(reps):
        n = len(tok.encode(text).ids)
    el = time.perf_counter() - t
    print(f"warm whole text: {nb * reps / el / 1e6:.2f} MB/s, {n * reps / el / 1e6:.3f} Mtok/s")

    lines = text.split("\n")
    t = time.perf_counter()
    for _ in range(reps):
        n = sum(len(tok.encode(l).ids) for l in lines)
    el = time.perf_counter() - t
    print(f"warm per line ({len(lines)} lines): {nb * reps / el / 1e6:.2f} MB/s, {n * reps / el / 1e6:.3f} Mtok/s")


if __name__ == "__main__":
    main()
