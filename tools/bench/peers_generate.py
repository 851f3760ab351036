#!/usr/bin/env python3
"""Token-level OPT-125m in svae against CTranslate2 and transformers, on the SAME random weights.

    .venv-peers/bin/pip install --find-links /opt/wheels torch transformers ctranslate2 numpy
    swift build -c release
    .venv-peers/bin/python tools/bench/peers_generate.py --out /tmp/opt-peers.md

The baseline of the SLLM (issue 6) is token-by-token OPT. This script
  1. builds OPT-125m (transformers `OPTForCausalLM`, the facebook/opt-125m configuration:
     vocabulary 50272, 12 layers, hidden 768, FFN 3072, pre-norm, tied head) with random weights
     (seed 125), saves it as a Hugging Face folder (config.json + model.safetensors);
  2. converts that folder with `svae-convert` to f32, q8_0 and q4_0, and with CTranslate2's
     `TransformersConverter` to float32 and int8 (a word-level tokenizer.json with 50272
     placeholder tokens stands in for OPT's, which is not available offline: only the
     vocabulary size matters to the converter);
  3. runs the same work everywhere: a 32-token prompt (BOS then the ids of `svae-bench opt`),
     then 128 greedy tokens with EOS ignored, one and two threads; per repetition T1 = prompt + 1
     token and T = prompt + 128 tokens, each from an empty cache: decode ms/token = (T − T1)/127,
     tokens/s including the prefill = 128/T; medians after a warm-up (the peers' T1 and T are two
     runs, as their generate calls cannot be clocked inside; `svae-bench opt` clocks T1 inside the
     run that gives T, so its decode time is never a difference of two noisy runs);
  4. checks that every engine's first greedy ids agree with transformers fp32 (printed);
  5. prints a Markdown table, and writes the figures as JSON (--json) for tools/bench/benchmarks.py.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
VOCAB = 50272


def prompt_ids(n):
    """The prompt of `svae-bench opt --prompt n` (BenchOPT.promptIDs)."""
    return [2] + [4 + (i * 104729) % 50000 for i in range(1, n)]


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def two_timings(run, new, reps):
    """run(count) generates `count` tokens from an empty cache. One warm-up, then per repetition
    T1 = run(1), T = run(new). Returns (decode ms/token stats, tokens/s stats, ids)."""
    ids = run(new)
    dec, rate = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        run(1)
        t1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        run(new)
        t = time.perf_counter() - t0
        dec.append((t - t1) / (new - 1) * 1000)
        rate.append(new / t)
    return stats(dec), stats(rate), ids


def build_hf(folder, seed):
    import torch
    from transformers import OPTConfig, OPTForCausalLM
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        return
    torch.manual_seed(seed)
    cfg = OPTConfig(vocab_size=VOCAB, hidden_size=768, num_hidden_layers=12, ffn_dim=3072, num_attention_heads=12,
                    max_position_embeddings=2048, do_layer_norm_before=True, word_embed_proj_dim=768,
                    bos_token_id=2, eos_token_id=2, pad_token_id=1, tie_word_embeddings=True)
    model = OPTForCausalLM(cfg).eval()
    model.save_pretrained(folder, safe_serialization=True)


def placeholder_tokenizer(folder):
    """A word-level tokenizer with VOCAB tokens and OPT's specials at OPT's ids (0..3)."""
    from tokenizers import Tokenizer, models
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab = {t: i for i, t in enumerate(specials)}
    for i in range(len(specials), VOCAB):
        vocab[f"tok{i}"] = i
    Tokenizer(models.WordLevel(vocab, unk_token="<unk>")).save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "</s>", "eos_token": "</s>",
                   "unk_token": "<unk>", "pad_token": "<pad>"}, f)


def convert_ct2(hf, work, quant):
    out = os.path.join(work, f"ct2-{quant}")
    if os.path.exists(os.path.join(out, "model.bin")):
        return out
    import ctranslate2
    src = os.path.join(work, "ct2-src")  # the HF folder plus the placeholder tokenizer
    os.makedirs(src, exist_ok=True)
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        p, q = os.path.join(hf, name), os.path.join(src, name)
        if os.path.exists(p) and not os.path.exists(q):
            os.link(p, q)
    placeholder_tokenizer(src)
    ctranslate2.converters.TransformersConverter(src).convert(out, quantization=quant, force=True)
    return out


def time_transformers(hf, ids, new, threads, reps):
    import torch
    from transformers import OPTForCausalLM
    torch.set_num_threads(threads)
    model = OPTForCausalLM.from_pretrained(hf, attn_implementation="eager").eval()
    x = torch.tensor([ids])

    def run(count):
        with torch.no_grad():
            out = model(x, use_cache=True)
            past, nxt, got = out.past_key_values, int(out.logits[0, -1].argmax()), []
            got.append(nxt)
            for _ in range(count - 1):
                out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, int(out.logits[0, -1].argmax())
                got.append(nxt)
        return got
    return two_timings(run, new, reps)


def time_ct2(folder, ids, new, threads, reps):
    import ctranslate2
    gen = ctranslate2.Generator(folder, device="cpu", intra_threads=threads, inter_threads=1)
    vocab = [f"tok{i}" for i in range(VOCAB)]
    vocab[:4] = ["<s>", "<pad>", "</s>", "<unk>"]
    tokens = [vocab[i] for i in ids]

    def run(count):
        r = gen.generate_batch([tokens], max_length=count, min_length=count, sampling_topk=1,
                               include_prompt_in_result=False, return_scores=False)
        return [int(t) for t in r[0].sequences_ids[0]]
    return two_timings(run, new, reps)


def time_svae(bench, path, prompt, new, threads, reps):
    p = subprocess.run([bench, "opt", path, "--prompt", str(prompt), "--new", str(new), "--threads", str(threads),
                        "--repetitions", str(reps), "--json"], stdout=subprocess.PIPE, text=True, check=True)
    o = json.loads(p.stdout.strip().splitlines()[-1])
    return o["decode_ms_per_token"], o["tokens_per_s_with_prefill"], o["generated_ids"]


ENGINES = [("hf_fp32", "transformers fp32"), ("ct2_float32", "CTranslate2 float32"), ("ct2_int8", "CTranslate2 int8"),
           ("f32", "svae f32"), ("q8_0", "svae q8_0"), ("q4_0", "svae q4_0")]


def fmt(s, digits=3):
    return f"{s['median']:.{digits}g} ({s['min']:.{digits}g}–{s['max']:.{digits}g})"


def report(res, meta):
    lines = [f"Token-level OPT-125m (random weights, seed 125), prompt {meta['prompt']} tokens + {meta['new']} new, "
             f"greedy with EOS ignored; medians (min–max) of {meta['reps']} runs after a warm-up. "
             f"Decode ms/token = (T(prompt + {meta['new']}) − T(prompt + 1)) / {meta['new'] - 1}; "
             f"rate = {meta['new']} / T(prompt + {meta['new']}). Command: `{meta['command']}`. "
             f"transformers {meta['transformers']}, PyTorch {meta['torch']}, CTranslate2 {meta['ct2']}.", ""]
    for n in meta["threads"]:
        r = res[str(n)]
        lines += [f"{n} thread(s), load average after: {r['load']}", "",
                  "| engine | decode, ms/token | tokens/s incl. prefill | first 16 greedy ids = transformers fp32 | svae q8_0 decode speedup | svae q4_0 decode speedup |",
                  "|---|---|---|---|---|---|"]
        ref = r["hf_fp32"]["ids"][:16]
        for key, name in ENGINES:
            e = r[key]
            same = sum(a == b for a, b in zip(e["ids"][:16], ref))
            s8 = e["decode"]["median"] / r["q8_0"]["decode"]["median"]
            s4 = e["decode"]["median"] / r["q4_0"]["decode"]["median"]
            lines.append(f"| {name} | {fmt(e['decode'])} | {fmt(e['rate'])} | {same}/16 | {s8:.2f}× | {s4:.2f}× |")
        lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/svae-peers/opt-125m")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--prompt", type=int, default=32)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--svae-bench", default=os.path.join(ROOT, ".build", "release", "svae-bench"))
    ap.add_argument("--svae-convert", default=os.path.join(ROOT, ".build", "release", "svae-convert"))
    ap.add_argument("--out", help="write the Markdown table here (always printed)")
    ap.add_argument("--json", help="write the figures here as JSON")
    args = ap.parse_args()

    import ctranslate2
    import torch
    import transformers
    hf = os.path.join(args.work, "hf")
    os.makedirs(hf, exist_ok=True)
    print("[opt-125m] building the transformers model", file=sys.stderr)
    build_hf(hf, seed=125)
    paths = {}
    for q in ("f32", "q8_0", "q4_0"):
        paths[q] = os.path.join(args.work, f"opt-125m-{q}.svae")
        # converted on every run: a file kept from another build of svae-convert could differ
        print(f"[opt-125m] svae-convert --quant {q}", file=sys.stderr)
        subprocess.run([args.svae_convert, hf, "--quant", q, "-o", paths[q], "--quiet"], check=True)
    print("[opt-125m] CTranslate2 conversion", file=sys.stderr)
    ct2 = {q: convert_ct2(hf, args.work, q) for q in ("float32", "int8")}
    ids = prompt_ids(args.prompt)
    threads = [int(t) for t in args.threads.split(",")]
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "prompt": args.prompt, "new": args.new,
            "reps": args.repetitions, "threads": threads, "torch": torch.__version__, "ct2": ctranslate2.__version__,
            "transformers": transformers.__version__, "load_before": load_average(),
            "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:])}
    res = {}
    for n in threads:
        print(f"[opt-125m] timing, {n} thread(s)", file=sys.stderr)
        r = {}
        for key, fn in [("hf_fp32", lambda: time_transformers(hf, ids, args.new, n, args.repetitions)),
                        ("ct2_float32", lambda: time_ct2(ct2["float32"], ids, args.new, n, args.repetitions)),
                        ("ct2_int8", lambda: time_ct2(ct2["int8"], ids, args.new, n, args.repetitions))] + \
                       [(q, (lambda q=q: time_svae(args.svae_bench, paths[q], args.prompt, args.new, n, args.repetitions)))
                        for q in ("f32", "q8_0", "q4_0")]:
            d, rate, got = fn()
            r[key] = {"decode": d, "rate": rate, "ids": list(got)[:16]}
        r["load"] = load_average()
        res[str(n)] = r
    meta["load_after"] = load_average()
    text = report(res, meta)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": res}, f, indent=1)


if __name__ == "__main__":
    main()
