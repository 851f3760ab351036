#!/usr/bin/env python3
"""The pictures of BENCHMARKS.md, drawn from the JSON of a benchmark run (matplotlib, SVG).

    python3 tools/bench/figures.py --paper WORK/paper.json --peers WORK/peers/peers.json \
        --opt-peers WORK/opt-peers.json --out-dir .

  benchmarks-paper.svg  SLLM ÷ OPT output throughput and KV bytes per token per released shape,
                        ours (q8, q4_0 at 1 and 2 threads) beside the paper's GPU figures;
  benchmarks-peers.svg  svae f32 / q8_0 / q4_0 against PyTorch, ONNX Runtime and CTranslate2 /
                        transformers per workload, as speedups (peer time ÷ svae time), 1 thread.

Each picture is drawn only when its JSON is given and exists. The SVG files carry no date and a
fixed hash salt, so the same figures give the same file.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "svae-benchmarks"
matplotlib.rcParams["font.size"] = 9
OURS = [("i8r", 1, "q8, 1 thread", "#1f77b4", None), ("q4_0", 1, "q4_0, 1 thread", "#2ca02c", None),
        ("i8r", 2, "q8, 2 threads", "#1f77b4", "//"), ("q4_0", 2, "q4_0, 2 threads", "#2ca02c", "//")]
SVAE = [("f32", "svae f32", "#9467bd"), ("q8_0", "svae q8_0", "#1f77b4"), ("q4_0", "svae q4_0", "#2ca02c")]


def save(fig, path):
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path}")


def paper_figure(v, path):
    shapes = list(dict.fromkeys(r["shape"] for r in v["rows"]))
    rows = {(r["shape"], r["type"], r["threads"]): r for r in v["rows"]}
    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    width = 0.16
    x = range(len(shapes))
    for i, (t, n, label, color, hatch) in enumerate(OURS):
        speed = [rows[(s, t, n)]["output_speedup"] if (s, t, n) in rows else 0 for s in shapes]
        kv = [100 * rows[(s, t, n)]["kv_ratio"] if (s, t, n) in rows else 0 for s in shapes]
        for ax, ys in ((a, speed), (b, kv)):
            ax.bar([j + (i - 2) * width for j in x], ys, width, label=f"svae {label}", color=color, hatch=hatch,
                   edgecolor="white" if hatch else color)
    paper = v["paper"]
    a.bar([j + 2 * width for j in x], [1 + paper[s]["tps_delta"] / 100 for s in shapes], width, label="paper (GPU)", color="#d62728")
    b.bar([j + 2 * width for j in x], [100 * paper[s]["sllm_kb"] / paper[s]["opt_kb"] for s in shapes], width,
          label="paper (GPU)", color="#d62728")
    a.axhline(1, color="black", linewidth=0.8)
    a.set_ylabel("SLLM ÷ OPT output tokens/s")
    a.set_title("Released SLLM shapes against their OPT: output throughput (higher is better)")
    b.set_ylabel("SLLM ÷ OPT KV bytes per token, %")
    b.set_title("Memory per token in context (lower is better)")
    b.set_xticks(list(x), [s.upper() for s in shapes])
    a.legend(ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.1), fontsize=8, frameon=False)
    for ax in (a, b):
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    save(fig, path)


def peers_figure(peers, opt, path):
    work = [("encode1_ms", "encode one 16-token sentence", False), ("batch_sps", "encode 64 × 16 tokens", True),
            ("decode_ms", "decode, ms/token", False)]
    shapes = list(peers["results"]) if peers else []
    panels = [(s, k, label, hb) for s in shapes for k, label, hb in work]
    n = len(panels) + (1 if opt else 0)
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.2 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]

    def draw(ax, title, groups, ratio):
        width = 0.25
        for i, (key, label, color) in enumerate(SVAE):
            ax.bar([j + (i - 1) * width for j in range(len(groups))], [ratio(key, g) for g, _ in groups], width,
                   label=label, color=color)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        times = FuncFormatter(lambda y, _: f"{y:g}×")
        ax.yaxis.set_major_formatter(times)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda y, _: f"{y:g}×" if f"{y:.0e}"[0] in "25" else ""))
        ax.set_xticks(range(len(groups)), [name for _, name in groups])
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3, which="both")
        ax.set_axisbelow(True)

    for ax, (shape, key, label, hb) in zip(flat, panels):
        t = peers["results"][shape]["speed"].get("1") or peers["results"][shape]["speed"][min(peers["results"][shape]["speed"])]

        def ratio(ours, peer, t=t, key=key, hb=hb):
            o, p = t[ours][key]["median"], t[peer][key]["median"]
            return o / p if hb else p / o
        draw(ax, f"{shape.upper()}: {label}", [("torch", "PyTorch fp32"), ("ort_fp32", "ORT fp32"), ("ort_int8", "ORT int8")], ratio)
    if opt:
        r = opt["results"].get("1") or opt["results"][min(opt["results"])]
        draw(flat[len(panels)], "OPT-125m token generation: decode, ms/token",
             [("hf_fp32", "transformers fp32"), ("ct2_float32", "CT2 fp32"), ("ct2_int8", "CT2 int8")],
             lambda ours, peer: r[peer]["decode"]["median"] / r[ours]["decode"]["median"])
    for ax in flat[n:]:
        ax.axis("off")
    flat[0].set_ylabel("speedup of svae (peer time ÷ svae time)")
    flat[0].legend(fontsize=8)
    fig.suptitle("svae against the peers on the same weights, 1 thread (above 1: svae faster)", fontsize=10)
    fig.tight_layout()
    save(fig, path)


def load(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paper", help="paper.json of tools/bench/paper.py")
    ap.add_argument("--peers", help="peers.json of tools/bench/peers.py")
    ap.add_argument("--opt-peers", help="the --json of tools/bench/peers_generate.py")
    ap.add_argument("--out-dir", default=".")
    args = ap.parse_args()
    paper = load(args.paper)
    if paper and paper["rows"]:
        paper_figure(paper, os.path.join(args.out_dir, "benchmarks-paper.svg"))
    peers, opt = load(args.peers), load(args.opt_peers)
    if peers or opt:
        peers_figure(peers, opt, os.path.join(args.out_dir, "benchmarks-peers.svg"))


if __name__ == "__main__":
    main()
