#!/usr/bin/env python3
"""Throughput of sentence encoding from Python: a plain loop in one process against the Ray Data
pipeline of svae.ray with 1 and 2 actors (ray.init(num_cpus=2)), on the same sentences.

    python tools/bench/python_ray.py MODEL.svae SENTENCES.txt [--repeat 20] [--repetitions 3] [--batch-size 256]

Needs the svae package (a release build: tools/build-wheel.sh, or pip install ./python) and
ray[data]. The corpus is SENTENCES.txt's lines repeated --repeat times. Each figure is the median
(min–max) of --repetitions runs of the whole corpus; a Ray run is timed from building the dataset
to the last vector consumed on the driver, so it includes starting its actors (each opens the
model) and moving batches through the object store. Prints a Markdown table.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import ray

import svae
import svae.ray


def timed(fn, repetitions):
    times = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("sentences")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=256)
    args = ap.parse_args()
    with open(args.sentences, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    texts = lines * args.repeat
    n, b = len(texts), args.batch_size
    model_path = os.path.abspath(args.model)

    with svae.Model(model_path, threads=1) as m:
        reference = np.concatenate([m.encode(texts[i:i + b]) for i in range(0, n, b)])

        def plain():
            for i in range(0, n, b):
                m.encode(texts[i:i + b])

        rows = [("plain loop, one process, 1 thread", timed(plain, args.repetitions))]
    with svae.Model(model_path, threads=2) as m2:
        rows.append(("plain loop, one process, 2 threads", timed(lambda: [m2.encode(texts[i:i + b]) for i in range(0, n, b)],
                                                               args.repetitions)))

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    items = [{"text": t} for t in texts]
    for actors in (1, 2):
        def pipeline():
            ds = svae.ray.encode_dataset(ray.data.from_items(items), model_path, concurrency=actors, batch_size=b)
            got = np.concatenate([batch["vector"] for batch in ds.iter_batches(batch_size=4096, batch_format="numpy")])
            if not np.array_equal(got, reference):
                sys.exit(f"Ray with {actors} actor(s) gave other vectors than the plain loop")

        rows.append((f"Ray Data, {actors} actor{'s' if actors > 1 else ''} × 1 thread", timed(pipeline, args.repetitions)))
    ray.shutdown()

    base = statistics.median(rows[0][1])
    print(f"{n:,} sentences ({len(lines)} lines of {os.path.basename(args.sentences)} × {args.repeat}), "
          f"model {os.path.basename(args.model)}, batch {b}, svae {svae.__version__} ({svae.library_path()}), "
          f"ray {ray.__version__}; median (min–max) of {args.repetitions} runs; vectors of every Ray run equal the plain loop's.")
    print()
    print("| pipeline | sentences/s | seconds | vs plain loop |")
    print("|---|---|---|---|")
    for name, times in rows:
        med = statistics.median(times)
        print(f"| {name} | {n / med:,.0f} ({n / max(times):,.0f}–{n / min(times):,.0f}) | {med:.2f} | {base / med:.2f}× |")


if __name__ == "__main__":
    main()
