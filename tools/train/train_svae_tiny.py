#!/usr/bin/env python3
"""Train `models/svae-tiny`, the small SentenceVAE shipped as svae's default model.

Exact command (from the repository root):
    python3 -m venv .venv-train && .venv-train/bin/pip install torch numpy tokenizers && .venv-train/bin/python tools/train/train_svae_tiny.py

Options: --minutes M (training wall-clock budget, default 23), --out DIR (default models/svae-tiny;
it must hold heldout-v1.txt, the previous model's test set, to keep it out of training and score it),
--readme-only (rewrite README.md from DIR/metrics.json). The data packages are read from the
site-packages of the Python that created the venv (sys.base_prefix), not from the venv: the README
pins their versions (numpy 2.4.6, scipy 1.17.1, sympy 1.14.0, networkx 3.6.1, CPython 3.11.7).

What it does, deterministically (fixed seeds, ONE torch thread):
  1. Data: docstrings (read with `ast`, files in sorted path order) of the CPython standard library
     (sysconfig's "stdlib", site-packages excluded), the string values of the stdlib's
     pydoc_data/topics.py (the reference manual as text), and the docstrings of numpy, scipy, sympy
     and networkx (BSD-3-Clause) in the base interpreter's site-packages. Each docstring is cut into
     blocks of same-indentation lines; blocks with doctest `>>>` / bullet / directive lines and
     section headers are dropped, wrapped lines joined, and the text is cut into sentences with the
     reference splitter (`PassageCollate.cut_sentence_func` semantics, our port in
     tools/tokenizer/make_goldens.py, text after the last cut kept). Sentences are stripped, filtered
     (mostly letters, no URLs, no code-like characters, 4..24 tokens once tokenized), deduplicated,
     shuffled with a fixed seed; the previous model's test sentences (heldout-v1.txt) are removed;
     1,000 are held out as a test set (never trained on, written to heldout.txt, first 8 lines to
     samples.txt) and 1,000 as validation. The training corpus itself is NOT written.
  2. Tokenizer: byte-level BPE (PyPI `tokenizers`, ByteLevel pre-tokenizer with
     add_prefix_space=False, ByteLevel decoder), specials <s> <pad> </s> <unk> at ids 0..3
     (BOS = EOS = 2, PAD = 1 like OPT), trained on the TRAINING sentences only. Every encoded
     sentence starts with </s> (id 2), as OPT's tokenizer does.
  3. Model: the reference architecture (Encoder/Decoder/SVAE of tools/parity/make_svae_fixtures.py,
     imported, not copied), trained with teacher forcing like the reference SentenceVAE.forward:
     encoder input [2, t1..tn] + attention mask, decoder input [2, t1..tn], targets [t1..tn, 2],
     padding ignored. Loss: plain cross-entropy (the reference uses a focal loss). AdamW,
     dropout 0.1 in training, eval() for evaluation.
  4. Evaluation on the held-out test set in PyTorch: exact reconstruction rate (greedy decode
     from the sentence vector, stop at EOS or max_seq_len-1 tokens, output == input tokens),
     teacher-forced next-token accuracy, position-wise accuracy of the greedy output; the same on
     heldout-v1.txt (the previous model's test set) for comparison.
  5. Output: model.safetensors (f32, reference key names), tokenizer.json, vocab.json,
     merges.txt, config.json, heldout.txt, samples.txt, metrics.json (the numbers the README
     quotes), LICENSES/, README.md.

Data licenses: the CPython standard library is distributed under the PSF License Agreement
(Python Software Foundation License Version 2), numpy, scipy, sympy and networkx under BSD-3-Clause;
all permit derivative works and redistribution provided the notices are retained: the license
texts are copied to LICENSES/ of the output folder; see models/svae-tiny/README.md.
"""
import argparse
import ast
import json
import math
import os
import platform
import random
import re
import sys
import sysconfig
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "parity"))
sys.path.insert(0, os.path.join(ROOT, "tools", "tokenizer"))

from make_goldens import split_sentences  # noqa: E402  (pure Python, no side effects)

COMMAND = ("python3 -m venv .venv-train && .venv-train/bin/pip install torch numpy tokenizers && "
           ".venv-train/bin/python tools/train/train_svae_tiny.py")
SEED = 20240800655 % (2 ** 31)
BOS = EOS = 2
PAD = 1
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]

HP = dict(
    hidden=128, heads=4, layers=2, vocab=2048, learnable_add=True, embed=None, max_seq_len=32,
    batch=64, lr=2e-3, weight_decay=0.01, warmup=300, betas=(0.9, 0.98), clip=1.0,
)
N_TEST = 1000
N_VAL = 1000
MIN_TOK, MAX_TOK = 4, 24  # tokens of the sentence itself (without the leading </s>)


