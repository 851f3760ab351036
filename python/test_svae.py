#!/usr/bin/env python3
"""Checks of the ctypes binding against a model, runnable with plain python3 (no pytest):

    SVAE_LIBRARY=PREFIX/lib/libsvae.so python3 python/test_svae.py MODEL.svae

Prints one line per check and exits non-zero on the first failure.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svae  # noqa: E402


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if detail and not condition else ""))
    if not condition:
        sys.exit(1)


def expect_error(name, status, fn):
    try:
        fn()
    except svae.SVAEError as e:
        check(name, e.status == status and e.message != "", f"status {e.status}, message {e.message!r}")
        return
    check(name, False, "no error raised")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    path = sys.argv[1]
    print(f"svae {svae.version()}, numpy: {'yes' if svae._np is not None else 'no (lists)'}")
    expect_error("missing file", svae.ERR_MODEL, lambda: svae.Model(path + ".missing"))
    model = svae.Model(path, threads=1)
    d = model.hidden_size
    check("info", d > 0 and model.n_vocab > 0 and model.architecture == "svae" and model.type_summary != "",
          f"{d} {model.n_vocab} {model.architecture} {model.type_summary}")
    ctx = model.context(threads=1)
    if not model.has_tokenizer:
        expect_error("no tokenizer", svae.ERR_NO_TOKENIZER, lambda: ctx.tokenize("x"))
        return
    ids = ctx.tokenize("the cat sat")
    check("tokenize/detokenize round trip", ctx.detokenize(ids) == "the cat sat", repr(ctx.detokenize(ids)))
    expect_error("out-of-range id", svae.ERR_OUT_OF_RANGE, lambda: ctx.detokenize([model.n_vocab]))
    expect_error("invalid UTF-8", svae.ERR_INVALID_UTF8, lambda: ctx.tokenize(b"a\x80b"))
    check("split", ctx.split_sentences("One. Two? Three") == ["One. ", "Two? ", "Three"],
          repr(ctx.split_sentences("One. Two? Three")))

    texts = ["Hello there.", "the end", "x"]
    v = ctx.encode(texts)
    rows = len(v)
    check("encode shape", rows == 3 and all(len(r) == d for r in v))
    w = ctx.encode_ids([ctx.tokenize(t) for t in texts])
    diff = max(abs(float(a) - float(b)) for r, s in zip(v, w) for a, b in zip(r, s))
    check("encode_ids == encode", diff <= 1e-6, f"max diff {diff}")
    out_ids, out_text = ctx.decode(v[1])
    check("decode text == detokenize(ids)", out_text == ctx.detokenize(out_ids))
    streamed = []
    short, _ = ctx.decode(v[1], on_token=lambda i: streamed.append(i) or len(streamed) < 2)
    check("streaming stops early", short == out_ids[:2] and streamed == short, f"{short} {streamed} {out_ids}")
    a, _ = ctx.decode(v[0], temperature=1.5, seed=7)
    b, _ = ctx.decode(v[0], temperature=1.5, seed=7)
    check("seeded sampling repeats", a == b and len(a) > 0)
    expect_error("bad vector", svae.ERR_BAD_VECTOR, lambda: ctx.decode([0.0] * (d - 1)))
    expect_error("bad temperature", svae.ERR_INVALID_ARGUMENT, lambda: ctx.decode(v[0], temperature=-1))
    # out_ids is the greedy decode of "the end" (v[1]): exact means it repeats that text's ids
    # (BOS aside) and then stops with EOS.
    output, exact = ctx.reconstruct("the end")
    end_ids = ctx.tokenize("the end")
    body = end_ids[1:] if end_ids[:1] == [model.bos_id] else end_ids
    check("reconstruct exact flag", exact == (out_ids == body + [model.eos_id]), f"{exact} {out_ids} {end_ids}")
    check("reconstruct output", output == ctx.decode(ctx.encode(["the end"])[0])[1])

    # Threads: one context each, same results (ctypes releases the GIL).
    reference = [list(map(float, r)) for r in v]
    results, errors = [], []

    def worker():
        try:
            c = model.context(threads=1)
            results.append([list(map(float, r)) for r in c.encode(texts)])
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    check("4 threads agree", not errors and len(results) == 4 and all(r == reference for r in results), str(errors))
    print("all checks passed")


if __name__ == "__main__":
    main()
