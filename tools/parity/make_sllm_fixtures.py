#!/usr/bin/env python3
"""Parity fixtures for the SLLM and the token-level OPT runtime.

SLLM: a port of BestAnHongjun/SentenceVAE `sentence_vae/models/sentence_llm_model.py` built
from the same parts as the reference: the SentenceVAE port of `make_svae_fixtures.py` as
`svae`, and from HF transformers (`OPTForCausalLM` made from an `OPTConfig`, eager attention,
no download) its `model.decoder.embed_positions` as `llm_pe` and `model.decoder.layers` as
`llm_layers`, plus `fc = nn.Linear(d, 2)`. Saved as safetensors under the REFERENCE names
(`svae.*`, `llm_pe.*`, `llm_layers.{k}.*`, `fc.*`). One pre-norm and one post-norm model.
Goldens, in float32:

  * `prefill.<mode>.hidden` / `.stop_logits`: OPT-layer outputs and `fc` logits of every prompt
    sentence, for `bidirectional` (the reference call: layers with NO mask, eager attention)
    and `causal` (an explicit causal mask);
  * `prefill.<mode>.generation`: the greedy passage continuation. Each step: stop when
    argmax(fc(h_last)) == 0 (class 0 = "no next sentence": the reference's training target is
    `sentence_mask` shifted left); otherwise the SentenceVAE decoder decodes greedily from
    memory h_last (re-running the prefix each step, as the reference does), and the sentence is
    re-encoded WITH its mask (BOS + ids without EOS, at its true length: the runtime's documented
    fix of the reference, whose maskless re-encoding zeroes the hidden state), then the layers are
    re-run over ALL positions with the mask a KV cache implies (prompt rows among themselves per
    the mode, every later row causal). No cache here: an independent check of the runtime's.

OPT: `OPTForCausalLM` with random weights, HF names; one pre-norm model (final norm, tied
head) and one post-norm model (no final norm, project_in/out, untied head). Goldens: logits of
every prompt position and greedy ids (full re-run each step).

Run (never needed by tests or CI):
    python3 -m venv .venv-sllm
    .venv-sllm/bin/pip install /opt/wheels/torch-*.whl numpy transformers   # or torch from PyPI
    .venv-sllm/bin/python tools/parity/make_sllm_fixtures.py
Output: Tests/SVAEModelTests/Fixtures/{sllm,opt}/<name>.{safetensors,json}, byte-identical on
every run (fixed seeds, sorted keys, fixed float formatting).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
from transformers import OPTConfig, OPTForCausalLM

sys.path.insert(0, os.path.dirname(__file__))
import make_svae_fixtures as svae  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SVAEModelTests", "Fixtures")
BOS = EOS = 2
PAD = 1

SLLM_CONFIGS = [
    dict(name="sllm_pre", svae=dict(hidden=32, heads=2, layers=1, vocab=64, learnable_add=True, embed=None, max_seq_len=12),
         llm_heads=4, llm_layers=2, llm_ffn=64, positions=12, norm_before=True, prompt=[5, 3, 8], max_sentences=4, seed=1),
    dict(name="sllm_post", svae=dict(hidden=32, heads=4, layers=2, vocab=64, learnable_add=False, embed=16, max_seq_len=10),
         llm_heads=2, llm_layers=2, llm_ffn=48, positions=12, norm_before=False, prompt=[4, 9, 2, 6], max_sentences=4),
]
OPT_CONFIGS = [
    dict(name="opt_pre", vocab=64, hidden=32, heads=4, layers=2, ffn=64, positions=32, norm_before=True, embed=32, tied=True),
    dict(name="opt_post_proj", vocab=72, hidden=32, heads=2, layers=3, ffn=48, positions=32, norm_before=False, embed=16, tied=False),
]


def opt_config(vocab, hidden, heads, layers, ffn, positions, norm_before, embed, tied=True):
    c = OPTConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, ffn_dim=ffn, num_attention_heads=heads,
                  max_position_embeddings=positions, do_layer_norm_before=norm_before, word_embed_proj_dim=embed,
                  dropout=0.0, attention_dropout=0.0, activation_function="relu", pad_token_id=PAD, bos_token_id=BOS,
                  eos_token_id=EOS, enable_bias=True, layer_norm_elementwise_affine=True, tie_word_embeddings=tied)
    c._attn_implementation = "eager"
    return c


def randomize_opt(module, seed, prefix=""):
    """Non-default values everywhere; LayerNorm weights near 1 so a swapped tensor cannot hide."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            if not name.startswith(prefix):
                continue
            if "layer_norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1]))


