// Safetensors: single-file and sharded readers.
//
// Layout (huggingface/safetensors): u64 LE header length n, n bytes of UTF-8 JSON
// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`,
// then the data section; offsets are relative to the data section (byte 8 + n).
// Checks follow the upstream reader: header ≤ 100 MB; entries, once sorted by begin, are
// contiguous from 0 to the end of the file (no overlap, no gap, no trailing bytes); byte
// length = numel × dtype size with checked multiplication. JSON key order is free (upstream
// sorts too), so "unsorted" headers are accepted after sorting.

/// A malformed safetensors file or shard index. Every case names the file.
import SVAEJSON

package enum SafetensorsError: Error, Equatable {
    /// Fewer than 8 bytes: no header length.
    case fileTooSmall(path: String, size: Int)
    /// Header length above the 100 MB cap.
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    /// `8 + n` overflows or ends past the end of the file.
    case headerPastEOF(path: String, headerLength: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(path: String)
    /// The header is not JSON (`offset` into the header).
    case headerNotJSON(path: String, offset: Int, reason: String)
    /// The header is JSON but not an object.
    case headerNotObject(path: String, found: String)
    /// A key appears twice in one JSON object.
    case duplicateKey(path: String, key: String)
    /// JSON nested deeper than the reader allows.
    case headerTooDeep(path: String, limit: Int)
    /// A tensor entry lacks a field or has a field of the wrong type.
    case badEntry(path: String, tensor: String, field: String, expected: String, found: String)
    /// `dtype` is not one of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
    case unknownDType(path: String, tensor: String, dtype: String)
    /// A negative or non-integer dimension, or a shape whose element count overflows.
    case badShape(path: String, tensor: String, shape: String)
    /// `end − begin` differs from numel × element size.
    case byteLengthMismatch(path: String, tensor: String, expected: Int, found: Int)
    /// `begin > end`.
    case beginAfterEnd(path: String, tensor: String, begin: Int, end: Int)
    /// The tensor starts before the previous one (in offset order) ended.
    case offsetsOverlap(path: String, tensor: String, previous: String, expectedBegin: Int, foundBegin: Int)
    /// The tensor starts after the previous one ended (unused bytes between).
    case offsetsGap(path: String, tensor: String, expectedBegin: Int, foundBegin: Int)
    /// The data ends past the end of the file.
    case dataPastEOF(path: String, tensor: String, end: Int, dataSize: Int)
    /// Bytes after the last tensor.
    case trailingBytes(path: String, expectedEnd: Int, fileSize: Int)
    /// `__metadata__` is not a map of strings to strings.
    case badMetadata(path: String, key: String, found: String)

    // sharded checkpoints
    /// The index is not `{"metadata": …, "weight_map": {name: file}}`.
    case badIndex(path: String, reason: String)
    /// A shard named in `weight_map` is not a plain file name in the index's folder.
    case shardOutsideFolder(path: String, shard: String)
    /// A shard named in `weight_map` does not exist.
    case missingShard(path: String, shard: String)
    /// The same tensor is stored in two shards.
    case tensorInTwoShards(path: String, tensor: String, first: String, second: String)
    /// A shard holds a tensor the index does not list (or lists in another shard).
    case tensorNotListed(path: String, tensor: String, shard: String)
    /// The index lists a tensor its shard does not hold.
    case listedTensorMissing(path: String, tensor: String, shard: String)
    /// More tensors than `ReaderLimits.tensors` (in a header or a shard index).
    case tooManyTensors(path: String, count: Int, limit: Int)
    /// A shard index larger than `ReaderLimits.headerBytes`.
    case indexTooLarge(path: String, size: Int, limit: Int)
}

/// One opened safetensors file: its tensors in data order and its `__metadata__`.
package struct SafetensorsFile: Sendable {
    /// The file's path.
    package let path: String
    /// Tensors sorted by data offset.
    package let tensors: [SourceTensor]
    /// The `__metadata__` string map (empty when absent), in file order.
    package let metadata: [(String, String)]

    /// Header length cap (upstream's limit; `ReaderLimits.headerBytes` by default).
    package static let maxHeaderLength = ReaderLimits.default.headerBytes
    /// Most dimensions a tensor may have.
    package static let maxDims = 16

    /// Opens and validates `path` (mapped; no tensor data is read).
    package init(path: String, limits: ReaderLimits = .default) throws {
        let file = try MappedFile(path: path)
        guard file.count >= 8, let n64 = file.le(UInt64.self, at: 0) else {
            throw SafetensorsError.fileTooSmall(path: path, size: file.count)
        }
        guard n64 <= UInt64(limits.headerBytes) else {
            throw SafetensorsError.headerTooLarge(path: path, length: n64, limit: limits.headerBytes)
        }
        let n = Int(n64)
        guard let headerBytes = file.copy(offset: 8, length: n) else {
            throw SafetensorsError.headerPastEOF(path: path, headerLength: n64, fileSize: file.count)
        }
        let header: JSONValue
        do {
            header = try StrictJSON.parse(headerBytes)
        } catch {
            switch error {
            case .notUTF8: throw SafetensorsError.headerNotUTF8(path: path)
            case .syntax(let o, let r): throw SafetensorsError.headerNotJSON(path: path, offset: o, reason: r)
            case .duplicateKey(let k): throw SafetensorsError.duplicateKey(path: path, key: k)
            case .tooDeep(let l): throw SafetensorsError.headerTooDeep(path: path, limit: l)
            }
        }
        guard case .object(let members) = header else {
            throw SafetensorsError.headerNotObject(path: path, found: String(header.text.prefix(40)))
        }
        let dataStart = 8 + n
        let dataSize = file.count - dataStart
        let nTensors = members.count - (header["__metadata__"] == nil ? 0 : 1)
        guard nTensors <= limits.tensors else {
            throw SafetensorsError.tooManyTensors(path: path, count: nTensors, limit: limits.tensors)
        }

        struct Entry { let name: String; let dtype: SourceDType; let shape: [Int]; let count: Int; let begin: Int; let end: Int }
        var entries: [Entry] = []
        var metadata: [(String, String)] = []
        for (name, v) in members {
            if name == "__metadata__" {
                guard case .object(let kv) = v else {
                    throw SafetensorsError.badMetadata(path: path, key: "__metadata__", found: String(v.text.prefix(40)))
                }
                for (k, sv) in kv {
                    guard case .string(let s) = sv else {
                        throw SafetensorsError.badMetadata(path: path, key: k, found: String(sv.text.prefix(40)))
                    }
                    metadata.append((k, s))
                }
                continue
            }
            func bad(_ field: String, _ expected: String, _ found: JSONValue?) -> SafetensorsError {
                .badEntry(path: path, tensor: name, field: field, expected: expected,
                          found: found.map { String($0.text.prefix(40)) } ?? "missing")
            }
            guard case .object = v else { throw bad("", "object", v) }
            guard case .string(let ds)? = v["dtype"] else { throw bad("dtype", "string", v["dtype"]) }
            guard let dtype = SourceDType(rawValue: ds) else {
                throw SafetensorsError.unknownDType(path: path, tensor: name, dtype: ds)
            }
            guard case .array(let dims)? = v["shape"] else { throw bad("shape", "array", v["shape"]) }
            let shapeText = JSONValue.array(dims).text
            guard dims.count <= Self.maxDims else {
                throw SafetensorsError.badShape(path: path, tensor: name, shape: shapeText)
            }
            var shape: [Int] = []
            var count = 1
            for d in dims {
                guard let x = d.intValue, x >= 0 else {
                    throw SafetensorsError.badShape(path: path, tensor: name, shape: shapeText)
                }
                let (c, o) = count.multipliedReportingOverflow(by: x)
                guard !o else { throw SafetensorsError.badShape(path: path, tensor: name, shape: shapeText) }
                shape.append(x)
                count = c
            }
            guard case .array(let offs)? = v["data_offsets"], offs.count == 2,
                  let begin = offs[0].intValue, let end = offs[1].intValue, begin >= 0, end >= 0
            else { throw bad("data_offsets", "[begin, end] non-negative integers", v["data_offsets"]) }
            guard begin <= end else {
                throw SafetensorsError.beginAfterEnd(path: path, tensor: name, begin: begin, end: end)
            }
            let (bytes, o) = count.multipliedReportingOverflow(by: dtype.size)
            guard !o, bytes == end - begin else {
                throw SafetensorsError.byteLengthMismatch(
                    path: path, tensor: name, expected: o ? Int.max : bytes, found: end - begin)
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end))
        }
        // Sort by (begin, end) then require contiguity, as upstream does.
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        var previous = ""
        var tensors: [SourceTensor] = []
        for e in entries {
            if e.begin < expected {
                throw SafetensorsError.offsetsOverlap(
                    path: path, tensor: e.name, previous: previous, expectedBegin: expected, foundBegin: e.begin)
            }
            if e.begin > expected {
                throw SafetensorsError.offsetsGap(path: path, tensor: e.name, expectedBegin: expected, foundBegin: e.begin)
            }
            guard e.end <= dataSize else {
                throw SafetensorsError.dataPastEOF(path: path, tensor: e.name, end: e.end, dataSize: dataSize)
            }
            expected = e.end
            previous = e.name
            tensors.append(SourceTensor(
                name: e.name, dtype: e.dtype, shape: e.shape, elementCount: e.count, file: file,
                byteOffset: dataStart + e.begin,
                strides: SourceTensor.contiguousStrides(e.shape) ?? [], bigEndian: false))
        }
        guard expected == dataSize else {
            throw SafetensorsError.trailingBytes(path: path, expectedEnd: dataStart + expected, fileSize: file.count)
        }
        self.path = path
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// A sharded safetensors checkpoint described by `model.safetensors.index.json`.
package struct SafetensorsIndex: Sendable {
    /// Path of the index file.
    package let path: String
    /// All tensors of all shards, in shard order then data order.
    package let tensors: [SourceTensor]
    /// The shard files, in first-mention order of `weight_map`.
    package let shards: [String]

    /// Opens the index and every shard it names, checking that the map and the shards agree
    /// exactly (every tensor listed, none in two shards, every shard in the same folder).
    /// `metadata.total_size` is not checked (writers disagree on what it counts).
    package init(path: String, limits: ReaderLimits = .default) throws {
        let file = try MappedFile(path: path)
        guard file.count <= limits.headerBytes else {
            throw SafetensorsError.indexTooLarge(path: path, size: file.count, limit: limits.headerBytes)
        }
        let bytes = file.copy(offset: 0, length: file.count) ?? []
        let json: JSONValue
        do {
            json = try StrictJSON.parse(bytes)
        } catch {
            switch error {
            case .duplicateKey(let k): throw SafetensorsError.duplicateKey(path: path, key: k)
            default: throw SafetensorsError.badIndex(path: path, reason: "not JSON: \(error)")
            }
        }
        guard case .object = json, case .object(let map)? = json["weight_map"] else {
            throw SafetensorsError.badIndex(path: path, reason: "no \"weight_map\" object")
        }
        guard map.count <= limits.tensors else {
            throw SafetensorsError.tooManyTensors(path: path, count: map.count, limit: limits.tensors)
        }
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        var shardOf: [String: String] = [:]
        var shards: [String] = []
        var shardSet = Set<String>()
        for (tensor, v) in map {
            guard case .string(let shard) = v else {
                throw SafetensorsError.badIndex(path: path, reason: "weight_map[\(tensor)] is \(v.text), expected a file name")
            }
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw SafetensorsError.shardOutsideFolder(path: path, shard: shard)
            }
            shardOf[tensor] = shard
            if shardSet.insert(shard).inserted { shards.append(shard) }
        }
        var opened: [(String, SafetensorsFile)] = []
        var seenIn: [String: String] = [:]
        for shard in shards {
            let st: SafetensorsFile
            do {
                st = try SafetensorsFile(path: folder + "/" + shard, limits: limits)
            } catch is FileIOError {
                throw SafetensorsError.missingShard(path: path, shard: shard)
            }
            for t in st.tensors {
                if let first = seenIn[t.name] {
                    throw SafetensorsError.tensorInTwoShards(path: path, tensor: t.name, first: first, second: shard)
                }
                seenIn[t.name] = shard
            }
            opened.append((shard, st))
        }
        var all: [SourceTensor] = []
        for (shard, st) in opened {
            for t in st.tensors {
                guard shardOf[t.name] == shard else {
                    throw SafetensorsError.tensorNotListed(path: path, tensor: t.name, shard: shard)
                }
                all.append(t)
            }
        }
        for (tensor, _) in map where seenIn[tensor] == nil {
            throw SafetensorsError.listedTensorMissing(path: path, tensor: tensor, shard: shardOf[tensor] ?? "")
        }
        self.path = path
        self.tensors = all
        self.shards = shards
    }
}
