import Foundation
import Testing
@testable import SVAEFormat

/// The bad-input checklist of docs/bad-input.md, items 1–9, applied to .svae files.
/// Every case builds the bad file and expects one specific problem.
@Suite struct BadInputTests {
    // MARK: 1. short file, magic, version, byte order

    @Test func shorterThanHeader() throws {
        let good = try smallFileBytes()
        for n in [0, 1, 4, 63] {
            #expect(problem(Array(good.prefix(n))) == .truncated(what: "header, fixed header", needed: 64, available: UInt64(n)))
        }
        let path = tempDir() + "/short.svae"
        try Data(good.prefix(10)).write(to: URL(fileURLWithPath: path))
        #expect(throws: SVAEFormatError(file: path, .truncated(what: "header", needed: 64, available: 10))) { try SVAEFile.open(path) }
    }

    @Test func badMagic() throws {
        var b = try smallFileBytes()
        b[0] = 0x47  // "GVAE"
        #expect(problem(b) == .badMagic(found: [0x47, 0x56, 0x41, 0x45]))
    }

    @Test func unknownVersion() throws {
        var b = try smallFileBytes()
        put16(&b, 4, 2)
        #expect(problem(b) == .unsupportedVersion(major: 2, minor: 0, supportedMajor: 1))
        // A newer minor version of the same major is accepted.
        var c = try smallFileBytes()
        put16(&c, 6, 3)
        fixHeaderChecksum(&c)
        #expect(problem(c) == nil)
    }

    @Test func byteSwappedHeader() throws {
        var b = try smallFileBytes()
        b.replaceSubrange(8..<12, with: [0x0A, 0x0B, 0x0C, 0x0D])
        #expect(problem(b) == .byteSwapped)
    }

    @Test func headerChecksumCatchesAnyHeaderEdit() throws {
        var b = try smallFileBytes()
        b[entry(0) + 40] = 1  // a reserved byte of the section table
        let p = problem(b)
        guard case .checksumMismatch(what: "header and section table", _, _) = p else {
            Issue.record("expected a header checksum mismatch, got \(String(describing: p))")
            return
        }
    }

    @Test func fileSizeField() throws {
        var b = try smallFileBytes()
        b.append(0)  // one trailing byte: file_size no longer matches
        #expect(problem(b) == .fileSize(declared: UInt64(b.count - 1), actual: UInt64(b.count)))
        // Truncated file: the header says more than there is.
        let good = try smallFileBytes()
        let cut = Array(good.prefix(good.count - 10))
        #expect(problem(cut) == .fileSize(declared: UInt64(good.count), actual: UInt64(cut.count)))
        #expect(problem(cut)?.message == "truncated: the file is \(cut.count) bytes long, its header says \(good.count) (an incomplete copy or download?)")
    }

    // MARK: 2. section lengths (the .svae analogue of the safetensors header length)

    @Test func sectionLongerThanFile() throws {
        var b = try smallFileBytes()
        let i = sectionIndex(b, kind: 1)
        put64(&b, entry(i) + 16, UInt64(b.count) * 4)
        put64(&b, entry(i) + 24, UInt64(b.count) * 4)
        fixHeaderChecksum(&b)
        guard case .truncated(what: "metadata section", _, _) = problem(b) else {
            Issue.record("expected truncated metadata section, got \(String(describing: problem(b)))"); return
        }
    }

    @Test func sectionSizeOverflowingOffset() throws {
        var b = try smallFileBytes()
        let i = sectionIndex(b, kind: 1)
        put64(&b, entry(i) + 16, UInt64.max - 10)
        put64(&b, entry(i) + 24, UInt64.max - 10)
        fixHeaderChecksum(&b)
        guard case .truncated(what: "metadata section", _, _) = problem(b) else {
            Issue.record("expected truncated metadata section, got \(String(describing: problem(b)))"); return
        }
    }

