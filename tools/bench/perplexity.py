#!/usr/bin/env python3
"""Teacher-forced perplexity and KL divergence of a model directory in every element type, and the
throughput of `svae perplexity`, with our runtime.

    python3 tools/bench/perplexity.py [models/svae-tiny] [--text heldout-v1.txt] [--types f32,q8_0,q4_0] [--bin-dir DIR]

Converts the model with `svae-convert` to each type, runs
`svae perplexity MODEL --input TEXT --reference F32 --json --on-error skip` (lines longer than the
model's max_seq_len are left out and counted), then the same without --reference at 1 and 2
threads for the throughput (target tokens per second, median of 3 runs), and prints a Markdown
table. Only the standard library.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reconstruction import release_bin_dir  # noqa: E402


def perplexity(svae, model, text, *extra):
    cmd = [svae, "perplexity", model, "--input", text, "--json", "--on-error", "skip", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 3):  # 3: lines skipped
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default=os.path.join(ROOT, "models", "svae-tiny"))
    ap.add_argument("--text", default="heldout-v1.txt", help="file in the model directory (or a path)")
    ap.add_argument("--types", default="f32,q8_0,q4_0")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bin-dir", help="use the svae / svae-convert already built here (default: swift build -c release)")
    args = ap.parse_args()
    bin_dir = release_bin_dir(args.bin_dir)
    svae = os.path.join(bin_dir, "svae")
    text = args.text if os.path.exists(args.text) else os.path.join(args.model, args.text)
    print("| type | file bytes | lines scored (skipped) | target tokens | mean CE | PPL | accuracy | PPL ratio | KLD mean | KLD median | KLD p99 | KLD max | top-1 agreement | tokens/s 1 thread | tokens/s 2 threads |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for t in ["f32"] + [t for t in args.types.split(",") if t != "f32"]:
            files[t] = os.path.join(tmp, f"model-{t}.svae")
            subprocess.run([os.path.join(bin_dir, "svae-convert"), args.model, "-o", files[t], "--quant", t, "--quiet"], check=True)
        for t in args.types.split(","):
            r = perplexity(svae, files[t], text, "--reference", files["f32"], "--threads", "1")
            rates = []
            for threads in ("1", "2"):
                runs = [perplexity(svae, files[t], text, "--threads", threads)["tokens_per_second"] for _ in range(args.repeat)]
                rates.append(f"{statistics.median(runs):,.0f} ({min(runs):,.0f}–{max(runs):,.0f})")
            print(f"| {t} | {os.path.getsize(files[t])} | {r['units']} ({r['skipped_lines']}) | {r['tokens']} | {r['mean_ce']:.5f} | "
                  f"{r['ppl']:.4f} | {100 * r['accuracy']:.2f}% | {r['ppl_ratio']:.4f} | {r['kld_mean']:.5f} | {r['kld_median']:.5f} | "
                  f"{r['kld_p99']:.4f} | {r['kld_max']:.4f} | {100 * r['top1_agreement']:.2f}% | {rates[0]} | {rates[1]} |")


if __name__ == "__main__":
    sys.exit(main())
