#!/usr/bin/env python3
"""Parity fixtures for the SentenceVAE runtime.

Builds small SentenceVAE models with random weights in the reference architecture (a faithful
port of BestAnHongjun/SentenceVAE `sentence_vae/models/sentence_{encoder,decoder}.py`, written
with the same torch building blocks), saves each state dict as safetensors under the
REFERENCE key names (so the tests go through `svae-convert`'s mapping), and writes golden
outputs computed by PyTorch in float32:

  * `vectors`: sentence vectors of a padded batch (encoder, key-padding mask, masked sum or
    learnable add, LayerNorm);
  * `logits`: decoder logits for the teacher-forced input of the first sentence;
  * `greedy`: greedy ids decoded from each sentence vector, re-running the whole prefix each
    step exactly like the reference `streaming_generate`, capped at max_seq_len tokens.

Run (PyTorch from PyPI; never needed by tests or CI):
    python3 -m venv .venv-tools && .venv-tools/bin/pip install torch numpy
    .venv-tools/bin/python tools/parity/make_svae_fixtures.py
Output: Tests/SVAEModelTests/Fixtures/svae/<name>.safetensors and <name>.json, byte-identical
on every run (fixed seeds, sorted keys, fixed float formatting).
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SVAEModelTests", "Fixtures", "svae")

CONFIGS = [
    # name, hidden, heads, layers, vocab, learnable_add, embed_dim (None = hidden), max_seq_len
    dict(name="h32_l1_la", hidden=32, heads=2, layers=1, vocab=64, learnable_add=True, embed=None, max_seq_len=12),
    dict(name="h32_l2_sum_proj", hidden=32, heads=4, layers=2, vocab=64, learnable_add=False, embed=16, max_seq_len=12),
    dict(name="h48_l3_la_proj", hidden=48, heads=3, layers=3, vocab=80, learnable_add=True, embed=24, max_seq_len=10),
    dict(name="h16_l2_sum", hidden=16, heads=1, layers=2, vocab=40, learnable_add=False, embed=None, max_seq_len=12),
]
BOS = EOS = 2
PAD = 1


def sinusoidal(max_len, d):
    # sentence_vae/models/positional_encoding.py
    pe = torch.zeros(max_len, d)
    position = torch.arange(0, max_len).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2) * -(math.log(10000.0) / d))
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)
    return pe.unsqueeze(0)


class Encoder(nn.Module):
    """sentence_encoder.py: embedding, project_in, sinusoidal PE, post-norm ReLU layers (FFN 2d),
    padded outputs zeroed, learnable add or sum, LayerNorm."""

    def __init__(self, c):
        super().__init__()
        d, e = c["hidden"], c["embed"] or c["hidden"]
        self.embed_token = nn.Embedding(c["vocab"], e, padding_idx=PAD)
        self.project_in = nn.Linear(e, d, bias=False) if e != d else None
        layer = nn.TransformerEncoderLayer(d, c["heads"], dim_feedforward=2 * d, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, c["layers"], enable_nested_tensor=False)
        self.learnable_add = c["learnable_add"]
        if self.learnable_add:
            self.la = nn.Linear(d, 1)
        self.lnorm = nn.LayerNorm(d)
        self.pe = sinusoidal(c["max_seq_len"], d)

    def token_states(self, ids, mask):
        """The encoder layers' outputs [B, T, d], padded positions zeroed."""
        pad = ~mask.to(torch.bool)
        x = self.embed_token(ids)
        if self.project_in is not None:
            x = self.project_in(x)
        x = x + self.pe[:, : ids.shape[1], :]
        h = self.encoder(x, src_key_padding_mask=pad)
        h[pad] = 0
        return h

    def forward(self, ids, mask):
        h = self.token_states(ids, mask)
        if self.learnable_add:
            s = torch.sum(h * self.la(h), dim=-2, keepdim=True)
        else:
            s = torch.sum(h, dim=-2, keepdim=True)
        return self.lnorm(s)