    @Test func compressedSectionBombIsRefused() throws {
        var b = try smallFileBytes(compress: false)
        let i = sectionIndex(b, kind: 1)
        let stored = get64(b, entry(i) + 16)
        put32(&b, entry(i) + 4, 1)  // claim zstd
        put64(&b, entry(i) + 24, 1 << 40)  // and a terabyte of output
        fixHeaderChecksum(&b)
        #expect(problem(b) == .lengthOutOfRange(what: "metadata section raw_size", found: 1 << 40, limit: stored * 64))
    }

    @Test func corruptCompressedSection() throws {
        let tok = TokenizerData(tokens: (0..<300).map { "tok\($0)" }, merges: [], specials: [])
        var b = try smallFileBytes(compress: true, tokenizer: tok)
        let i = sectionIndex(b, kind: 2)
        #expect(get32(b, entry(i) + 4) == 1, "the tokenizer section is compressed")
        let off = Int(get64(b, entry(i) + 8))
        b[off + 20] ^= 0x55
        fixSectionChecksum(&b, i)
        fixHeaderChecksum(&b)
        guard case .compression(section: "tokenizer", _) = problem(b) else {
            // A flipped byte may also decode to wrong-but-valid zstd; then the tokenizer rules catch it.
            let p = problem(b)
            #expect(p != nil, "a corrupted compressed section must be rejected")
            return
        }
    }

    @Test func sectionChecksum() throws {
        var b = try smallFileBytes()
        let i = sectionIndex(b, kind: 1)
        let off = Int(get64(b, entry(i) + 8))
        b[off + 12] ^= 1
        guard case .checksumMismatch(what: "metadata section", _, _) = problem(b) else {
            Issue.record("expected a metadata checksum mismatch, got \(String(describing: problem(b)))"); return
        }
    }

    // MARK: 3. type ids, rank, dimensions, element count

