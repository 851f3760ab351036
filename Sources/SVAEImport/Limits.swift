// Limits: the resource caps of the checkpoint readers (docs/limits.md).
//
// Each is checked before the memory it guards is allocated and produces a typed error naming
// the file, the limit and what was found. No reader allocates a size read from the file
// without checking it first against the file's real size and these caps. The defaults are
// far above any real checkpoint; tests pass smaller values to reach each error cheaply.

/// Resource caps of the safetensors, ZIP, pickle and `.pth` readers.
package struct ReaderLimits: Sendable, Equatable {
    /// Bytes of a `data.pkl` record (the pickle is copied into memory): 1 GiB.
    package var pickleBytes = 1 << 30
    /// Values on the unpickler's stack at once: 4,194,304.
    package var pickleStack = 1 << 22
    /// Memo entries (BINPUT / LONG_BINPUT / MEMOIZE): 4,194,304.
    package var pickleMemo = 1 << 22
    /// Tensors in one checkpoint (safetensors header, `.pth` state dict, shard index): 1,048,576.
    package var tensors = 1 << 20
    /// Entries in a ZIP central directory: 1,048,576.
    package var zipEntries = 1 << 20
    /// Bytes of a safetensors header or a shard index (upstream's header cap): 100,000,000.
    package var headerBytes = 100_000_000

    package init() {}

    /// The caps the converter uses.
    package static let `default` = ReaderLimits()
}