# ---------------------------------------------------------------------------------------
# 1. Data

URL = re.compile(r"https?://|www\.|\S+@\S+\.\w")
CODE_CHARS = set("=<>{}[]()_*`|\\#$%^~@/+")


def stdlib_files():
    root = sysconfig.get_paths()["stdlib"]
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "__pycache__"))
        for f in filenames:
            if f.endswith(".py"):
                out.append(os.path.join(dirpath, f))
    return root, sorted(out)


def docstrings(path):
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            d = ast.get_docstring(node, clean=True)
            if d:
                out.append(d)
    return out


def prose_paragraphs(doc):
    """Paragraphs of a cleaned docstring that read as prose, wrapped lines joined."""
    for para in re.split(r"\n\s*\n", doc):
        lines = para.split("\n")
        if any(l.startswith((" ", "\t")) or l.lstrip().startswith((">>>", "...", "$ ", "- ", "* ", ":"))
               for l in lines):
            continue
        text = " ".join(l.strip() for l in lines)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            yield text


def is_prose(s):
    if URL.search(s) or any(c in CODE_CHARS for c in s) or "'" * 2 in s or '"' in s:
        return False
    if not s[0].isalpha():
        return False
    letters = sum(c.isalpha() or c == " " for c in s)
    if letters < 0.9 * len(s) or not s.isascii():
        return False
    words = s.split()
    if len(words) < 3:
        return False
    # identifiers like foo.bar or CamelCase.attr inside the sentence
    if any("." in w[:-1] for w in words):
        return False
    return True


UNDERLINE = re.compile(r"^\s*([-=~^*+#`'\"])\1{2,}\s*$")
CODE_START = (">>>", "...", "$ ", "- ", "* ", ":", "..", "|")


def prose_blocks(doc):
    """Blocks of a docstring (runs of non-blank lines with the same indentation), wrapped lines
    joined. Indented prose (numpydoc parameter descriptions, the indented paragraphs of the
    reference manual) is kept; blocks with a doctest / bullet / directive line are dropped, and so
    are section headers (a line over an underline of ---, ===, ...)."""
    lines = doc.split("\n")
    out, cur, ind, bad = [], [], None, False

    def flush():
        if cur and not bad:
            text = re.sub(r"\s+", " ", " ".join(cur)).strip()
            if text:
                out.append(text)

    for i, line in enumerate(lines):
        s = line.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not s or UNDERLINE.match(line) or UNDERLINE.match(nxt):
            flush()
            cur, ind, bad = [], None, False
            continue
        li = len(line) - len(line.lstrip())
        if ind is not None and li != ind:
            flush()
            cur, bad = [], False
        ind = li
        if s.startswith(CODE_START):
            bad = True
        cur.append(s)
    flush()
    return out


def package_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        out.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".py"))
    return sorted(out)


def topic_strings(path):
    """The string values of pydoc_data/topics.py (the Python reference manual as plain text)."""
    with open(path, "rb") as f:
        tree = ast.parse(f.read())
    return [v.value for n in ast.walk(tree) if isinstance(n, ast.Dict)
            for v in n.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]


# Third-party packages whose docstrings are used (all BSD-3-Clause; see models/svae-tiny/README.md).
PACKAGES = ("numpy", "scipy", "sympy", "networkx")


def license_files():
    """(name in LICENSES/, source path) of the license texts of every source used."""
    import glob
    site = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"]
    stdlib = sysconfig.get_paths()["stdlib"]
    out = [("CPython-PSF-LICENSE.txt", os.path.join(stdlib, "LICENSE.txt"))]
    for pkg in PACKAGES:
        (dist,) = glob.glob(os.path.join(site, pkg + "-*.dist-info"))
        for rel in ("LICENSE.txt", "LICENSE", "licenses/LICENSE.txt", "licenses/LICENSE",
                    "licenses/numpy/ma/LICENSE"):
            path = os.path.join(dist, rel)
            if os.path.exists(path):
                out.append((f"{pkg}-{rel.replace('licenses/', '').replace('/', '-')}", path))
    return out