    @Test func unknownElementType() {
        let b = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", type: 9, dims: [4], offset: 0, size: 16)]),
                         data: [UInt8](repeating: 0, count: 16))
        #expect(problem(b) == .unknownElementType(tensor: "w", found: 9))
    }

    @Test func unknownMetadataValueType() {
        let b = assemble(metadata: metadataBody([metaEntry("x.k", type: 13, le32(0))]), directory: directoryBody([]), data: [])
        #expect(problem(b) == .unknownValueType(key: "x.k", found: 13))
    }

    @Test func rankAboveMaximum() {
        let b = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", dims: [1, 1, 1, 1, 1], offset: 0, size: 4)]),
                         data: [0, 0, 0, 0])
        #expect(problem(b) == .badRank(tensor: "w", found: 5))
        let z = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", dims: [], offset: 0, size: 4)]), data: [0, 0, 0, 0])
        #expect(problem(z) == .badRank(tensor: "w", found: 0))
    }

    @Test func zeroOrNegativeDimension() {
        // Dimensions are unsigned; a "negative" one reads as a value ≥ 2^63.
        let b = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", dims: [3, 0], offset: 0, size: 0)]), data: [])
        #expect(problem(b) == .badDimension(tensor: "w", index: 1, found: 0))
        let n = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", dims: [UInt64(bitPattern: -4)], offset: 0, size: 16)]),
                         data: [UInt8](repeating: 0, count: 16))
        #expect(problem(n) == .badDimension(tensor: "w", index: 0, found: UInt64(bitPattern: -4)))
    }

    @Test func elementCountOverflow() {
        let b = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", dims: [1 << 30, 1 << 30, 1 << 30], offset: 0, size: 0)]),
                         data: [])
        #expect(problem(b) == .elementCountOverflow(tensor: "w"))
    }

    // MARK: 4. byte lengths and blocks

    @Test func byteLengthMismatch() {
        let b = assemble(metadata: okMeta, directory: directoryBody([dirEntry("w", dims: [4], offset: 0, size: 12)]),
                         data: [UInt8](repeating: 0, count: 12))
        #expect(problem(b) == .byteLengthMismatch(tensor: "w", expected: 16, found: 12))
    }

    @Test func rowNotMultipleOfBlock() {
        let b = assemble(metadata: okMeta, directory: directoryBody([dirEntry("q", type: 3, dims: [2, 48], offset: 0, size: 102)]),
                         data: [UInt8](repeating: 0, count: 102))
        #expect(problem(b) == .notBlockMultiple(tensor: "q", innermost: 48, block: 32))
    }

    // MARK: 5. offsets: overlap, gaps, order, past EOF, trailing bytes

    @Test func overlappingTensors() {
        let d = directoryBody([dirEntry("a", dims: [16], offset: 0, size: 64), dirEntry("b", dims: [4], offset: 32, size: 16)])
        let b = assemble(metadata: okMeta, directory: d, data: [UInt8](repeating: 0, count: 96))
        #expect(problem(b) == .misplacedTensor(tensor: "b", expectedOffset: 64, foundOffset: 32))
    }

    @Test func gapBetweenTensors() {
        let d = directoryBody([dirEntry("a", dims: [4], offset: 0, size: 16), dirEntry("b", dims: [4], offset: 128, size: 16)])
        let b = assemble(metadata: okMeta, directory: d, data: [UInt8](repeating: 0, count: 144))
        #expect(problem(b) == .misplacedTensor(tensor: "b", expectedOffset: 64, foundOffset: 128))
    }

    @Test func unsortedTensors() {
        let d = directoryBody([dirEntry("a", dims: [4], offset: 64, size: 16), dirEntry("b", dims: [4], offset: 0, size: 16)])
        let b = assemble(metadata: okMeta, directory: d, data: [UInt8](repeating: 0, count: 80))
        #expect(problem(b) == .misplacedTensor(tensor: "a", expectedOffset: 0, foundOffset: 64))
    }

    @Test func tensorPastEndOfFile() {
        let d = directoryBody([dirEntry("a", dims: [64], offset: 0, size: 256)])
        let b = assemble(metadata: okMeta, directory: d, data: [UInt8](repeating: 0, count: 100))
        #expect(problem(b) == .truncated(what: "tensor data of \"a\"", needed: 256, available: 100))
    }

    @Test func trailingBytesAfterLastTensor() {
        let d = directoryBody([dirEntry("a", dims: [4], offset: 0, size: 16)])
        let b = assemble(metadata: okMeta, directory: d, data: [UInt8](repeating: 0, count: 20))
        #expect(problem(b) == .trailingBytes(what: "tensor data section", count: 4))
    }

    @Test func trailingBytesInSections() {
        let m = okMeta + [0, 0, 0]
        #expect(problem(assemble(metadata: m, directory: directoryBody([]), data: [])) == .trailingBytes(what: "metadata section", count: 3))
        let d = directoryBody([]) + [1]
        #expect(problem(assemble(metadata: okMeta, directory: d, data: [])) == .trailingBytes(what: "tensor directory", count: 1))
    }

    @Test func sectionsOutOfPlace() throws {
        var b = try smallFileBytes()
        let i = sectionIndex(b, kind: 3)
        let off = get64(b, entry(i) + 8)
        put64(&b, entry(i) + 8, off + 64)
        fixHeaderChecksum(&b)
        #expect(problem(b) == .misplacedSection(section: "tensor directory", expectedOffset: off, foundOffset: off + 64))
    }

    @Test func missingAndDuplicateSections() throws {
        var b = try smallFileBytes()
        put32(&b, entry(sectionIndex(b, kind: 1)), 3)  // metadata entry now claims to be a directory
        fixHeaderChecksum(&b)
        #expect(problem(b) == .duplicateSection(kind: 3))
        var c = try smallFileBytes()
        put32(&c, entry(sectionIndex(c, kind: 1)), 0x8000_0001)  // metadata becomes an unknown optional section
        fixHeaderChecksum(&c)
        #expect(problem(c) == .missingSection(name: "metadata"))
        var d = try smallFileBytes()
        put32(&d, entry(sectionIndex(d, kind: 1)), 77)
        fixHeaderChecksum(&d)
        #expect(problem(d) == .unknownSection(kind: 77))
    }

    @Test func nonZeroPaddingBetweenSections() throws {
        var b = try smallFileBytes()
        b[64 + 48 * 3] = 1  // just after the table, before the first section
        fixHeaderChecksum(&b)
        #expect(problem(b) == .nonZeroPadding(where: "before the metadata section", offset: UInt64(64 + 48 * 3)))
    }

    // MARK: 6. alignment

    @Test func alignmentField() throws {
        for a: UInt32 in [0, 3, 32, 1 << 31] {
            var b = try smallFileBytes()
            put32(&b, 28, a)
            fixHeaderChecksum(&b)
            #expect(problem(b) == .badField(field: "alignment", expected: "64", found: "\(a)"))
        }
    }

    @Test func misalignedTensorOffset() {
        let d = directoryBody([dirEntry("a", dims: [3], offset: 0, size: 12), dirEntry("b", dims: [1], offset: 12, size: 4)])
        let b = assemble(metadata: okMeta, directory: d, data: [UInt8](repeating: 0, count: 16))
        #expect(problem(b) == .misplacedTensor(tensor: "b", expectedOffset: 64, foundOffset: 12))
    }

    @Test func offsetNearWrapAround() {
        let d = directoryBody([dirEntry("a", dims: [1 << 40, 1 << 6], offset: 0, size: 1 << 48)])
        let b = assemble(metadata: okMeta, directory: d, data: [])
        #expect(problem(b) == .truncated(what: "tensor data of \"a\"", needed: 1 << 48, available: 0))
        // A size of nearly 2^64: rejected by the length check before any arithmetic on it.
        let e = directoryBody([dirEntry("a", dims: [4], offset: UInt64.max - 15, size: 16)])
        #expect(problem(assemble(metadata: okMeta, directory: e, data: [UInt8](repeating: 0, count: 16)))
                == .misplacedTensor(tensor: "a", expectedOffset: 0, foundOffset: UInt64.max - 15))
    }

    // MARK: 7. lengths and counts

    @Test func hugeStringLength() {
        let m = metadataBody([metaEntry("x.s", type: 11, le64(1 << 63))])
        #expect(problem(assemble(metadata: m, directory: directoryBody([]), data: []))
                == .lengthOutOfRange(what: "metadata section, string length of x.s", found: 1 << 63, limit: 0))
        let m2 = metadataBody([metaEntry("x.s", type: 11, le64(10) + Array("abc".utf8))])
        #expect(problem(assemble(metadata: m2, directory: directoryBody([]), data: []))
                == .lengthOutOfRange(what: "metadata section, string length of x.s", found: 10, limit: 3))
    }

    @Test func hugeArrayLength() {
        let m = metadataBody([metaEntry("x.a", type: 12, le32(7) + le64(1 << 63))])
        #expect(problem(assemble(metadata: m, directory: directoryBody([]), data: []))
                == .lengthOutOfRange(what: "metadata section, array length of x.a", found: 1 << 63, limit: 0))
        let nested = metadataBody([metaEntry("x.a", type: 12, le32(12) + le64(0))])
        #expect(problem(assemble(metadata: nested, directory: directoryBody([]), data: []))
                == .wrongMetadataType(key: "x.a", expected: "array element type 0–11", found: "12"))
    }

    @Test func hugeCounts() {
        let m = metadataBody(count: 1 << 63, [])
        #expect(problem(assemble(metadata: m, directory: directoryBody([]), data: []))
                == .lengthOutOfRange(what: "metadata section, entry count", found: 1 << 63, limit: 0))
        let d = directoryBody(count: 1 << 63, [])
        #expect(problem(assemble(metadata: okMeta, directory: d, data: []))
                == .lengthOutOfRange(what: "tensor directory, tensor count", found: 1 << 63, limit: 0))
        var t = ByteSink()
        t.u32(1); t.u32(0); t.u64(1 << 63)
        #expect(problem(assemble(metadata: okMeta, tokenizer: t.bytes, directory: directoryBody([]), data: []))
                == .lengthOutOfRange(what: "tokenizer section, token count", found: 1 << 63, limit: 0))
    }

    @Test func nameLongerThanRemainingBytes() {
        let d = directoryBody([dirEntry("a", dims: [1], offset: 0, size: 4, nameLength: 60000)])
        guard case .truncated(what: "tensor directory, name of tensor 0", needed: 60000, _) = problem(assemble(metadata: okMeta, directory: d, data: [0, 0, 0, 0])) else {
            Issue.record("expected a truncated name"); return
        }
    }

    // MARK: 8. names and metadata types

    @Test func duplicateEmptyAndBadNames() {
        let dup = directoryBody([dirEntry("a", dims: [16], offset: 0, size: 64), dirEntry("a", dims: [1], offset: 64, size: 4)])
        #expect(problem(assemble(metadata: okMeta, directory: dup, data: [UInt8](repeating: 0, count: 68))) == .duplicateTensor(name: "a"))
        let empty = directoryBody([dirEntry("", dims: [1], offset: 0, size: 4)])
        #expect(problem(assemble(metadata: okMeta, directory: empty, data: [0, 0, 0, 0])) == .invalidName(what: "tensor 0", found: "<0 bytes>"))
        let long = String(repeating: "n", count: 256)
        #expect(problem(assemble(metadata: okMeta, directory: directoryBody([dirEntry(long, dims: [1], offset: 0, size: 4)]), data: [0, 0, 0, 0]))
                == .invalidName(what: "tensor 0", found: long))
        let slash = directoryBody([dirEntry("../a", dims: [1], offset: 0, size: 4)])
        #expect(problem(assemble(metadata: okMeta, directory: slash, data: [0, 0, 0, 0])) == .invalidName(what: "tensor 0", found: "../a"))
    }

    @Test func duplicateAndUnsortedKeys() {
        let dup = metadataBody([metaEntry("x.k", type: 0, [1]), metaEntry("x.k", type: 0, [2])])
        #expect(problem(assemble(metadata: dup, directory: directoryBody([]), data: [])) == .duplicateKey(key: "x.k"))
        let unsorted = metadataBody([metaEntry("x.z", type: 0, [1]), metaEntry("x.a", type: 0, [2])])
        #expect(problem(assemble(metadata: unsorted, directory: directoryBody([]), data: [])) == .unsortedKeys(previous: "x.z", found: "x.a"))
        let empty = metadataBody([metaEntry("", type: 0, [1])])
        #expect(problem(assemble(metadata: empty, directory: directoryBody([]), data: [])) == .invalidName(what: "metadata key", found: ""))
    }

    @Test func metadataOfTheWrongTypeForItsKey() {
        let m = metadataBody([metaEntry("svae.hidden_size", type: 11, le64(3) + Array("768".utf8))])
        #expect(problem(assemble(metadata: m, directory: directoryBody([]), data: []))
                == .wrongMetadataType(key: "svae.hidden_size", expected: "u32", found: "string"))
        let arch = metadataBody([metaEntry("general.architecture", type: 11, le64(4) + Array("gpt2".utf8))])
        #expect(problem(assemble(metadata: arch, directory: directoryBody([]), data: []))
                == .wrongMetadataType(key: "general.architecture", expected: "one of opt, sllm, svae", found: "\"gpt2\""))
        let badBool = metadataBody([metaEntry("x.b", type: 10, [2])])
        #expect(problem(assemble(metadata: badBool, directory: directoryBody([]), data: []))
                == .wrongMetadataType(key: "x.b", expected: "bool 0 or 1", found: "2"))
        let badUTF8 = metadataBody([metaEntry("x.s", type: 11, le64(2) + [0xC3, 0x28])])
        #expect(problem(assemble(metadata: badUTF8, directory: directoryBody([]), data: []))
                == .invalidUTF8(what: "metadata section, string of x.s"))
    }

    @Test func badTokenizerSections() {
        func tok(_ tokens: [String], merges: [(UInt32, UInt32)] = [], specials: [(UInt32, String)] = []) -> [UInt8] {
            var s = ByteSink()
            s.u32(1); s.u32(0); s.u64(UInt64(tokens.count))
            for t in tokens { s.u32(UInt32(t.utf8.count)); s.raw(Array(t.utf8)) }
            s.u64(UInt64(merges.count))
            for m in merges { s.u32(m.0); s.u32(m.1) }
            s.u64(UInt64(specials.count))
            for sp in specials { s.u32(sp.0); s.u32(UInt32(sp.1.utf8.count)); s.raw(Array(sp.1.utf8)) }
            return s.bytes
        }
        func p(_ t: [UInt8]) -> FormatProblem? { problem(assemble(metadata: okMeta, tokenizer: t, directory: directoryBody([]), data: [])) }
        #expect(p(tok(["a", "b", "ab"], merges: [(0, 1)])) == nil)
        #expect(p(tok(["a", "a"])) == .badTokenizer(what: "token 1", expected: "a unique string", found: "a duplicate of token 0 \"a\""))
        #expect(p(tok(["a", ""])) == .badTokenizer(what: "token 1", expected: "1–1024 bytes", found: "0 bytes"))
        #expect(p(tok(["a", "b"], merges: [(0, 5)])) == .badTokenizer(what: "merge 0", expected: "ids < 2", found: "(0, 5)"))
        #expect(p(tok(["a", "b"], merges: [(0, 1)])) == .badTokenizer(what: "merge 0", expected: "its two tokens to join into a token", found: "\"ab\" not in the vocabulary"))
        #expect(p(tok(["a"], specials: [(4, "<s>")])) == .badTokenizer(what: "special token \"<s>\"", expected: "id < 1", found: "4"))
    }

    // MARK: 9. model-level consistency

    static func svaeMetadata(hidden: UInt32 = 32, heads: UInt32 = 4, vocab: UInt32 = 16, learnableAdd: Bool = false) -> Metadata {
        var m = Metadata()
        m["general.architecture"] = .string("svae")
        m["svae.hidden_size"] = .u32(hidden)
        m["svae.embed_dim"] = .u32(hidden)
        m["svae.num_heads"] = .u32(heads)
        m["svae.ffn_size"] = .u32(2 * hidden)
        m["svae.encoder_layers"] = .u32(1)
        m["svae.decoder_layers"] = .u32(1)
        m["svae.vocab_size"] = .u32(vocab)
        m["svae.max_seq_len"] = .u32(8)
        m["svae.learnable_add"] = .bool(learnableAdd)
        m["tokens.bos_id"] = .i32(2)
        m["tokens.eos_id"] = .i32(2)
        m["tokens.pad_id"] = .i32(1)
        return m
    }

    /// Writes a file whose tensors are exactly what the schema expects, then applies `edit`.
    func modelProblem(_ m: Metadata, edit: (inout [TensorPlan]) -> Void = { _ in }) throws -> FormatProblem? {
        var plans = try ModelSchema.expectedTensors(metadata: m).map { TensorPlan(name: $0.name, type: .f32, shape: $0.shape) }
        edit(&plans)
        let path = tempDir() + "/model.svae"
        try writeFile(path, metadata: m, tensors: plans)
        let f = try SVAEFile.open(path)
        do {
            try f.validateModel()
            return nil
        } catch {
            return error.problem
        }
    }

    @Test func consistentModelPasses() throws {
        #expect(try modelProblem(Self.svaeMetadata()) == nil)
        #expect(try modelProblem(Self.svaeMetadata(learnableAdd: true)) == nil)
    }

    @Test func hyperparametersOutOfRange() throws {
        var m = Self.svaeMetadata()
        m["svae.num_heads"] = .u32(0)
        #expect(throws: FormatProblem.hyperparameter(key: "svae.num_heads", expected: "1–4096", found: "0")) {
            _ = try ModelSchema.expectedTensors(metadata: m)
        }
        m["svae.num_heads"] = .u32(5)
        #expect(throws: FormatProblem.hyperparameter(key: "svae.num_heads", expected: "a divisor of svae.hidden_size = 32", found: "5")) {
            _ = try ModelSchema.expectedTensors(metadata: m)
        }
        var t = Self.svaeMetadata()
        t["tokens.bos_id"] = .i32(16)
        #expect(throws: FormatProblem.hyperparameter(key: "tokens.bos_id", expected: "an id in 0..<16", found: "16")) {
            _ = try ModelSchema.expectedTensors(metadata: t)
        }
        var k = Self.svaeMetadata()
        k["svae.vocab_size"] = nil
        #expect(throws: FormatProblem.missingMetadata(key: "svae.vocab_size")) { _ = try ModelSchema.expectedTensors(metadata: k) }
    }

    @Test func tensorsMissingUnexpectedOrMisshapen() throws {
        let m = Self.svaeMetadata()
        #expect(try modelProblem(m) { $0.removeAll { $0.name == "decoder.lm_head.weight" } } == .missingTensor(name: "decoder.lm_head.weight"))
        #expect(try modelProblem(m) { $0.append(TensorPlan(name: "encoder.extra", type: .f32, shape: [1])) } == .unexpectedTensor(name: "encoder.extra"))
        // vocab ≠ embedding rows
        #expect(try modelProblem(m) { p in
            let i = p.firstIndex { $0.name == "encoder.embed" }!
            p[i].shape = [17, 32]
        } == .tensorShape(tensor: "encoder.embed", expected: [16, 32], found: [17, 32]))
        // a norm stored quantized
        #expect(try modelProblem(m) { p in
            let i = p.firstIndex { $0.name == "encoder.norm.weight" }!
            p[i].type = .f16
        } == .tensorType(tensor: "encoder.norm.weight", expected: "f32", found: "f16"))
    }
}

