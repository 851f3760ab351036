// SVAE is the umbrella: `import SVAE` alone gives a Swift user everything its public API takes
// and returns — the model types (SentenceVAE, SentenceLLM, OPTLanguageModel, DecoderSession,
// Sampler, GenerationOptions, StopReason, ModelError …), the tokenizer (BPETokenizer), the
// file (SVAEFile, Metadata, the names table) and the kernels' context and errors.
@_exported import SVAEFormat
@_exported import SVAEKernels
@_exported import SVAEModel
@_exported import SVAETokenizer
