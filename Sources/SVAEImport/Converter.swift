// Converter: the pipeline from source checkpoints to a `.svae` file (issue 4).
//
//   open inputs → plan (ImportPlanner) → metadata (+ converter, digest, quantization)
//   → tokenizer (optional) → element type per tensor → SVAEWriter in ModelSchema order
//   → per tensor, per chunk of rows: read f32 → encode → append → release source pages
//   → finish (fsync + rename) → re-open and validateModel().
//
// Memory: one chunk of rows (`ConvertOptions.chunkElements` f32 values, 4 MiB by default)
// plus its encoded bytes; the source pages of a chunk are dropped from the resident set
// once it is written (MappedFile.release), so peak memory does not grow with the model.
// Any error abandons the writer: the destination is never created or replaced.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SVAEFormat
import SVAEKernels
import SVAEModel
import SVAETokenizer

/// A `--tensor-type REGEX=TYPE` rule: tensors whose (our) name contains a match of `pattern`
/// get `type`. Rules are tried in order; the first match wins.
package struct TensorTypeRule: Sendable, Equatable, CustomStringConvertible {
    /// The regular expression (Swift `Regex` syntax), searched anywhere in the name: anchor it
    /// with `^…$` to match whole names.
    package let pattern: String
    package let type: SVAEFormat.ElementType

    package init(pattern: String, type: SVAEFormat.ElementType) throws(ConvertError) {
        guard (try? Regex(pattern)) != nil else { throw .badTensorTypeRule(rule: "\(pattern)=\(type)", reason: "invalid regular expression") }
        self.pattern = pattern
        self.type = type
    }

    /// Parses `REGEX=TYPE` (split at the last `=`, so the regex may contain `=`).
    package init(parsing text: String) throws(ConvertError) {
        guard let eq = text.lastIndex(of: "="), eq != text.startIndex else {
            throw .badTensorTypeRule(rule: text, reason: "expected REGEX=TYPE")
        }
        let name = String(text[text.index(after: eq)...])
        guard let t = SVAEFormat.ElementType(name: name) else {
            throw .badTensorTypeRule(rule: text, reason: "unknown type \"\(name)\", expected f32, f16, bf16, q8_0, q4_0 or i8r")
        }
        try self.init(pattern: String(text[..<eq]), type: t)
    }

    func matches(_ name: String) -> Bool {
        guard let r = try? Regex(pattern) else { return false }
        return name.firstMatch(of: r) != nil
    }

    package var description: String { "\(pattern)=\(type)" }
}

/// Options of a conversion. Defaults: f32 everywhere, tokenizer picked up from an input folder.
package struct ConvertOptions: Sendable {
    /// Architecture, config sources and SLLM prefill attention (see `ImportOptions`).
    package var importOptions: ImportOptions
    /// Type of the quantizable tensors (2-D weights: embeddings, linear weights, position
    /// embeddings). Norms, biases and other vectors are always f32 (`ModelSchema` requires it).
    package var defaultType: SVAEFormat.ElementType
    /// Per-tensor overrides, first match wins; they apply to quantizable tensors only.
    package var tensorTypes: [TensorTypeRule]
    /// Tokenizer file or folder. nil: look for `tokenizer.json` or `vocab.json` + `merges.txt`
    /// in the input folders (when `findTokenizer`), else write no tokenizer.
    package var tokenizer: String?
    /// Pick up tokenizer files from an input folder when `tokenizer` is nil.
    package var findTokenizer: Bool
    /// `tokens.add_bos` for a file without a tokenizer; with one, it must agree with the
    /// tokenizer's own (post-processor or `add_bos_token`), which decides. nil: the tokenizer's.
    package var addBOS: Bool?
    /// `general.name`, if given.
    package var name: String?
    /// f32 values converted per chunk (at least one row). Bounds the converter's buffers.
    package var chunkElements: Int
    /// zstd-compress the metadata and tokenizer sections when it saves ≥ 10 %.
    package var compress: Bool

    package init(importOptions: ImportOptions = ImportOptions(), defaultType: SVAEFormat.ElementType = .f32,
                tensorTypes: [TensorTypeRule] = [], tokenizer: String? = nil, findTokenizer: Bool = true,
                addBOS: Bool? = nil, name: String? = nil, chunkElements: Int = 1 << 20, compress: Bool = true) {
        self.importOptions = importOptions
        self.defaultType = defaultType
        self.tensorTypes = tensorTypes
        self.tokenizer = tokenizer
        self.findTokenizer = findTokenizer
        self.addBOS = addBOS
        self.name = name
        self.chunkElements = chunkElements
        self.compress = compress
    }
}