@Suite struct SchemaArchitectureTests {
    static func opt(normBefore: Bool, embed: UInt32 = 16) -> Metadata {
        var m = Metadata()
        m["general.architecture"] = .string("opt")
        for (k, v) in [("hidden_size", 16), ("num_heads", 2), ("ffn_size", 32), ("layers", 2), ("vocab_size", 20), ("max_positions", 8)] {
            m["opt." + k] = .u32(UInt32(v))
        }
        m["opt.embed_dim"] = .u32(embed)
        m["opt.norm_before"] = .bool(normBefore)
        m["tokens.bos_id"] = .i32(2); m["tokens.eos_id"] = .i32(2); m["tokens.pad_id"] = .i32(1)
        return m
    }

    @Test func optTensorSets() throws {
        let pre = try ModelSchema.expectedTensors(metadata: Self.opt(normBefore: true)).map(\.name)
        let post = try ModelSchema.expectedTensors(metadata: Self.opt(normBefore: false)).map(\.name)
        #expect(pre.contains("opt.final_norm.weight") && !post.contains("opt.final_norm.weight"))
        #expect(!pre.contains("opt.project_in"))
        let projected = try ModelSchema.expectedTensors(metadata: Self.opt(normBefore: true, embed: 8))
        #expect(projected.first { $0.name == "opt.project_in" }?.shape == [16, 8])
        #expect(projected.first { $0.name == "opt.project_out" }?.shape == [8, 16])
        #expect(projected.first { $0.name == "opt.embed" }?.shape == [20, 8])
        #expect(pre.filter { $0.hasPrefix("opt.layers.1.") }.count == 12)
    }

