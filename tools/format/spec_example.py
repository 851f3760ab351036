#!/usr/bin/env python3
"""Writes the example file of formats/svae.md §9 from the spec alone (an independent second
implementation of the layout) and prints it as a hex dump. Needs `pip install xxhash`.

    python3 tools/format/spec_example.py            # hex dump to stdout
    python3 tools/format/spec_example.py out.svae   # also write the file
"""
import struct
import sys

import xxhash


def align64(x):
    return (x + 63) & ~63


def build():
    # Metadata (§5): one key "x.k" of type u32 (4) = 7.
    key = b"x.k"
    metadata = struct.pack("<Q", 1) + struct.pack("<H", len(key)) + key + struct.pack("<I", 4) + struct.pack("<I", 7)
    # Tensor data (§7): one f32 tensor "t" of shape [2] = 1.0, 2.0.
    data = struct.pack("<2f", 1.0, 2.0)
    name = b"t"
    directory = (struct.pack("<Q", 1) + struct.pack("<H", len(name)) + name + struct.pack("<II", 0, 1)
                 + struct.pack("<Q", 2) + struct.pack("<QQQ", 0, len(data), xxhash.xxh64(data).intdigest()))
    sections = [(1, metadata), (3, directory), (4, data)]
    offset = align64(64 + 48 * len(sections))
    body = bytearray(offset)
    table = b""
    for kind, payload in sections:
        checksum = 0 if kind == 4 else xxhash.xxh64(payload).intdigest()
        table += struct.pack("<IIQQQQQ", kind, 0, offset, len(payload), len(payload), checksum, 0)
        body += payload
        offset += len(payload)
        if kind != 4:
            pad = align64(offset) - offset
            body += bytes(pad)
            offset += pad
    header = b"SVAE" + struct.pack("<HHIIQIIQQQ", 1, 0, 0x0A0B0C0D, 64, len(body), len(sections), 64, 0, 0, 0)
    header += struct.pack("<Q", xxhash.xxh64(header + table).intdigest())
    body[0:64] = header
    body[64:64 + len(table)] = table
    return bytes(body)


def main():
    b = build()
    for i in range(0, len(b), 16):
        chunk = b[i:i + 16]
        print(f"{i:04x}  " + " ".join(f"{x:02x}" for x in chunk))
    if len(sys.argv) > 1:
        with open(sys.argv[1], "wb") as f:
            f.write(b)


if __name__ == "__main__":
    main()