def extract_sentences():
    """All sources in a fixed order (stdlib, pydoc topics, then PACKAGES), files in sorted path order;
    returns per-source stats and the unique prose sentences (first occurrence wins)."""
    import email
    import glob
    seen, out, sources = set(), [], []

    def add(name, version, license_, n_files, docs):
        n0 = len(out)
        for doc in docs:
            for para in prose_blocks(doc):
                for s in split_sentences(para, max_sentences=10 ** 9):
                    s = s.strip()
                    if s and is_prose(s) and s not in seen:
                        seen.add(s)
                        out.append((s, name))
        sources.append(dict(name=name, version=version, license=license_, files=n_files, docstrings=len(docs),
                            sentences=len(out) - n0))
        print(json.dumps(sources[-1]), flush=True)

    root, files = stdlib_files()
    pyver = sys.version.split()[0]
    add("CPython stdlib docstrings", pyver, "PSF-2.0", len(files), [d for p in files for d in docstrings(p)])
    topics = topic_strings(os.path.join(root, "pydoc_data", "topics.py"))
    add("CPython pydoc_data/topics.py (reference manual text)", pyver, "PSF-2.0", 1, topics)
    # The base interpreter's site-packages (not a venv's): the packages installed with the system Python.
    site = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["purelib"]
    for pkg in PACKAGES:
        (dist,) = glob.glob(os.path.join(site, pkg + "-*.dist-info"))
        with open(os.path.join(dist, "METADATA"), encoding="utf-8") as f:
            meta = email.message_from_string(f.read())
        lic = meta.get("License-Expression") or meta.get("License") or ""
        files = package_files(os.path.join(site, pkg))
        add(pkg, meta["Version"], lic.split("\n")[0][:80], len(files), [d for p in files for d in docstrings(p)])
    return root, sources, out


# ---------------------------------------------------------------------------------------
# 2. Tokenizer