    @Test func sllmNeedsMatchingWidths() throws {
        var m = BadInputTests.svaeMetadata()
        m["general.architecture"] = .string("sllm")
        for (k, v) in [("hidden_size", 32), ("num_heads", 4), ("ffn_size", 64), ("layers", 2), ("max_positions", 10)] {
            m["llm." + k] = .u32(UInt32(v))
        }
        m["llm.norm_before"] = .bool(true)
        m["llm.prefill_attention"] = .string("bidirectional")
        let names = try ModelSchema.expectedTensors(metadata: m)
        #expect(names.first { $0.name == "llm.pos_embed" }?.shape == [12, 32])
        #expect(names.contains { $0.name == "llm.stop_head.weight" && $0.shape == [2, 32] })
        var badMode = m
        badMode["llm.prefill_attention"] = .string("sideways")
        #expect(throws: FormatProblem.hyperparameter(key: "llm.prefill_attention", expected: "bidirectional or causal", found: "\"sideways\"")) {
            _ = try ModelSchema.expectedTensors(metadata: badMode)
        }
        m["llm.hidden_size"] = .u32(64)
        #expect(throws: FormatProblem.hyperparameter(key: "llm.hidden_size", expected: "svae.hidden_size = 32", found: "64")) {
            _ = try ModelSchema.expectedTensors(metadata: m)
        }
    }
}