/// Where a running conversion is (reported after every chunk).
package struct ConversionProgress: Sendable {
    /// 1-based index of the tensor being written, and the number of tensors.
    package var tensor: Int
    package var tensorCount: Int
    /// Our name of that tensor.
    package var tensorName: String
    /// Tensor-data bytes written so far, and in total.
    package var bytesWritten: Int
    package var bytesTotal: Int
}

/// What a finished conversion wrote.
package struct ConversionReport: Sendable {
    /// The output file.
    package var output: String
    package var architecture: Architecture
    /// Every tensor as written (name, element type, shape), in file order.
    package var tensors: [TensorPlan]
    /// Size of the output file.
    package var fileBytes: Int
    /// Bytes of tensor data (without padding) and number of weights (elements).
    package var dataBytes: Int
    package var elements: Int
    /// `general.source_digest` and `general.quantization` as written.
    package var sourceDigest: String
    package var quantization: String
    /// Tokenizer files stored, if any.
    package var tokenizerFiles: [String]
    /// Decisions taken (planner defaults, f16 fallbacks, tokenizer specials).
    package var notes: [String]
    /// Wall time of the conversion in seconds.
    package var seconds: Double

    /// Average bits per weight over all tensors (scales of quantized blocks included).
    package var bitsPerWeight: Double { elements == 0 ? 0 : Double(dataBytes) * 8 / Double(elements) }
}

/// A conversion failure. Every case names the file and, where there is one, the tensor or key.
package enum ConvertError: Error, Equatable, CustomStringConvertible {
    /// No input was given.
    case noInputs
    /// The output path is one of the inputs.
    case outputIsInput(path: String)
    /// Two inputs hold a tensor of the same name.
    case duplicateTensor(tensor: String, first: String, second: String)
    /// A `--tensor-type` rule that cannot be used.
    case badTensorTypeRule(rule: String, reason: String)
    /// A hyperparameter that does not fit its registry type (formats/svae.md §5.1).
    case metadata(file: String, key: String, expected: String, found: String)
    /// The plan and `ModelSchema` disagree (an importer bug or an inconsistent checkpoint).
    case schemaMismatch(file: String, tensor: String, expected: String, found: String)
    /// NaN or ±Inf at flat element `index` of our tensor `tensor` (from `source` in `file`).
    case nonFinite(file: String, tensor: String, source: String, index: Int, value: String)
    /// A value too large for the chosen type (f16 overflow, or a q8_0/q4_0 scale beyond f16).
    case overflow(file: String, tensor: String, type: String, index: Int, magnitude: Float)
    /// The tokenizer has more tokens than the model's vocabulary (embedding rows).
    case tokenizerTooLarge(file: String, tokens: Int, vocabSize: Int)
    /// The tokenizer and the model (or a flag) disagree, e.g. on the BOS id.
    case tokenizerDisagrees(file: String, what: String, tokenizer: String, model: String)
    /// Reading or encoding `tensor` failed for another reason (`reason` says which).
    case tensorFailed(file: String, tensor: String, reason: String)

    package var description: String {
        switch self {
        case .noInputs: "no input checkpoint given"
        case let .outputIsInput(path): "\(path): the output would overwrite an input"
        case let .duplicateTensor(tensor, first, second): "\(second): tensor \(tensor) is also in \(first)"
        case let .badTensorTypeRule(rule, reason): "--tensor-type \(rule): \(reason)"
        case let .metadata(file, key, expected, found): "\(file): metadata \(key): expected \(expected), found \(found)"
        case let .schemaMismatch(file, tensor, expected, found): "\(file): tensor \(tensor): expected \(expected), found \(found)"
        case let .nonFinite(file, tensor, source, index, value):
            "\(file): tensor \(tensor) (source \(source)): expected finite values, found \(value) at flat index \(index)"
        case let .overflow(file, tensor, type, index, magnitude):
            "\(file): tensor \(tensor): value \(magnitude) at flat index \(index) is too large for \(type)"
        case let .tensorFailed(file, tensor, reason): "\(file): tensor \(tensor): \(reason)"
        case let .tokenizerTooLarge(file, tokens, vocab): "\(file): expected at most \(vocab) tokens (the model's vocabulary), found \(tokens)"
        case let .tokenizerDisagrees(file, what, tokenizer, model): "\(file): \(what): the tokenizer says \(tokenizer), the model says \(model)"
        }
    }

    /// One line for any error the converter can throw: "<file>: <what>". Every error type of
    /// the import layer describes itself in plain words (ErrorText.swift); `file` prefixes
    /// messages of errors that carry no path.
    package static func describe(_ error: any Error, file: String? = nil) -> String {
        switch error {
        case let e as ConfigError:
            if case .badConfigFile = e { return e.description }
            return (file.map { $0 + ": " } ?? "") + e.description
        case let e as any CustomStringConvertible: return e.description
        default: return (file.map { $0 + ": " } ?? "") + "unexpected error"
        }
    }
}