def train_tokenizer(sentences, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(sentences, trainer=trainer)
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    # Every sentence starts with </s> (BOS = 2, as OPT's tokenizer does). Saying so in the file's
    # post-processor makes HF's own encode() give the ids the model is trained on, and lets a
    # converter read BOS from the file instead of guessing it.
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A $B", special_tokens=[("</s>", BOS)])
    return tok


def encode_all(tok, sentences):
    return [[BOS] + e.ids for e in tok.encode_batch(sentences, add_special_tokens=False)]


# ---------------------------------------------------------------------------------------
# 3. Model

def config(hp):
    return dict(name="svae-tiny", hidden=hp["hidden"], heads=hp["heads"], layers=hp["layers"], vocab=hp["vocab"],
                learnable_add=hp["learnable_add"], embed=hp["embed"], max_seq_len=hp["max_seq_len"])


def batchify(seqs, torch):
    """Encoder/decoder input [2, t1..tn] padded with PAD, mask, targets [t1..tn, 2] (-100 = pad)."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    tgt = torch.full((len(seqs), width), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
        tgt[i, : len(s)] = torch.tensor(s[1:] + [EOS])
    return ids, mask, tgt


def forward_logits(model, ids, mask):
    vec = model.encoder(ids, mask)  # [B, 1, d]
    return model.decoder(ids, vec)  # [B, L, V]


def batches_by_length(seqs, batch, rng):
    """Shuffle, then group into batches of similar length (less padding), batch order shuffled."""
    idx = list(range(len(seqs)))
    rng.shuffle(idx)
    chunk = batch * 50
    out = []
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: len(seqs[i]))
        out.extend(part[b : b + batch] for b in range(0, len(part), batch))
    rng.shuffle(out)
    return out


def evaluate_tf(model, seqs, torch, batch=256):
    """Teacher-forced loss and next-token accuracy over all target tokens (EOS included)."""
    import torch.nn.functional as F
    model.eval()
    tot_loss = tot_ok = tot_n = 0.0
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    with torch.no_grad():
        for b in range(0, len(order), batch):
            ids, mask, tgt = batchify([seqs[i] for i in order[b : b + batch]], torch)
            logits = forward_logits(model, ids, mask)
            valid = tgt != -100
            tot_loss += float(F.cross_entropy(logits[valid], tgt[valid], reduction="sum"))
            tot_ok += float((logits.argmax(-1)[valid] == tgt[valid]).sum())
            tot_n += float(valid.sum())
    return tot_loss / tot_n, tot_ok / tot_n, int(tot_n)


def greedy_batch(model, vec, max_len, torch):
    """Greedy decode from sentence vectors [B,1,d], re-running the prefix (like the reference),
    each row stopping at EOS or after max_len - 1 tokens. Returns lists of generated ids (EOS kept)."""
    B = vec.shape[0]
    ids = torch.full((B, 1), BOS, dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    outs = [[] for _ in range(B)]
    for _ in range(max_len - 1):
        nxt = model.decoder(ids, vec)[:, -1].argmax(-1)
        for i in range(B):
            if not done[i]:
                outs[i].append(int(nxt[i]))
        done |= nxt == EOS
        if bool(done.all()):
            break
        ids = torch.cat([ids, nxt[:, None]], dim=1)
    return outs


def evaluate_greedy(model, seqs, max_len, torch, batch=250):
    model.eval()
    exact = pos_ok = pos_n = 0
    outs_all = []
    with torch.no_grad():
        for b in range(0, len(seqs), batch):
            chunk = seqs[b : b + batch]
            ids, mask, _ = batchify(chunk, torch)
            vec = model.encoder(ids, mask)
            outs = greedy_batch(model, vec, max_len, torch)
            for s, o in zip(chunk, outs):
                want = s[1:] + [EOS]  # the tokens and the stop
                exact += int(o == want)
                pos_ok += sum(int(a == w) for a, w in zip(o, want))
                pos_n += len(want)
                outs_all.append(o)
    return exact / len(seqs), pos_ok / pos_n, outs_all


# ---------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------
# README (every number in it comes from this run)

PSF_NOTICE = ("Copyright (c) 2001-2023 Python Software Foundation; All Rights Reserved")
NOTICES = {
    "numpy": ("BSD-3-Clause", "Copyright (c) 2005-2025, NumPy Developers. All rights reserved.",
              "`numpy-LICENSE.txt` (and `numpy-numpy-ma-LICENSE`, BSD-3-Clause, for `numpy.ma`)"),
    "scipy": ("BSD-3-Clause", "Copyright (c) 2001-2002 Enthought, Inc. 2003, SciPy Developers. All rights reserved.",
              "`scipy-LICENSE.txt`"),
    "sympy": ("BSD-3-Clause (\"New BSD\"; a few modules BSD/MIT as listed in its LICENSE)",
              "Copyright (c) 2006-2023 SymPy Development Team. All rights reserved.", "`sympy-LICENSE`"),
    "networkx": ("BSD-3-Clause", "Copyright (c) 2004-2025, NetworkX Developers. All rights reserved.",
                 "`networkx-LICENSE.txt`"),
}
# The previous svae-tiny (commit aaa9b0e: stdlib docstrings only, vocab 3072, 4..30 tokens), on its
# own test set (heldout-v1.txt) and validation set.
PREVIOUS = dict(test_exact=0.146, test_pos=0.326, test_tf_acc=0.645, test_ppl=7.160, train_loss=0.347, val_loss=1.987,
                train_sentences=14461)


def write_readme(out, m):
    d, hp, r = m["data"], m["hyperparameters"], m["results"]
    pct = lambda x: f"{100 * x:.1f}%"
    hist = "\n".join(
        f"| {h['minute']:.0f} | {h['step']} | {h['epoch']} | {h['train_loss']:.3f} | {h['val_loss']:.3f} | "
        f"{h['val_ppl']:.2f} | {pct(h['val_tf_acc'])} | {pct(h['val250_exact']) if 'val250_exact' in h else ''} |"
        for h in m["history"])
    ex = "\n".join(f"| {e['input']} | {e['output']} |" for e in m["examples"])
    mc = m["machine"]
    srcs = "\n".join(
        f"| {s['name']} | {s['version']} | {NOTICES[s['name']][0] if s['name'] in NOTICES else 'PSF License Version 2'} | "
        f"{s['files']} | {s['docstrings'] if s['files'] > 1 else str(s['docstrings']) + ' topic strings'} | {s['sentences']} | "
        f"{d['train_by_source'][s['name']]} | {d['test_by_source'][s['name']]} |" for s in d["sources"])
    notices = "\n".join(f"- **{k}** {next(s['version'] for s in d['sources'] if s['name'] == k)}: {v[0]}. \"{v[1]}\" "
                        f"Full text: {v[2]}." for k, v in NOTICES.items())
    P = PREVIOUS
    text = f"""# svae-tiny: the default SentenceVAE shipped with svae

A small SentenceVAE (arXiv 2408.00655) in the reference architecture (BestAnHongjun/SentenceVAE
`SentenceEncoder` / `SentenceDecoder`, as ported in `tools/parity/make_svae_fixtures.py`): it encodes
one English sentence (a clause, in the reference splitter's sense) into ONE {hp['hidden']}-dimensional
vector and decodes it back token by token. It is meant as a small, redistributable default model for
tests, demos and the CLI, not as a quality model: it knows the vocabulary and style of Python and
scientific-Python documentation and little else.

| file | content |
|---|---|
| `model.safetensors` | f32 weights under the reference state-dict names (`encoder.embed_token.weight`, `encoder.encoder.layers.0.self_attn.in_proj_weight`, `encoder.la.*`, `encoder.lnorm.*`, `decoder.decoder.layers.0.multihead_attn.*`, `decoder.linear.*`, ...) |
| `config.json` | flat config (`hidden_size`, `num_attention_heads`, `num_hidden_layers`, `vocab_size`, `max_seq_len`, `learnable_add`, `word_embed_proj_dim`, `bos_token_id`, `eos_token_id`, `pad_token_id`) |
| `tokenizer.json` | Hugging Face `tokenizers` byte-level BPE ({hp['vocab']} ids; `<s>` `<pad>` `</s>` `<unk>` = 0..3); also as `vocab.json` + `merges.txt` |
| `heldout.txt` | the {d['test_sentences']} held-out test sentences (never trained on), one per line; `samples.txt` = its first 8 lines |
| `heldout-v1.txt` | the previous model's 1000 test sentences (stdlib only), kept out of this model's training and validation too, for comparison |
| `metrics.json` | every number quoted here, as written by the training script |
| `LICENSES/` | the license texts of the data sources (below) |

## Model

- hidden {hp['hidden']}, {hp['heads']} heads, {hp['layers']} encoder layers and {hp['layers']} decoder layers
  (post-norm, ReLU, FFN {2 * hp['hidden']}), learnable add pooling (`la`), LayerNorm on the sentence
  vector, sinusoidal positions, untied output projection; vocabulary {hp['vocab']}; max_seq_len
  {hp['max_seq_len']} (including the leading `</s>`); {m['params']:,} parameters.
- Token ids like OPT: BOS = EOS = 2 (`</s>`), PAD = 1 (`<pad>`). Every encoded sentence STARTS with
  `</s>` (id 2), as OPT's tokenizer does; `tokenizer.json` itself has no post-processor, so the
  converter records `tokens.add_bos=true`. The ByteLevel pre-tokenizer has `add_prefix_space=false`.
- Greedy decoding starts from `[2]` and stops at EOS (2) or after max_seq_len - 1 = {hp['max_seq_len'] - 1} tokens.
  Training used sentences of {MIN_TOK}-{MAX_TOK} tokens: longer inputs are accepted but reconstructed worse.

## Data

English prose from docstrings of the Python standard library and of four BSD-licensed scientific
packages installed with the system Python, plus the reference-manual text of the standard library's
`pydoc_data/topics.py` (its string values). Sources are read in the order of the table, `.py` files in
sorted path order, docstrings with `ast` (module/class/function docstrings). Each docstring (or topic
string) is cut into blocks of consecutive lines with the same indentation (so indented prose such as
numpydoc parameter descriptions is kept); blocks containing a doctest (`>>>`), bullet, directive or
table line, and section headers over an underline, are dropped; the lines of a block are joined and cut
with the reference sentence splitter (`PassageCollate.cut_sentence_func`: cuts after `, . ! ? ; : "`
and newlines, text after the last cut kept). Kept: stripped ASCII sentences that start with a letter,
are at least 90% letters and spaces, have 3+ words, no URLs, no code-like characters
(`= < > ( ) [ ] {{ }} _ * ` and similar), no dotted identifiers, and {MIN_TOK}-{MAX_TOK} tokens;
deduplicated (first occurrence wins), shuffled with a fixed seed, then split into test, validation and
training sets. The {d['excluded_v1']} sentences of `heldout-v1.txt` found in the pool are removed before the split.

| source | version | license | files | docstrings | unique sentences | in train | in test |
|---|---|---|---|---|---|---|---|
{srcs}

{d['unique_sentences']} unique sentences before the token-length filter.

| split | sentences | tokens (without the leading `</s>`) |
|---|---|---|
| train | {d['train_sentences']} | {d['train_tokens']} |
| validation | {d['val_sentences']} | {d['val_tokens']} |
| test (`heldout.txt`) | {d['test_sentences']} | {d['test_tokens']} |

Mean {d['mean_tokens_per_sentence']} tokens per training sentence. The training corpus is not
committed: `tools/train/train_svae_tiny.py` regenerates it from the same package versions, read from
the site-packages of the Python that created the venv (`sys.base_prefix`), not from the venv.

### Licenses of the data

Only text derived from docstrings (and the reference-manual strings of `pydoc_data/topics.py`) was
used: `heldout.txt`, `heldout-v1.txt` and `samples.txt` contain such sentences verbatim (held-out
sentences are included in this folder), and `tokenizer.json` and the weights are derived from the
training sentences by training. No code of these projects is included. The license texts are in `LICENSES/`.

- **CPython** {mc['python']} (standard library docstrings and `pydoc_data/topics.py`): PSF License Agreement
  (PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2), which permits preparing derivative works and
  redistributing them provided PSF's License Agreement and notice of copyright are retained:
  "{PSF_NOTICE}". Full text: `CPython-PSF-LICENSE.txt` (`LICENSE.txt` of the standard library
  directory; https://docs.python.org/3/license.html). Summary of the changes (clause 3 of the
  agreement): sentences extracted from docstrings and topic strings as described above (lines joined,
  split, filtered, shuffled). Python is provided by PSF "AS IS", without warranty.
{notices}

The BSD licenses permit redistribution in source and binary forms with or without modification
provided the copyright notice, the list of conditions and the disclaimer are retained (as done here in
`LICENSES/`) and the names of the copyright holders are not used to endorse derived products. The
software and text are provided by the copyright holders "AS IS", without warranty.

## Training

```
{COMMAND}
```

(`--minutes {m['minutes_budget']:g}` is the default budget.) Teacher forcing exactly like the
reference `SentenceVAE.forward`: encoder and decoder input `[2, t1..tn]` padded with 1 plus an
attention mask, targets `[t1..tn, 2]`, padded targets ignored. Loss: {m['loss']}.
AdamW (lr {hp['lr']}, betas {tuple(hp['betas'])}, weight decay {hp['weight_decay']}), batch {hp['batch']}
sentences grouped by length, linear warmup over {hp['warmup']} steps then cosine decay to 5% of the
peak over the wall-clock budget, gradient clipping {hp['clip']}, dropout 0.1 (the reference layers'
default) in training, `eval()` for every evaluation; the checkpoint with the best validation loss
(checked every minute) is kept. Seeds fixed ({m['seed']}), ONE torch thread. Because the budget is
wall-clock time, the number of steps depends on the machine: this run did {m['steps']} steps
({m['epochs']} epochs begun) in {m['train_seconds'] / 60:.1f} minutes of training
({m['total_seconds'] / 60:.1f} minutes in all, data extraction and evaluation included) on {mc['processor']}
({mc['platform']}, a shared 2-core machine with other jobs running), torch {mc['torch']}, tokenizers
{mc['tokenizers']}, Python {mc['python']}.

Loss milestones (validation = teacher-forced cross-entropy on the {d['val_sentences']} validation sentences;
exact = exact reconstruction of the first 250 validation sentences):

| minute | step | epoch | train loss | val loss | val PPL | val token acc | val exact |
|---|---|---|---|---|---|---|---|
{hist}

## Results (PyTorch, float32, eval mode)

Exact reconstruction = greedy decoding from the sentence vector, output ids == input ids including
the EOS stop; position-wise accuracy = share of input tokens + EOS that the greedy output has at the
same position; teacher-forced accuracy and perplexity over tokens + EOS.

| metric | test (`heldout.txt`, {d['test_sentences']}) | validation ({d['val_sentences']}) | previous test set (`heldout-v1.txt`) | previous model on `heldout-v1.txt` |
|---|---|---|---|---|
| exact reconstruction | **{pct(r['test_exact_reconstruction'])}** | {pct(r['val_exact_reconstruction'])} | **{pct(r['v1_exact_reconstruction'])}** | {pct(P['test_exact'])} |
| position-wise accuracy of the greedy output | {pct(r['test_greedy_position_acc'])} | {pct(r['val_greedy_position_acc'])} | {pct(r['v1_greedy_position_acc'])} | {pct(P['test_pos'])} |
| teacher-forced next-token accuracy | {pct(r['test_tf_token_acc'])} | {pct(r['val_tf_token_acc'])} | {pct(r['v1_tf_token_acc'])} | {pct(P['test_tf_acc'])} |
| teacher-forced perplexity | {r['test_tf_ppl']:.3f} | {r['val_tf_ppl']:.3f} | {r['v1_tf_ppl']:.3f} | {P['test_ppl']:.3f} |

`heldout-v1.txt` column: the {d['v1_fitting']} of its {d['v1_sentences']} sentences that fit max_seq_len with this
tokenizer (counting the others as failures: {pct(r['v1_exact_over_all'])} exact). Perplexities of different
tokenizers are not comparable (the previous model had {3072} ids). The previous model (commit aaa9b0e)
was trained on {P['train_sentences']} stdlib sentences and ended with train loss {P['train_loss']:.2f} vs validation
{P['val_loss']:.2f}; this one ended at {m['history'][-1]['train_loss']:.2f} vs {m['history'][-1]['val_loss']:.2f}.

`heldout-v1.txt` is stdlib-only and allows up to 30 tokens (of the old tokenizer), longer than
this model's {MIN_TOK}-{MAX_TOK}-token training range, so it is harder for this model than its own test set.

Limitations: the validation loss was still falling when the budget ran out (no sign of the
previous model's overfitting), so the wall-clock budget now limits quality more than the data does.
Wrong reconstructions are usually fluent documentation phrases that keep the first words and the
topic of the input; rare words (names, acronyms) are the first to go.
For scale: the paper's SVAE-768-H4 (768 wide, OPT's 50k vocabulary, far more data and compute)
reports reconstruction PPL 1.649.

First test sentences and their greedy reconstructions:

| input | reconstruction |
|---|---|
{ex}
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=23.0, help="training wall-clock budget")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "svae-tiny"))
    ap.add_argument("--data-only", action="store_true", help="stop after data + tokenizer stats")
    ap.add_argument("--readme-only", action="store_true", help="rewrite README.md from metrics.json")
    ap.add_argument("--hp", default="{}", help="JSON overrides of HP (experiments)")
    args = ap.parse_args()
    HP.update(json.loads(args.hp))
    if args.readme_only:
        with open(os.path.join(args.out, "metrics.json")) as f:
            write_readme(args.out, json.load(f))
        return

    import numpy as np
    import torch
    import torch.nn.functional as F
    import tokenizers
    from make_svae_fixtures import SVAE, save_safetensors

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    random.seed(SEED)
    np.random.seed(SEED)
    t_start = time.time()

    # 1. data
    cache = os.environ.get("SVAE_DATA_CACHE")  # development only: reuse an extraction
    if cache and os.path.exists(cache):
        with open(cache) as f:
            stdlib, sources, pairs = json.load(f)
        pairs = [tuple(p) for p in pairs]
    else:
        stdlib, sources, pairs = extract_sentences()
        if cache:
            with open(cache, "w") as f:
                json.dump([stdlib, sources, pairs], f)
    # The previous model's test set (stdlib only, 4..30 tokens of its own tokenizer) stays out of
    # training and validation, so that both models can be compared on it.
    v1_path = os.path.join(args.out, "heldout-v1.txt")
    v1_raw = [l.rstrip("\n") for l in open(v1_path)] if os.path.exists(v1_path) else []
    v1_set = set(v1_raw)
    sents = [s for s, _ in pairs if s not in v1_set]
    src_of = dict(pairs)
    print(f"{len(pairs)} unique prose sentences, {len(pairs) - len(sents)} of them in heldout-v1.txt (excluded)", flush=True)
    rng = random.Random(SEED)
    rng.shuffle(sents)
    test_raw, val_raw, train_raw = sents[:N_TEST * 2], sents[N_TEST * 2 : N_TEST * 4], sents[N_TEST * 4 :]

    # 2. tokenizer on training sentences (before the length filter, which needs the tokenizer)
    tok = train_tokenizer(train_raw, HP["vocab"])
    assert tok.get_vocab_size() == HP["vocab"], tok.get_vocab_size()

    def keep(raw):
        enc = encode_all(tok, raw)
        pairs = [(s, e) for s, e in zip(raw, enc) if MIN_TOK <= len(e) - 1 <= MAX_TOK]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    test_s, test = keep(test_raw)
    val_s, val = keep(val_raw)
    train_s, train = keep(train_raw)
    test_s, test, val_s, val = test_s[:N_TEST], test[:N_TEST], val_s[:N_VAL], val[:N_VAL]
    for s, e in zip(test_s[:50], test[:50]):
        assert tok.decode(e[1:]) == s, (s, tok.decode(e[1:]))
    v1 = [e for e in encode_all(tok, v1_raw) if len(e) <= HP["max_seq_len"] - 1]
    stats = dict(
        sources=sources, unique_sentences=len(pairs), excluded_v1=len(pairs) - len(sents),
        v1_sentences=len(v1_raw), v1_fitting=len(v1),
        train_by_source={k: sum(1 for s in train_s if src_of[s] == k) for k in [x["name"] for x in sources]},
        test_by_source={k: sum(1 for s in test_s if src_of[s] == k) for k in [x["name"] for x in sources]},
        train_sentences=len(train), val_sentences=len(val), test_sentences=len(test),
        train_tokens=sum(len(s) - 1 for s in train), val_tokens=sum(len(s) - 1 for s in val),
        test_tokens=sum(len(s) - 1 for s in test),
        mean_tokens_per_sentence=round(sum(len(s) - 1 for s in train) / len(train), 2),
    )
    print(json.dumps(stats), flush=True)
    if args.data_only:
        for s in train_s[:40]:
            print("  ", s)
        return

    # 3. model
    c = config(HP)
    torch.manual_seed(SEED)
    model = SVAE(c)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=HP["lr"], betas=HP["betas"], weight_decay=HP["weight_decay"])
    budget = args.minutes * 60.0
    t0 = time.time()
    # Learning-rate schedule on wall time: linear warmup (steps), then cosine to 5% over the budget.
    step, epoch, history = 0, 0, []
    drng = random.Random(SEED + 1)
    best_val, best_state = float("inf"), None
    next_eval = 60.0
    run_loss = run_n = 0.0
    stop = False
    while not stop:
        epoch += 1
        for bidx in batches_by_length(train, HP["batch"], drng):
            frac = min(1.0, (time.time() - t0) / budget)
            if frac >= 1.0:
                stop = True
                break
            lr = HP["lr"] * min(1.0, (step + 1) / HP["warmup"]) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            for g in opt.param_groups:
                g["lr"] = lr
            model.train()
            ids, mask, tgt = batchify([train[i] for i in bidx], torch)
            logits = forward_logits(model, ids, mask)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), HP["clip"])
            opt.step()
            step += 1
            run_loss += float(loss.detach())
            run_n += 1
            el = time.time() - t0
            if el >= next_eval:
                next_eval += 60.0
                vl, va, _ = evaluate_tf(model, val, torch)
                rec = dict(minute=round(el / 60, 2), step=step, epoch=epoch, lr=round(lr, 6),
                           train_loss=round(run_loss / run_n, 4), val_loss=round(vl, 4),
                           val_ppl=round(math.exp(vl), 4), val_tf_acc=round(va, 4))
                if len(history) % 4 == 3:
                    ex, _, _ = evaluate_greedy(model, val[:250], c["max_seq_len"], torch)
                    rec["val250_exact"] = round(ex, 4)
                history.append(rec)
                print(json.dumps(rec), flush=True)
                run_loss = run_n = 0.0
                if vl < best_val:
                    best_val = vl
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    train_seconds = time.time() - t0
    vl, va, _ = evaluate_tf(model, val, torch)
    print(f"end of training: step {step} epoch {epoch} val_loss {vl:.4f}", flush=True)
    if best_state is not None and best_val < vl:
        model.load_state_dict(best_state)
        print(f"restored best checkpoint (val_loss {best_val:.4f})", flush=True)

    # 4. evaluation (held-out test set, eval mode)
    model.eval()
    tl, ta, tn = evaluate_tf(model, test, torch)
    ex, pos, outs = evaluate_greedy(model, test, c["max_seq_len"], torch)
    vl, va, _ = evaluate_tf(model, val, torch)
    vex, vpos, _ = evaluate_greedy(model, val, c["max_seq_len"], torch)
    if v1:
        v1l, v1a, _ = evaluate_tf(model, v1, torch)
        v1ex, v1pos, _ = evaluate_greedy(model, v1, c["max_seq_len"], torch)
    else:
        v1l = v1a = v1ex = v1pos = float("nan")
    results = dict(v1_exact_reconstruction=round(v1ex, 4), v1_greedy_position_acc=round(v1pos, 4),
                   v1_tf_token_acc=round(v1a, 4), v1_tf_ppl=round(math.exp(v1l), 4),
                   v1_exact_over_all=round(v1ex * len(v1) / max(1, len(v1_raw)), 4),test_exact_reconstruction=round(ex, 4), test_greedy_position_acc=round(pos, 4),
                   test_tf_token_acc=round(ta, 4), test_tf_loss=round(tl, 4), test_tf_ppl=round(math.exp(tl), 4),
                   test_target_tokens=tn, val_exact_reconstruction=round(vex, 4), val_greedy_position_acc=round(vpos, 4),
                   val_tf_token_acc=round(va, 4), val_tf_ppl=round(math.exp(vl), 4))
    print(json.dumps(results), flush=True)
    examples = [dict(input=s, output=tok.decode([t for t in o if t != EOS])) for s, o in zip(test_s[:12], outs[:12])]

    # 5. outputs
    os.makedirs(args.out, exist_ok=True)
    save_safetensors(os.path.join(args.out, "model.safetensors"), model.state_dict())
    tok.save(os.path.join(args.out, "tokenizer.json"))
    tok.model.save(args.out)  # vocab.json, merges.txt
    cfg = {"hidden_size": c["hidden"], "num_attention_heads": c["heads"], "num_hidden_layers": c["layers"],
           "vocab_size": c["vocab"], "max_seq_len": c["max_seq_len"], "learnable_add": c["learnable_add"],
           "word_embed_proj_dim": c["embed"] or c["hidden"], "bos_token_id": BOS, "eos_token_id": EOS,
           "pad_token_id": PAD}
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.out, "heldout.txt"), "w") as f:
        for s in test_s:
            f.write(s + "\n")
    metrics = dict(data=stats, hyperparameters={k: (list(v) if isinstance(v, tuple) else v) for k, v in HP.items()},
                   params=n_params, loss="cross-entropy (plain, not the reference focal loss)",
                   train_seconds=round(train_seconds, 1), steps=step, epochs=epoch, minutes_budget=args.minutes,
                   total_seconds=round(time.time() - t_start, 1), history=history, results=results,
                   examples=examples, seed=SEED,
                   machine=dict(platform=platform.platform(), processor=platform.machine(), torch=torch.__version__,
                                tokenizers=tokenizers.__version__, python=sys.version.split()[0], threads=1))
    print(json.dumps(metrics, sort_keys=True), flush=True)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1, sort_keys=True)
        f.write("\n")
    import shutil
    os.makedirs(os.path.join(args.out, "LICENSES"), exist_ok=True)
    for name, path in license_files():
        shutil.copyfile(path, os.path.join(args.out, "LICENSES", name))
    with open(os.path.join(args.out, "samples.txt"), "w") as f:
        for s in test_s[:8]:
            f.write(s + "\n")
    write_readme(args.out, metrics)


if __name__ == "__main__":
    main()
