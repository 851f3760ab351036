// SVAETokenizer: the text side of the runtime.
//
// - `BPETokenizer`: GPT-2 byte-level BPE that produces the same ids as Hugging Face
//   `tokenizers` (ByteLevel pre-tokenizer without prefix space, BPE model, ByteLevel decoder),
//   with OPT's convention of prepending `</s>` available through `BPETokenizer.Options.bosID`.
// - `SentenceSplitter`: the reference `PassageCollate.cut_sentence_func` of SentenceVAE.
// - `TokenizerBenchmark`: a throughput probe.
//
// Layering: this module imports only Foundation and Synchronization; no other svae module.
// Golden fixtures: `tools/tokenizer/make_goldens.py`.
