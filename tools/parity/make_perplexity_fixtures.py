#!/usr/bin/env python3
"""Perplexity goldens for `svae perplexity` (docs/perplexity.md), computed with the PyTorch
reference modules on the committed parity fixtures.

Loads the fixture checkpoints written by make_svae_fixtures.py and make_sllm_fixtures.py into
the same reference modules (the SentenceVAE port, the SentenceLLM port with HF OPT layers, HF
`OPTForCausalLM`), draws token-id units with a fixed seed, and scores them the way the issue
defines, in float32 with float64 sums:

  * svae: each unit is one sentence s (BOS first); v = encoder(s); the decoder teacher-forced on
    s with memory v (`SentenceDecoder.forward`, causal mask); targets s[1:] + EOS.
  * sllm: each unit is a passage s_0 … s_{n-1}; vectors = encoder (padded batch with its mask);
    h = OPT layers with NO mask (bidirectional: the reference's call) or a causal mask; for
    i < n-1 the decoder with memory h_i teacher-forced on s_{i+1}, targets s_{i+1}[1:] + EOS;
    the stop head fc(h_i) against 1 for i < n-1 and 0 for the last.
  * opt: each unit is a token line t; logits of `OPTForCausalLM(t)`; targets t[1:].

Every target token weighs the same: mean CE = sum of per-token CE / tokens. Also the count of
targets equal to the argmax (a target whose top two logits are within 1e-3 makes the script
stop: change the seed rather than write a golden that depends on rounding).

Run (never needed by tests or CI; same venv as make_sllm_fixtures.py):
    python3 -m venv .venv-sllm
    .venv-sllm/bin/pip install /opt/wheels/torch-*.whl numpy transformers   # or torch from PyPI
    .venv-sllm/bin/python tools/parity/make_perplexity_fixtures.py
Output: Tests/SVAEModelTests/Fixtures/perplexity/perplexity.json, byte-identical on every run.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from transformers import OPTForCausalLM

sys.path.insert(0, os.path.dirname(__file__))
import make_svae_fixtures as svae  # noqa: E402
import make_sllm_fixtures as sllm  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SVAEModelTests", "Fixtures")
OUT = os.path.join(ROOT, "perplexity")
BOS = EOS = 2


def load_safetensors(path):
    """The fixtures' own format (F32 only, see svae.save_safetensors)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(info["shape"]).clone()
    return out


def sentence(g, vocab, n):
    return [BOS] + torch.randint(3, vocab, (n - 1,), generator=g).tolist()


def score(logits, targets):
    """Sum of CE (float64 of float32 log-softmax), argmax hits; refuses near-ties at targets."""
    logp = F.log_softmax(logits.float(), dim=-1)
    t = torch.tensor(targets)
    ce = -logp[torch.arange(len(targets)), t].double()
    top = torch.topk(logits, 2, dim=-1).values
    assert bool(((top[:, 0] - top[:, 1]) > 1e-3).all()), "argmax too close to a tie; change the seed"
    correct = int((logits.argmax(dim=-1) == t).sum())
    return float(ce.sum()), correct


def summary(sum_ce, tokens, correct, **extra):
    d = dict(tokens=tokens, sum_ce=svae.fmt(sum_ce), mean_ce=svae.fmt(sum_ce / tokens), correct=correct)
    d.update(extra)
    return d


def svae_golden(name, k):
    c = svae.CONFIGS[[x["name"] for x in svae.CONFIGS].index(name)]
    model = svae.SVAE(c).eval()
    model.load_state_dict(load_safetensors(os.path.join(ROOT, "svae", name + ".safetensors")))
    g = torch.Generator().manual_seed(11000 + k)
    units = [sentence(g, c["vocab"], n) for n in [2, 5, c["max_seq_len"], 7, 3, c["max_seq_len"] - 1]]
    sum_ce, tokens, correct = 0.0, 0, 0
    with torch.no_grad():
        for s in units:
            ids = torch.tensor([s])
            v = model.encoder(ids, torch.ones_like(ids))
            logits = model.decoder(ids, v)[0]
            ce, ok = score(logits, s[1:] + [EOS])
            sum_ce, tokens, correct = sum_ce + ce, tokens + len(s), correct + ok
    return dict(units=units, **summary(sum_ce, tokens, correct))


