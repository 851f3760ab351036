#!/usr/bin/env python3
"""The paper's table on a CPU: every released SLLM shape against its OPT (issue 22).

    python3 tools/bench/paper.py [--quick] [--shapes sllm-125m-h1,...] [--work DIR] [--out paper.md] [--json paper.json]

For each OPT family (125m, 350m, 1.3b) it runs `svae-bench generate` once with the family's
SLLM shapes, the two types (i8r = svae-convert's q8 choice, q4_0) and 1 and 2 threads, and
writes one Markdown table: SLLM and OPT output tokens/s, their ratio, KV-cache bytes per token
and their ratio, peak RSS, beside the paper's GPU figures (README of BestAnHongjun/SentenceVAE).
The random-weight model files are written first (`svae-bench generate --prepare-only` under
`/usr/bin/time -v`, which gives the writer's peak memory) and kept in --work between runs.
Needs only a release build of svae-bench (`swift build -c release --product svae-bench`).
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# The paper's README table (GPU, fp32): mean output throughput (tokens/s) and mean GPU memory
# (KB/token), OPT and SLLM, and Δ as printed there.
PAPER = {
    "sllm-125m-h1": dict(opt_tps=214.57, sllm_tps=652.78, tps_delta=204.2, opt_kb=73.15, sllm_kb=12.03, kb_delta=-83.6),
    "sllm-125m-h2": dict(opt_tps=214.57, sllm_tps=539.80, tps_delta=151.6, opt_kb=73.15, sllm_kb=7.08, kb_delta=-90.3),
    "sllm-125m-h4": dict(opt_tps=214.57, sllm_tps=332.12, tps_delta=54.8, opt_kb=73.15, sllm_kb=10.00, kb_delta=-86.3),
    "sllm-350m-h1": dict(opt_tps=144.33, sllm_tps=481.39, tps_delta=233.5, opt_kb=197.59, sllm_kb=29.98, kb_delta=-84.8),
    "sllm-350m-h2": dict(opt_tps=144.33, sllm_tps=442.23, tps_delta=206.4, opt_kb=197.59, sllm_kb=26.78, kb_delta=-86.4),
    "sllm-350m-h4": dict(opt_tps=144.33, sllm_tps=315.61, tps_delta=118.7, opt_kb=197.59, sllm_kb=17.73, kb_delta=-91.0),
    "sllm-1.3b-h1": dict(opt_tps=119.07, sllm_tps=479.71, tps_delta=302.9, opt_kb=400.01, sllm_kb=57.07, kb_delta=-85.7),
    "sllm-1.3b-h2": dict(opt_tps=119.07, sllm_tps=553.95, tps_delta=365.2, opt_kb=400.01, sllm_kb=55.14, kb_delta=-86.2),
}
# (OPT, its SLLM shapes, generated sentences, repetitions): fewer tokens and repetitions for the
# larger models keep the whole run near 6 minutes on 2 cores (estimated from --quick runs).
FAMILIES = [("opt-125m", ["sllm-125m-h1", "sllm-125m-h2", "sllm-125m-h4"], 8, 3),
            ("opt-350m", ["sllm-350m-h1", "sllm-350m-h2", "sllm-350m-h4"], 4, 2),
            ("opt-1.3b", ["sllm-1.3b-h1", "sllm-1.3b-h2"], 2, 2)]
TYPES = [("i8r", "q8"), ("q4_0", "q4_0")]
GENERATED = [14, 22, 9, 31, 18, 25, 12, 27, 20, 16, 35, 11, 23, 19, 28, 10]  # BenchGenerate.generatedLengths


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def rel(cmd):
    return " ".join(shlex.quote(os.path.relpath(c, ROOT) if str(c).startswith(ROOT + "/") else str(c)) for c in cmd)


def measure(bench, work, quick, only):
    """Runs the families; returns the rows (generate's JSON lines), the commands and the writer's figures."""
    rows, commands, writes = [], [], []
    types = ",".join(t for t, _ in TYPES)
    for opt, shapes, sentences, reps in FAMILIES:
        shapes = [s for s in shapes if not only or s in only]
        if not shapes:
            continue
        if quick:
            sentences, reps = 1, 1
        prep = ["/usr/bin/time", "-v", bench, "generate", "--shapes", ",".join(shapes), "--types", types, "--dir", work, "--prepare-only"]
        print(f"[paper] {rel(prep)}", file=sys.stderr, flush=True)
        t0 = time.time()
        p = subprocess.run(prep, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            sys.exit(f"paper.py: {rel(prep)} failed:\n{p.stderr}")
        wrote = re.findall(r"^wrote (\S+)", p.stderr, re.M)
        rss = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", p.stderr)
        writes.append({"family": opt, "command": rel(prep), "files": [os.path.basename(w) for w in wrote],
                       "bytes": sum(os.path.getsize(w) for w in wrote), "seconds": time.time() - t0,
                       "peak_rss_bytes": int(rss.group(1)) * 1024 if rss else None})
        cmd = [bench, "generate", "--shapes", ",".join(shapes), "--types", types, "--threads", "1,2",
               "--sentences", str(sentences), "--repetitions", str(reps), "--dir", work, "--json"]
        print(f"[paper] {rel(cmd)}", file=sys.stderr, flush=True)
        load_before = load_average()
        out = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, check=True).stdout
        commands.append({"family": opt, "command": rel(cmd), "load_before": load_before, "load_after": load_average(),
                         "sentences": sentences, "repetitions": reps, "generated_tokens": sum(GENERATED[i % len(GENERATED)] for i in range(sentences))})
        rows += [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return rows, commands, writes


def render(v):
    """The Markdown section from the figures of a run."""
    label = dict(TYPES)
    out = ["| shape | type | threads | SLLM out tok/s (min–max) | OPT out tok/s (min–max) | SLLM ÷ OPT | paper (GPU) | "
           "SLLM KV B/token | OPT KV B/token | KV SLLM ÷ OPT | paper (GPU) | peak RSS SLLM / OPT, MB | paper's row met (1 thread) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in v["rows"]:
        s, o, p = r["sllm"], r["opt"], PAPER[r["shape"]]

        def rate(x):
            lo, hi = x["output_tokens_per_s_range"]
            return f"{x['output_tokens_per_s']:.1f} ({lo:.1f}–{hi:.1f})"
        speed, kv = r["output_speedup"], r["kv_ratio"]
        met = ""
        if r["threads"] == 1:
            misses = [w for w, ok in (("throughput", speed >= 1 + p["tps_delta"] / 100), ("KV", 1 - kv >= -p["kb_delta"] / 100)) if not ok]
            met = "yes" if not misses else "NO: " + ", ".join(misses)
        out.append(f"| {r['shape']} | {label.get(r['type'], r['type'])} | {r['threads']} | {rate(s)} | {rate(o)} | "
                   f"{speed:.2f}× ({100 * (speed - 1):+.0f} %) | {1 + p['tps_delta'] / 100:.2f}× ({p['tps_delta']:+.1f} %) | "
                   f"{s['kv_bytes_per_token']:,.0f} | {o['kv_bytes_per_token']:,.0f} | {100 * kv:.1f} % ({100 * (kv - 1):+.1f} %) | "
                   f"{p['sllm_kb'] / p['opt_kb'] * 100:.1f} % ({p['kb_delta']:+.1f} %) | "
                   f"{s['peak_rss_bytes'] / 1e6:.0f} / {o['peak_rss_bytes'] / 1e6:.0f} | {met} |")
    out += ["", "Commands (load average before → after):", ""]
    for c in v["commands"]:
        out.append(f"`{c['command']}` ({c['sentences']} generated sentence(s) = {c['generated_tokens']} tokens, "
                   f"{c['repetitions']} repetition(s); load {c['load_before']} → {c['load_after']})  ")
    wrote = [w for w in v["writes"] if w["files"]]
    out += ["", "Model files: random weights written by `svae-bench generate` in the requested type one chunk of at most "
            "2²⁰ values at a time (never a whole tensor, never an f32 copy of a quantized one), kept in the work folder between runs. "
            + ("Writer, this run: " + "; ".join(
                f"{w['family']}: {len(w['files'])} files, {w['bytes'] / 1e9:.2f} GB in {w['seconds']:.0f} s, peak RSS "
                f"{w['peak_rss_bytes'] / 1e6:.0f} MB (`{w['command']}`)" for w in wrote) + "."
               if wrote else "Writer: all files were cached from an earlier run.")]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "svae-bench"))
    ap.add_argument("--work", default="/tmp/svae-benchmarks/paper", help="model files, kept between runs")
    ap.add_argument("--shapes", help="only these SLLM shapes, comma-separated")
    ap.add_argument("--quick", action="store_true", help="one generated sentence, one repetition: checks the pipeline, measures nothing")
    ap.add_argument("--out", help="write the Markdown section here (always printed)")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--render", metavar="JSON", help="only re-render from the JSON of an earlier run")
    args = ap.parse_args()
    if args.render:
        with open(args.render) as f:
            v = json.load(f)
    else:
        only = set(args.shapes.split(",")) if args.shapes else None
        unknown = (only or set()) - set(PAPER)
        if unknown:
            sys.exit(f"paper.py: unknown shapes {', '.join(sorted(unknown))} (expected {', '.join(PAPER)})")
        os.makedirs(args.work, exist_ok=True)
        t0 = time.time()
        rows, commands, writes = measure(args.bench, args.work, args.quick, only)
        v = {"rows": rows, "commands": commands, "writes": writes, "quick": args.quick, "paper": PAPER,
             "minutes": (time.time() - t0) / 60, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    text = render(v)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    if args.json and not args.render:
        with open(args.json, "w") as f:
            json.dump(v, f, indent=1)


if __name__ == "__main__":
    main()
