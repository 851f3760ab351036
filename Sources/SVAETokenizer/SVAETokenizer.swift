// SVAETokenizer: the text side of the runtime.
//
// - `BPETokenizer`: GPT-2 byte-level BPE that produces the same ids as Hugging Face
//   `tokenizers` (ByteLevel pre-tokenizer without prefix space, BPE model, ByteLevel decoder),
//   with OPT's convention of prepending `</s>` available through `BPETokenizer.Options.bosID`.
//   Built from token strings + merges (what a `.svae` file stores), or by `BPETokenizer.load`,
//   the project's one loader of Hugging Face files (a folder, a tokenizer.json of any name,
//   vocab.json + merges.txt with transformers' tokenizer_config.json and
//   special_tokens_map.json), which reproduces every field exactly or refuses it
//   (BPETokenizer+Loading.swift, TransformersFiles.swift).
// - `SentenceSplitter`: the reference `PassageCollate.cut_sentence_func` of SentenceVAE.
//
// Layering: this module imports Synchronization and SVAEJSON (the strict JSON reader); no
// Foundation and no other svae module.
//
// Decisions, each checked against HF tokenizers 0.23.3 by the goldens
// (`tools/tokenizer/make_goldens.py`, fixtures in Tests/SVAETokenizerTests/Fixtures):
// - Special and added tokens in the text are split out before BPE (HF's default,
//   `encode_special_tokens=False`) with HF's rules: non-normalized tokens first, then
//   normalized ones, leftmost-longest, `lstrip`/`rstrip`/`single_word` honoured.
// - Regex classes: \p{L} = L*, \p{N} = N*, \s = U+0009...U+000D, U+0085, Zs, Zl, Zp; scalars
//   newer than Unicode 16.0 (HF's Oniguruma tables) count as unassigned. Verified for every
//   code point.
// - `decode` skips special tokens by default (HF's `skip_special_tokens=True`), throws on an id
//   out of range (HF silently drops it), and turns invalid UTF-8 into U+FFFD per maximal
//   invalid subsequence (HF: `String::from_utf8_lossy`; Swift's decoder agrees).
// - `encode(bytes:)` first repairs invalid UTF-8 the same way, as a Python caller must
//   (`bytes.decode("utf-8", "replace")`) before HF sees the text.
// - Bytes without a byte token are dropped, or mapped to `Options.unknownToken`, like HF.