def sllm_golden(k, c):
    model = sllm.SentenceLLM(c).eval()
    model.load_state_dict(load_safetensors(os.path.join(ROOT, "sllm", c["name"] + ".safetensors")))
    s = c["svae"]
    g = torch.Generator().manual_seed(12000 + k)
    # Passages of 1 to 5 sentences (a one-sentence passage scores only its stop decision).
    shapes = [[4, 7, 3], [s["max_seq_len"], 2], [5], [6, 3, 9, 2, 5]]
    units = [[sentence(g, s["vocab"], n) for n in p] for p in shapes]
    out = dict(units=units)
    with torch.no_grad():
        for mode in ("bidirectional", "causal"):
            sum_ce, tokens, correct, stop_ok, stops = 0.0, 0, 0, 0, 0
            for p in units:
                n = len(p)
                vectors = model.encode(p)
                mask = None if mode == "bidirectional" else sllm.additive(sllm.allowed(n, n, "causal"))
                h = model.layers(vectors, mask)
                for i in range(n):
                    l = model.fc(h[i])
                    assert abs(float(l[0] - l[1])) > 1e-3, "stop head too close to a tie"
                    stops += 1
                    stop_ok += int(int(torch.argmax(l)) == (1 if i < n - 1 else 0))
                for i in range(n - 1):
                    nxt = p[i + 1]
                    logits = model.svae.decoder(torch.tensor([nxt]), h[i].view(1, 1, -1))[0]
                    ce, ok = score(logits, nxt[1:] + [EOS])
                    sum_ce, tokens, correct = sum_ce + ce, tokens + len(nxt), correct + ok
            out[mode] = summary(sum_ce, tokens, correct, stop_correct=stop_ok, stop_decisions=stops)
    return out


def opt_golden(k, c):
    cfg = sllm.opt_config(c["vocab"], c["hidden"], c["heads"], c["layers"], c["ffn"], c["positions"], c["norm_before"], c["embed"], c["tied"])
    model = OPTForCausalLM(cfg).eval()
    sd = load_safetensors(os.path.join(ROOT, "opt", c["name"] + ".safetensors"))
    model.load_state_dict(sd, strict=False)
    if c["tied"]:
        model.tie_weights()
    g = torch.Generator().manual_seed(13000 + k)
    units = [sentence(g, c["vocab"], n) for n in [1, 2, 9, c["positions"], 17]]
    sum_ce, tokens, correct = 0.0, 0, 0
    with torch.no_grad():
        for t in units:
            if len(t) < 2:
                continue
            logits = model(torch.tensor([t])).logits[0, :-1]
            ce, ok = score(logits, t[1:])
            sum_ce, tokens, correct = sum_ce + ce, tokens + len(t) - 1, correct + ok
    return dict(units=units, **summary(sum_ce, tokens, correct))


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    golden = {
        "svae": {name: svae_golden(name, k) for k, name in enumerate(["h32_l1_la", "h48_l3_la_proj"])},
        "sllm": {c["name"]: sllm_golden(k, c) for k, c in enumerate(sllm.SLLM_CONFIGS)},
        "opt": {c["name"]: opt_golden(k, c) for k, c in enumerate(sllm.OPT_CONFIGS)},
    }
    with open(os.path.join(OUT, "perplexity.json"), "w") as f:
        json.dump(golden, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    for arch, models in golden.items():
        for name, gd in models.items():
            for key in ("bidirectional", "causal") if arch == "sllm" else (None,):
                r = gd[key] if key else gd
                print(arch, name, key or "", "tokens", r["tokens"], "mean CE", r["mean_ce"], "correct", r["correct"],
                      "stop", r.get("stop_correct", ""), "/", r.get("stop_decisions", ""))


if __name__ == "__main__":
    main()
