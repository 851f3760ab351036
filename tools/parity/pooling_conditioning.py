#!/usr/bin/env python3
"""How much each parity fixture sentence's learnable-add pooling amplifies errors.

    .venv-peers/bin/python tools/parity/pooling_conditioning.py

For every learnable-add fixture of make_svae_fixtures.py (the same seeded model and sentences),
prints per sentence the sum over tokens of |centred alpha_t h_t| divided by |centred s|, where
h_t are the encoder's outputs, alpha_t = la(h_t) the pooling weights, s = sum_t alpha_t h_t the
pooled vector, and "centred" subtracts the mean over the hidden dimension (what the final
LayerNorm removes). 1 means the terms add up without cancelling; k means a relative error in the
terms can reach the normalized vector k times larger. Used for the bound of
QuantizedTests.q8ChoiceAgainstF32 (issue 20's quality target). Needs PyTorch; never run by the
tests or CI.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_svae_fixtures as m  # noqa: E402


def main():
    torch.set_num_threads(1)
    for k, c in enumerate(m.CONFIGS):
        if not c["learnable_add"]:
            continue
        torch.manual_seed(1000 + k)  # make_svae_fixtures.main's model and sentences
        model = m.SVAE(c).eval()
        m.randomize(model, 2000 + k)
        rows, ids, mask = m.sentences(c, torch.Generator().manual_seed(3000 + k))
        ratio, _ = amplification(model.encoder, ids, mask)
        print(f"{c['name']}: " + " ".join(f"{v:.1f}" for v in ratio.tolist()))


def amplification(e, ids, mask):
    """(per sentence sum_t |centred α_t h_t| / |centred s|, the sentence vectors lnorm(s)) for the
    learnable-add encoder `e` (make_svae_fixtures.Encoder) on ids [B, T] with mask [B, T]."""
    with torch.no_grad():
        h = e.token_states(ids, mask)
        terms = h * e.la(h)  # [B, T, d]
        s = terms.sum(1)
        centred = terms - terms.mean(-1, keepdim=True)
        return centred.norm(dim=-1).sum(1) / (s - s.mean(-1, keepdim=True)).norm(dim=-1), e.lnorm(s)


if __name__ == "__main__":
    main()