class Decoder(nn.Module):
    """sentence_decoder.py: post-norm ReLU decoder layers, causal self-attention, cross-attention
    to the one sentence vector, untied vocabulary projection."""

    def __init__(self, c):
        super().__init__()
        d, e = c["hidden"], c["embed"] or c["hidden"]
        self.embed_token = nn.Embedding(c["vocab"], e, padding_idx=PAD)
        self.project_in = nn.Linear(e, d, bias=False) if e != d else None
        layer = nn.TransformerDecoderLayer(d, c["heads"], dim_feedforward=2 * d, dropout=0.1, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, c["layers"])
        self.linear = nn.Linear(d, c["vocab"])
        self.pe = sinusoidal(c["max_seq_len"], d)

    def forward(self, ids, memory):
        n = ids.shape[1]
        x = self.embed_token(ids)
        if self.project_in is not None:
            x = self.project_in(x)
        x = x + self.pe[:, :n, :]
        causal = nn.Transformer.generate_square_subsequent_mask(n) == -torch.inf
        return self.linear(self.decoder(x, memory, tgt_mask=causal, tgt_is_causal=True))

    def greedy(self, memory, max_len):
        # streaming_generate, with the length cap that the reference means but never applies.
        ids = torch.tensor([[BOS]])
        out = []
        while len(out) < max_len - 1:
            last = self.forward(ids, memory)[0, -1]
            top = torch.topk(last, 2).values
            # A near-tie would make the golden depend on rounding: refuse to write such a fixture.
            assert float(top[0] - top[1]) > 1e-3, "greedy step too close to a tie; change the seed"
            nxt = int(torch.argmax(last))
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
            if nxt == EOS:
                break
        return out


class SVAE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)


def randomize(model, seed):
    """Non-default values everywhere (LayerNorm weights too) so a swapped tensor cannot hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight") or name.endswith("lnorm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed_token" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))


def save_safetensors(path, tensors):
    """Minimal deterministic safetensors writer (sorted names, F32, header padded to 8)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        b = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def fmt(x):
    return float(format(float(x), ".9g"))


def sentences(c, g):
    """A padded batch: lengths from 2 to max_seq_len - 1, each starting with BOS, no PAD/BOS inside."""
    lengths = [2, 3, c["max_seq_len"] - 1, 5, 7]
    rows = []
    for n in lengths:
        body = torch.randint(3, c["vocab"], (n - 1,), generator=g).tolist()
        rows.append([BOS] + body)
    ids, mask = pad_batch(rows)
    return rows, ids, mask


def pad_batch(rows):
    """Id lists → PAD-padded ids [n, width] and the mask of real tokens."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for k, c in enumerate(CONFIGS):
        torch.manual_seed(1000 + k)
        model = SVAE(c).eval()
        randomize(model, 2000 + k)
        g = torch.Generator().manual_seed(3000 + k)
        rows, ids, mask = sentences(c, g)
        with torch.no_grad():
            vec = model.encoder(ids, mask)  # [B, 1, d]
            logits = model.decoder(ids[:1, : len(rows[0])], vec[:1])  # teacher-forced first sentence
            first = ids[2:3, : len(rows[2])]
            logits_long = model.decoder(first, vec[2:3])
            greedy = [model.decoder.greedy(vec[i : i + 1], c["max_seq_len"]) for i in range(len(rows))]
        sd = {n: t for n, t in model.state_dict().items()}
        save_safetensors(os.path.join(OUT, c["name"] + ".safetensors"), sd)
        golden = {
            "config": {"hidden_size": c["hidden"], "num_attention_heads": c["heads"], "num_hidden_layers": c["layers"],
                       "vocab_size": c["vocab"], "learnable_add": c["learnable_add"],
                       "word_embed_proj_dim": c["embed"] or c["hidden"], "max_seq_len": c["max_seq_len"],
                       "bos_token_id": BOS, "eos_token_id": EOS, "pad_token_id": PAD},
            "sentences": rows,
            "vectors": [[fmt(x) for x in v[0]] for v in vec],
            "logits_sentence": 0,
            "logits": [[fmt(x) for x in row] for row in logits[0]],
            "logits_long_sentence": 2,
            "logits_long": [[fmt(x) for x in row] for row in logits_long[0]],
            "greedy": greedy,
        }
        with open(os.path.join(OUT, c["name"] + ".json"), "w") as f:
            json.dump(golden, f, sort_keys=True, separators=(",", ":"))
            f.write("\n")
        print(c["name"], "greedy:", greedy[0][:8], "...")


if __name__ == "__main__":
    main()