def run_layer(layer, h, mask):
    out = layer(h, attention_mask=mask)
    return out[0] if isinstance(out, tuple) else out  # transformers ≤ 4.x returned a tuple


def additive(allowed):
    """[n, n] bool → the 4-D additive mask eager attention adds to its scores."""
    m = torch.zeros(allowed.shape, dtype=torch.float32)
    m[~allowed] = torch.finfo(torch.float32).min
    return m[None, None]


class SentenceLLM(nn.Module):
    """sentence_llm_model.py: svae, llm_pe, llm_layers, fc."""

    def __init__(self, c):
        super().__init__()
        self.svae = svae.SVAE(c["svae"])
        d = c["svae"]["hidden"]
        cfg = opt_config(vocab=8, hidden=d, heads=c["llm_heads"], layers=c["llm_layers"], ffn=c["llm_ffn"],
                         positions=c["positions"], norm_before=c["norm_before"], embed=d)
        llm = OPTForCausalLM(cfg)
        self.llm_pe = llm.model.decoder.embed_positions
        self.llm_layers = llm.model.decoder.layers
        self.fc = nn.Linear(d, 2)

    def encode(self, rows):
        """Sentence vectors [n, d] of id lists, as a padded batch with its mask (correctly masked)."""
        ids, mask = svae.pad_batch(rows)
        return self.svae.encoder(ids, mask).view(len(rows), -1)

    def layers(self, vectors, mask):
        n = vectors.shape[0]
        h = vectors[None] + self.llm_pe(torch.ones((1, n), dtype=torch.long), 0)
        for layer in self.llm_layers:
            h = run_layer(layer, h, mask)
        return h[0]


def allowed(n, prompt, mode):
    a = torch.tril(torch.ones((n, n), dtype=torch.bool))
    if mode == "bidirectional":
        a[:prompt, :prompt] = True
    return a


def generate(model, prompt_rows, mode, max_sentences, max_seq_len, ignore_stop=False):
    vectors = model.encode(prompt_rows)
    p = len(prompt_rows)
    sentences, stop_logits, reason = [], [], "max_sentences"
    while True:
        n = vectors.shape[0]
        h = model.layers(vectors, additive(allowed(n, p, mode)))
        last = h[-1]
        logits = model.fc(last)
        stop_logits.append([svae.fmt(x) for x in logits])
        if len(sentences) >= max_sentences:
            break
        if not ignore_stop:
            assert abs(float(logits[0] - logits[1])) > 1e-3, "stop head too close to a tie"
        if not ignore_stop and int(torch.argmax(logits)) == 0:
            reason = "stop_head"
            break
        ids = model.svae.decoder.greedy(last.view(1, 1, -1), max_seq_len)
        sentences.append(ids)
        if len(sentences) >= max_sentences:
            break
        body = ids[:-1] if ids and ids[-1] == EOS else ids
        vectors = torch.cat([vectors, model.encode([[BOS] + body])], dim=0)
    return dict(sentences=sentences, stop_reason=reason, stop_logits=stop_logits[: len(sentences) + (1 if reason == "stop_head" else 0)])