/// The conversion pipeline.
package enum Converter {
    /// Written to `general.converter`.
    package static let version = "svae-convert \(SVAEVersion.toolkit)"

    /// Converts `inputs` (checkpoint files or folders; several inputs are merged, e.g. shards
    /// given one by one) to the `.svae` file `output`.
    ///
    /// - Returns: what was written.
    /// - Throws: `ConvertError`, `SVAEFormatError`, or the reading layer's errors
    ///   (`MappingError`, `ConfigError`, `SafetensorsError`, …); on any error no file is left at `output`.
    package static func convert(inputs: [String], output: String, options: ConvertOptions = ConvertOptions(),
                               progress: ((ConversionProgress) -> Void)? = nil) throws -> ConversionReport {
        let start = monotonicSeconds()
        guard !inputs.isEmpty else { throw ConvertError.noInputs }

        // 1. inputs
        var checkpoints: [SourceCheckpoint] = []
        var owner: [String: String] = [:]
        for i in inputs {
            let c = try SourceCheckpoint.open(i)
            for t in c.tensors {
                if let first = owner[t.name] { throw ConvertError.duplicateTensor(tensor: t.name, first: first, second: c.path) }
                owner[t.name] = c.path
            }
            checkpoints.append(c)
        }
        let files = sourceFiles(checkpoints)
        if let outReal = realPath(output), files.contains(where: { realPath($0) == outReal }) {
            throw ConvertError.outputIsInput(path: output)
        }
        let sourcePath = checkpoints.map(\.path).joined(separator: ", ")
        let plan = checkpoints.count == 1
            ? try ImportPlanner.plan(checkpoints[0], options: options.importOptions)
            : try ImportPlanner.plan(tensors: checkpoints.flatMap(\.tensors), path: sourcePath, options: options.importOptions)
        var notes = plan.notes

        // 2. tokenizer: SVAETokenizer's loader (identical to HF or refused)
        var tokenizer: BPETokenizer? = nil
        var tokenizerFiles: TokenizerFiles? = nil
        if let t = options.tokenizer {
            guard let files = TokenizerFiles.locate(t) else { throw TokenizerError.notFound(path: t) }
            tokenizerFiles = files
        } else if options.findTokenizer {
            tokenizerFiles = inputs.lazy.filter(isDirectory).compactMap(TokenizerFiles.locate).first
        }
        if let files = tokenizerFiles {
            let t = try BPETokenizer.load(files)
            let vocab = plan.hyperparameters.svae?.vocabSize ?? plan.hyperparameters.opt?.vocabSize ?? 0
            guard t.vocabularySize <= vocab else {  // checked by validateModel too, but before writing anything
                throw ConvertError.tokenizerTooLarge(file: files.all.first ?? "", tokens: t.vocabularySize, vocabSize: vocab)
            }
            if let bos = t.options.bosID, bos != Int32(plan.hyperparameters.tokens.bos) {
                throw ConvertError.tokenizerDisagrees(file: files.all.first ?? "", what: "BOS id",
                                                      tokenizer: "\(bos) (\(t.tokens[Int(bos)]))", model: "\(MetadataKey.bosID) \(plan.hyperparameters.tokens.bos)")
            }
            if let b = options.addBOS, b != (t.options.bosID != nil) {
                throw ConvertError.tokenizerDisagrees(file: files.all.first ?? "", what: "adding BOS", tokenizer: t.options.bosID != nil ? "adds it" : "adds none",
                                                      model: b ? "--add-bos" : "--no-add-bos")
            }
            notes.append("tokenizer: \(t.vocabularySize) tokens, \(t.mergePairs.count) merges, \(t.addedTokens.count) added tokens, "
                + (t.options.bosID.map { "BOS \($0) prepended" } ?? "no BOS") + (t.options.addPrefixSpace ? ", prefix space" : "")
                + " from " + files.all.joined(separator: ", "))
            tokenizer = t
        }

        // 3. metadata
        var metadata = Metadata()
        for (k, v) in plan.metadata { metadata[k] = try formatValue(k, v, file: sourcePath) }
        metadata[.converter] = .string(version)
        let digest = "sha256:" + SHA256.hex(try SHA256.digest(files: files))
        metadata[.sourceDigest] = .string(digest)
        if let n = options.name { metadata[.name] = .string(n) }
        if let t = tokenizer {
            for (k, v) in t.storedMetadata { metadata[k] = v }
        } else if let b = options.addBOS {
            metadata[.addBOS] = .bool(b)
        }

        // 4. tensors in schema order, with their types
        let (tensors, types, typeNotes) = try schedule(plan, metadata: metadata, options: options, file: sourcePath)
        notes += typeNotes
        let quantization = describeQuantization(options, fallbacks: typeNotes.count)
        metadata[.quantization] = .string(quantization)
        let plans = zip(tensors, types).map { TensorPlan(name: $0.name, type: $1, shape: $0.shape) }

        // 5. stream
        let writer = try SVAEWriter(path: output, metadata: metadata, tokenizer: tokenizer?.section, tensors: plans, compress: options.compress)
        var dataBytes = 0, elements = 0
        do {
            let sizes = plans.map { $0.type.byteCount(elements: $0.shape.reduce(1, *), innermost: $0.shape.last!) ?? 0 }
            let total = sizes.reduce(0, +)
            var written = 0
            let chunk = Swift.max(1, options.chunkElements)
            // i8r is written in whole 16-row panels: its chunks are multiples of 16 rows.
            func chunkRows(_ t: MappedTensor, _ type: SVAEFormat.ElementType) -> Int {
                let r = Swift.max(1, chunk / t.rowSize)
                return type.isRowPanel ? (r + 15) / 16 * 16 : r
            }
            let capacity = zip(tensors, types).map { Swift.min($0.elementCount, chunkRows($0, $1) * $0.rowSize) }.max() ?? 0
            let encodedCapacity = zip(tensors, types).map { t, type in
                Swift.max(4 * capacity, type.byteCount(elements: Swift.min(t.elementCount, chunkRows(t, type) * t.rowSize), innermost: t.rowSize) ?? 0)
            }.max() ?? 0
            let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: Swift.max(capacity, 1))
            defer { values.deallocate() }
            let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(encodedCapacity, 1), alignment: 64)
            defer { encoded.deallocate() }
            for (k, (t, type)) in zip(tensors, types).enumerated() {
                let rows = t.shape.first ?? 1
                let rowsPerChunk = chunkRows(t, type)
                var row = 0
                while row < rows {
                    let r = row..<Swift.min(rows, row + rowsPerChunk)
                    let n = r.count * t.rowSize
                    let v = UnsafeMutableBufferPointer(rebasing: values[0..<n])
                    do {
                        try t.readRowsF32(r, into: v)
                    } catch {
                        throw ConvertError.tensorFailed(file: sourcePath, tensor: t.name, reason: ConvertError.describe(error))
                    }
                    let bytes = try encode(UnsafeBufferPointer(v), as: type, into: encoded, tensor: t, firstElement: r.lowerBound * t.rowSize)
                    try writer.append(UnsafeRawBufferPointer(bytes))
                    t.releaseRows(r)
                    written += bytes.count
                    row = r.upperBound
                    progress?(ConversionProgress(tensor: k + 1, tensorCount: tensors.count, tensorName: t.name,
                                                 bytesWritten: written, bytesTotal: total))
                }
                elements += t.elementCount
            }
            dataBytes = written
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }

        // 6. check what was written
        let fileBytes: Int
        do {
            let file = try SVAEFile.open(output)
            try file.validateModel()
            fileBytes = file.fileSize
        } catch {
            unlink(output)
            throw error
        }
        return ConversionReport(output: output, architecture: plan.hyperparameters.architecture, tensors: plans, fileBytes: fileBytes,
                                dataBytes: dataBytes, elements: elements, sourceDigest: digest, quantization: quantization,
                                tokenizerFiles: tokenizer == nil ? [] : tokenizerFiles?.all ?? [], notes: notes, seconds: monotonicSeconds() - start)
    }

    /// The element type the rules give a tensor: f32 for tensors the schema requires in f32;
    /// otherwise the first matching `--tensor-type` rule, else the default. A block type on a
    /// tensor whose innermost dimension is not a multiple of 32 falls back to f16 (as llama.cpp
    /// does), and the second result says so.
    ///
    /// The q8 choice (`defaultType` q8_0, no rule matching) gives the sentence VAE's linear
    /// weights `i8r` (per-row int8 in the kernels' panel layout, formats/quantization.md §9)
    /// when their row length is a multiple of 4 (`ModelSchema.q8Choice`): the encoder's (whole
    /// sentences per product, where i8r runs near the int8 peak) and the decoder's with its LM
    /// head (measured at least as fast as q8_0 decoding one sentence, faster batched, and the
    /// same ids alone and batched). Embedding tables and the SLLM's matrices stay q8_0.
    package static func elementType(for e: ModelSchema.Expected, options: ConvertOptions) -> (SVAEFormat.ElementType, note: String?) {
        if e.mustBeF32 { return (.f32, nil) }
        let rule = options.tensorTypes.first { $0.matches(e.name) }?.type
        let inner = e.shape.last ?? 1
        if rule == nil && options.defaultType == .q8_0 && ModelSchema.q8Choice(e) == .i8r {
            return (.i8r, nil)
        }
        let chosen = rule ?? options.defaultType
        if chosen.isQuantized && inner % chosen.blockElements != 0 {
            return (.f16, "\(e.name) \(e.shape): \(chosen) needs a row length that is a multiple of \(chosen.blockElements): written as f16")
        }
        return (chosen, nil)
    }

    /// Orders the plan's tensors as `ModelSchema.expectedTensors` (plus an untied OPT head) and
    /// checks names and shapes against it.
    static func schedule(_ plan: ConversionPlan, metadata: Metadata, options: ConvertOptions, file: String) throws
        -> ([MappedTensor], [SVAEFormat.ElementType], [String])
    {
        let expected: [ModelSchema.Expected]
        do {
            let optional = try ModelSchema.optionalTensors(metadata: metadata)
            expected = try ModelSchema.expectedTensors(metadata: metadata) + optional.filter { plan[$0.name] != nil }
        } catch {
            throw SVAEFormatError(file: file, error)
        }
        var byName: [String: MappedTensor] = [:]
        for t in plan.tensors { byName[t.name] = t }
        let wanted = Set(expected.map(\.name))
        if let extra = plan.tensors.first(where: { !wanted.contains($0.name) }) {
            throw ConvertError.schemaMismatch(file: file, tensor: extra.name, expected: "no such tensor in this architecture", found: "\(extra.shape)")
        }
        var tensors: [MappedTensor] = [], types: [SVAEFormat.ElementType] = [], notes: [String] = []
        for e in expected {
            guard let t = byName[e.name] else {
                throw ConvertError.schemaMismatch(file: file, tensor: e.name, expected: "shape \(e.shape)", found: "no tensor")
            }
            guard t.shape == e.shape else {
                throw ConvertError.schemaMismatch(file: file, tensor: e.name, expected: "shape \(e.shape)", found: "shape \(t.shape)")
            }
            let (type, note) = elementType(for: e, options: options)
            tensors.append(t)
            types.append(type)
            if let n = note { notes.append(n) }
        }
        // A rule that changes nothing is a mistake (a typo, or a reference name instead of ours).
        let names = expected.map(\.name)
        for rule in options.tensorTypes where !names.contains(where: rule.matches) {
            throw ConvertError.badTensorTypeRule(
                rule: rule.description,
                reason: "matches no tensor of this model (the names are ours, e.g. \(names.filter { !$0.hasSuffix("bias") }.suffix(2).joined(separator: ", ")); svae inspect lists them)")
        }
        return (tensors, types, notes)
    }

    /// `general.quantization`: the default, the rules, the fixed f32 classes and fallbacks.
    static func describeQuantization(_ o: ConvertOptions, fallbacks: Int) -> String {
        var s = "\(o.defaultType) for 2-D weights; f32 for norms, biases and vectors"
        if o.defaultType == .q8_0 { s += "; i8r for the encoder's and decoder's linear weights and the LM head" }
        if !o.tensorTypes.isEmpty { s += "; overrides (first match): " + o.tensorTypes.map(\.description).joined(separator: ", ") }
        if fallbacks > 0 { s += "; \(fallbacks) tensor(s) with rows not a multiple of 32 in f16" }
        return s
    }

    /// Encodes one chunk; errors name the tensor, the flat index in our tensor and the source.
    static func encode(_ src: UnsafeBufferPointer<Float>, as type: SVAEFormat.ElementType, into out: UnsafeMutableRawBufferPointer,
                       tensor t: MappedTensor, firstElement: Int) throws -> UnsafeMutableRawBufferPointer {
        let file = t.parts.first?.source.path ?? ""
        let kt = type
        guard let n = type.byteCount(elements: src.count, innermost: t.shape.last!) else {
            throw ConvertError.tensorFailed(file: file, tensor: t.name, reason: "no encoder for \(type) with shape \(t.shape)")
        }
        let dst = UnsafeMutableRawBufferPointer(rebasing: out[0..<n])
        do {
            try Quantizer.encode(src, as: kt, into: dst, cols: t.shape.last!)
        } catch {
            switch error {
            case .nonFiniteInput(let i):
                let flat = firstElement + i
                let piece = t.pieces(of: flat..<(flat + 1)).first
                let x = src[i]
                throw ConvertError.nonFinite(file: piece?.part.source.path ?? file, tensor: t.name,
                                             source: piece.map { "\($0.part.source.name) element \($0.source.lowerBound)" } ?? "?",
                                             index: flat, value: x.isNaN ? "NaN" : (x > 0 ? "+Inf" : "-Inf"))
            case .scaleOverflow(let i, let magnitude):
                throw ConvertError.overflow(file: file, tensor: t.name, type: type.description, index: firstElement + i, magnitude: magnitude)
            default:
                throw ConvertError.tensorFailed(file: file, tensor: t.name, reason: "\(error)")
            }
        }
        return dst
    }

    /// Maps a planner value (integers `.i64`, reals `.f64`) to the registry type of its key
    /// (formats/svae.md §5.1), range-checked.
    package static func formatValue(_ key: String, _ v: MetadataValue, file: String) throws(ConvertError) -> MetadataValue {
        let t = MetadataRegistry.types[key]
        switch (v, t) {
        case let (.i64(i), .u32?):
            guard let x = UInt32(exactly: i) else { throw .metadata(file: file, key: key, expected: "u32", found: "\(i)") }
            return .u32(x)
        case let (.i64(i), .i32?):
            guard let x = Int32(exactly: i) else { throw .metadata(file: file, key: key, expected: "i32", found: "\(i)") }
            return .i32(x)
        case let (.f64(d), .f32?):
            guard d.isFinite, Float(d).isFinite else { throw .metadata(file: file, key: key, expected: "f32", found: "\(d)") }
            return .f32(Float(d))
        case let (.bool(b), .bool?): return .bool(b)
        case let (.string(s), .string?): return .string(s)
        default: throw .metadata(file: file, key: key, expected: t?.description ?? "a registered key", found: v.description)
        }
    }

    /// Files behind the checkpoints, in input order (a shard index, then its shards by name),
    /// for `general.source_digest`.
    static func sourceFiles(_ checkpoints: [SourceCheckpoint]) -> [String] {
        var out: [String] = []
        for c in checkpoints {
            out.append(c.path)
            if c.format == .safetensorsSharded { out += Set(c.tensors.map(\.path)).sorted() }
        }
        return out
    }
}

// MARK: - file system helpers

func isFile(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

func folder(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
}

func realPath(_ path: String) -> String? {
    guard let p = realpath(path, nil) else { return nil }
    defer { free(p) }
    return String(cString: p)
}

/// Seconds on the monotonic clock (also the CLI's progress clock).
package func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
