#!/usr/bin/env python3
"""Prints the i8r example of formats/quantization.md §9 from an independent implementation
(numpy float32 arithmetic, one IEEE operation per step as the spec says).

    python3 tools/format/i8r_example.py

Tests/SVAEKernelsTests/I8RTests.swift reads the hex from the spec and compares it with the
Swift/C quantizer, so the spec, this script and the code must agree."""
import numpy as np

PANEL = 16
ROWS = [
    [1, -2, 3, -4, 5, -6, 7, -127],
    [0.3, -0.6, 0.9, 1.2, 0, 0.15, -1.5, 0.45],
    [0, 0, 0, 0, 0, 0, 0, 0],
]


def quantize(rows):
    x = np.array(rows, dtype=np.float32)
    n, cols = x.shape
    panels = (n + PANEL - 1) // PANEL
    out = bytearray()
    for p in range(panels):
        codes = np.zeros((PANEL, cols), dtype=np.int8)
        scale = np.zeros(PANEL, dtype=np.float32)
        rsum = np.zeros(PANEL, dtype=np.int32)
        for j in range(PANEL):
            r = p * PANEL + j
            if r >= n:
                continue
            amax = np.max(np.abs(x[r]))
            if amax < np.float32(2.0 ** -126):
                continue
            d = np.float32(amax / np.float32(127))
            inv = np.float32(np.float32(1) / d)
            c = np.clip(np.rint(x[r] * inv), -127, 127).astype(np.int8)
            codes[j], scale[j], rsum[j] = c, d, int(c.astype(np.int32).sum())
        for g in range(cols // 4):  # group g: rows 0..15, each 4 codes (columns 4g..4g+3)
            out += codes[:, 4 * g:4 * g + 4].tobytes()
        out += scale.astype("<f4").tobytes() + rsum.astype("<i4").tobytes()
    return bytes(out)


b = quantize(ROWS)
for off in range(0, len(b), 16):
    print(f"{off:04x}: " + " ".join(f"{v:02x}" for v in b[off:off + 16]))