def make_sllm(k, c):
    k += c.get("seed", 0)
    torch.manual_seed(5000 + k)
    model = SentenceLLM(c).eval()
    svae.randomize(model.svae, 6000 + k)
    randomize_opt(model, 7000 + k, prefix="llm_")
    randomize_opt(model, 7100 + k, prefix="fc")
    g = torch.Generator().manual_seed(8000 + k)
    prompt = [[BOS] + torch.randint(3, c["svae"]["vocab"], (n - 1,), generator=g).tolist() for n in c["prompt"]]
    # Random weights make the stop head decide arbitrarily. The sentences generated do not depend
    # on `fc`, so run once with the stop head ignored, then shift fc's bias (deterministically)
    # so that the bidirectional run continues after the prompt and stops by itself after two
    # sentences (or one, or three), with a margin.
    with torch.no_grad():
        free = generate(model, prompt, "bidirectional", c["max_sentences"], c["svae"]["max_seq_len"], ignore_stop=True)
    diffs = [l1 - l0 for l0, l1 in free["stop_logits"]]
    shift = None
    for j in [2, 1, 3]:
        if j >= len(diffs):
            continue
        lo, hi = -min(diffs[:j]) + 0.05, -diffs[j] - 0.05
        if lo < hi:
            shift = (lo + hi) / 2
            break
    assert shift is not None, "no bias shift makes the stop head stop after the prompt"
    step = -shift / 2  # fc.bias += [step, -step] adds -2·step to l1 - l0
    with torch.no_grad():
        model.fc.bias.add_(torch.tensor([step, -step]))
        out = {m: generate(model, prompt, m, c["max_sentences"], c["svae"]["max_seq_len"]) for m in ("bidirectional", "causal")}
    with torch.no_grad():
        vectors = model.encode(prompt)
        p = len(prompt)
        prefill = {}
        for mode in ("bidirectional", "causal"):
            # The reference prefill: layers called with NO mask (bidirectional under eager attention).
            mask = None if mode == "bidirectional" else additive(allowed(p, p, "causal"))
            h = model.layers(vectors, mask)
            prefill[mode] = dict(hidden=[[svae.fmt(x) for x in row] for row in h],
                                 stop_logits=[[svae.fmt(x) for x in model.fc(row)] for row in h],
                                 generation=out[mode])
    sd = {n: t for n, t in model.state_dict().items()}
    svae.save_safetensors(os.path.join(ROOT, "sllm", c["name"] + ".safetensors"), sd)
    s = c["svae"]
    golden = {
        "flags": {"num_attention_heads": s["heads"], "max_seq_len": s["max_seq_len"],
                  "llm_num_attention_heads": c["llm_heads"], "llm_do_layer_norm_before": c["norm_before"]},
        "hidden_size": s["hidden"], "max_sentences": c["max_sentences"], "max_seq_len": s["max_seq_len"],
        "positions": c["positions"], "prompt": prompt, "vectors": [[svae.fmt(x) for x in v] for v in vectors],
        "prefill": prefill,
    }
    with open(os.path.join(ROOT, "sllm", c["name"] + ".json"), "w") as f:
        json.dump(golden, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    for mode in prefill:
        gen = prefill[mode]["generation"]
        print(c["name"], mode, "stop bias shift", round(step, 4), "sentences", gen["sentences"], gen["stop_reason"])


def make_opt(k, c):
    torch.manual_seed(9000 + k)
    cfg = opt_config(c["vocab"], c["hidden"], c["heads"], c["layers"], c["ffn"], c["positions"], c["norm_before"], c["embed"], c["tied"])
    model = OPTForCausalLM(cfg).eval()
    randomize_opt(model, 9100 + k)
    if c["tied"]:
        model.tie_weights()
    g = torch.Generator().manual_seed(9200 + k)
    prompt = [BOS] + torch.randint(3, c["vocab"], (6,), generator=g).tolist()
    with torch.no_grad():
        logits = model(torch.tensor([prompt])).logits[0]
        ids = list(prompt)
        greedy = []
        while len(greedy) < 12:
            last = model(torch.tensor([ids])).logits[0, -1]
            top = torch.topk(last, 2).values
            assert float(top[0] - top[1]) > 1e-3, "greedy step too close to a tie"
            nxt = int(torch.argmax(last))
            greedy.append(nxt)
            ids.append(nxt)
            if nxt == EOS:
                break
    sd = {n: t for n, t in model.state_dict().items()}
    if c["tied"]:
        assert torch.equal(sd["lm_head.weight"], sd["model.decoder.embed_tokens.weight"])
    svae.save_safetensors(os.path.join(ROOT, "opt", c["name"] + ".safetensors"), sd)
    golden = {"flags": {"num_attention_heads": c["heads"], "do_layer_norm_before": c["norm_before"]},
              "vocab_size": c["vocab"], "prompt": prompt,
              "logits": [[svae.fmt(x) for x in row] for row in logits], "greedy": greedy}
    with open(os.path.join(ROOT, "opt", c["name"] + ".json"), "w") as f:
        json.dump(golden, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(c["name"], "greedy:", greedy)


def main():
    torch.set_num_threads(1)
    os.makedirs(os.path.join(ROOT, "sllm"), exist_ok=True)
    os.makedirs(os.path.join(ROOT, "opt"), exist_ok=True)
    for k, c in enumerate(SLLM_CONFIGS):
        make_sllm(k, c)
    for k, c in enumerate(OPT_CONFIGS):
        make_opt(k, c)


if __name__ == "__main__":
    main()
