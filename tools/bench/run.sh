#!/bin/sh
# Regenerates BENCHMARKS.md (≈ 14 minutes of measurements, ≈ 6 of them the paper's table, on
# the 2-vCPU project machine once /tmp/svae-benchmarks holds the models and ONNX graphs, which the first run builds; keep the
# machine otherwise idle).
# Creates .venv-peers with the peers' packages from PyPI when it is missing (the only step that
# needs the network; a CPU-only torch wheel is preferred when /opt/wheels has one), then runs
# tools/bench/benchmarks.py with the arguments given (for example --quick, or --only paper for the
# released SLLM shapes against their OPT alone: about 6 minutes once /tmp/svae-benchmarks/paper
# holds the model files, which the first run writes, 12 GB).
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
