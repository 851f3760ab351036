#!/bin/sh
# Regenerates BENCHMARKS.md (≈ 40 minutes of measurements, estimated from its parts on the 2-vCPU machine, once
# /tmp/svae-benchmarks holds the models and ONNX graphs, which the first run builds; keep the
# machine otherwise idle).
# Creates .venv-peers with the peers' packages from PyPI when it is missing (the only step that
# needs the network; a CPU-only torch wheel is preferred when /opt/wheels has one), then runs
# tools/bench/benchmarks.py with the arguments given: --only PART[,PART...] measures those parts
# again and keeps the others (e.g. --only peers after a kernel change, ≈ 12 minutes; --only paper,
# ≈ 6 minutes once /tmp/svae-benchmarks/paper holds its 12 GB of model files); --quick tries it.
# matplotlib draws the pictures beside BENCHMARKS.md (tools/bench/figures.py).
set -eu
cd "$(dirname "$0")/../.."
tools/setup-debian.sh
if ! .venv-peers/bin/python -c "import torch, onnx, onnxruntime, ctranslate2, transformers, tokenizers, matplotlib" 2>/dev/null; then
    python3 -m venv .venv-peers
    torch=torch
    if ls /opt/wheels/torch-*+cpu-*.whl >/dev/null 2>&1; then torch="torch==$(ls /opt/wheels/torch-*+cpu-*.whl | head -1 | sed 's/.*torch-\([^-]*\)-.*/\1/')"; fi
    .venv-peers/bin/pip install --quiet --find-links /opt/wheels "$torch" onnx onnxruntime ctranslate2 transformers tokenizers safetensors numpy matplotlib
fi
exec .venv-peers/bin/python tools/bench/benchmarks.py "$@"
