// TorchCheckpoint: PyTorch zip checkpoints (`torch.save` ≥ 1.6: `.pth`, `.pt`, `.bin`).
//
// Archive layout: `<prefix>/data.pkl` (the pickle), `<prefix>/data/<key>` (one STORED
// record per storage), `<prefix>/byteorder` ("little" or "big"; absent = little, as in
// torch < 1.10). The pickle is read by the inert `Unpickler`; tensors are the inert calls
//   torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
//   torch._utils._rebuild_parameter(tensor, requires_grad, hooks)
//   torch._tensor._rebuild_from_type_v2(func, type, args, state)
// where `storage` is the persistent id ('storage', torch.<T>Storage, key, location, numel).
// Every view is validated against its storage (no negative size/stride, offset + extent
// ≤ numel, record size = numel × element size) before any value is read; non-contiguous
// views (e.g. a transposed weight saved without `.contiguous()`) are materialised by the
// strided reader in SourceTensor. Storages are read lazily, one tensor at a time.
//
// The state dict is the top-level dict when it holds tensors, otherwise its `state_dict`,
// `model` or `module` entry (mmengine / common training checkpoints). Everything else in
// the file (optimizer state, numpy arrays, mmengine classes) stays inert and unread.

/// A PyTorch checkpoint that is not a valid or supported zip state dict.
package enum TorchCheckpointError: Error, Equatable {
    /// No `*/data.pkl` record (legacy non-zip `torch.save` files are not supported).
    case noDataPickle(path: String)
    /// A pre-1.6 (non-zip) `torch.save` file: re-save it with a current torch.
    case legacyFormat(path: String)
    /// More than one `data.pkl` record.
    case multipleDataPickles(path: String, found: [String])
    /// `byteorder` is neither "little" nor "big".
    case badByteOrder(path: String, found: String)
    /// A persistent id that is not `('storage', torch.<T>Storage, key, location, numel)`.
    case badPersistentID(path: String, found: String)
    /// A storage type this reader does not know.
    case unknownStorageType(path: String, key: String, type: String)
    /// The same storage key used with two element types.
    case storageTypeConflict(path: String, key: String, first: String, second: String)
    /// `<prefix>/data/<key>` is missing.
    case missingStorage(path: String, tensor: String, key: String)
    /// The storage record's size differs from numel × element size.
    case storageSizeMismatch(path: String, key: String, expected: Int, found: Int)
    /// `_rebuild_tensor_v2` arguments of the wrong kind.
    case badTensorArguments(path: String, tensor: String, reason: String)
    /// A negative size or stride.
    case negativeSizeOrStride(path: String, tensor: String, size: [Int], stride: [Int])
    /// offset + stride extent beyond the storage (or overflowing).
    case viewOutOfStorage(path: String, tensor: String, offset: Int, extent: Int, storageElements: Int)
    /// No dict of tensors at the top level or under `state_dict` / `model` / `module`.
    case noStateDict(path: String, found: String)
    /// A state-dict key that is not a string.
    case badStateDictKey(path: String, found: String)
    /// `data.pkl` is larger than `ReaderLimits.pickleBytes`.
    case pickleTooLarge(path: String, entry: String, size: Int, limit: Int)
    /// More state-dict entries than `ReaderLimits.tensors`.
    case tooManyTensors(path: String, count: Int, limit: Int)
}

/// An opened PyTorch zip checkpoint: its state-dict tensors (lazily readable).
package struct TorchCheckpoint: Sendable {
    /// The checkpoint file.
    package let path: String
    /// Archive prefix (the folder in the zip, e.g. `archive`).
    package let prefix: String
    /// Whether storages are big-endian (`byteorder` = "big").
    package let bigEndian: Bool
    /// Where the state dict was found: "" (top level) or "state_dict" / "model" / "module".
    package let stateDictKey: String
    /// State-dict tensors in the file's order.
    package let tensors: [SourceTensor]
    /// State-dict entries that are not tensors (skipped), by key.
    package let skipped: [String]

    /// Storage element types by torch storage class name.
    static let storageTypes: [String: SourceDType] = [
        "FloatStorage": .f32, "HalfStorage": .f16, "BFloat16Storage": .bf16, "DoubleStorage": .f64,
        "LongStorage": .i64, "IntStorage": .i32, "ShortStorage": .i16, "CharStorage": .i8,
        "ByteStorage": .u8, "BoolStorage": .bool,
    ]

    /// Opens `path` and resolves its state dict (no storage bytes are read).
    package init(path: String, limits: ReaderLimits = .default) throws {
        let zip = try ZipArchive(path: path, limits: limits)
        let pickles = zip.entries.map(\.name).filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard !pickles.isEmpty else { throw TorchCheckpointError.noDataPickle(path: path) }
        guard pickles.count == 1 else { throw TorchCheckpointError.multipleDataPickles(path: path, found: pickles) }
        let pkl = pickles[0]
        let prefix = pkl == "data.pkl" ? "" : String(pkl.dropLast("/data.pkl".count))
        let base = prefix.isEmpty ? "" : prefix + "/"

        var bigEndian = false
        if zip.entry(base + "byteorder") != nil {
            let bo = String(decoding: try zip.read(base + "byteorder"), as: UTF8.self)
            switch bo {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw TorchCheckpointError.badByteOrder(path: path, found: String(bo.prefix(20)))
            }
        }

        let pklSize = try zip.storedRange(pkl).count
        guard pklSize <= limits.pickleBytes else {
            throw TorchCheckpointError.pickleTooLarge(path: path, entry: pkl, size: pklSize, limit: limits.pickleBytes)
        }
        let (root, pids) = try Unpickler.load(try zip.read(pkl), path: path + ":" + pkl, limits: limits)

        // Every persistent id must be a storage reference, even those of tensors we skip.
        var storageType: [String: SourceDType] = [:]
        for pid in pids {
            let s = try Self.parseStorage(pid, path: path)
            if let t = storageType[s.key], t != s.dtype {
                throw TorchCheckpointError.storageTypeConflict(path: path, key: s.key, first: t.rawValue, second: s.dtype.rawValue)
            }
            storageType[s.key] = s.dtype
        }

        let (dict, where_) = try Self.findStateDict(root, path: path)
        guard dict.entries.count <= limits.tensors else {
            throw TorchCheckpointError.tooManyTensors(path: path, count: dict.entries.count, limit: limits.tensors)
        }
        var tensors: [SourceTensor] = []
        var skipped: [String] = []
        for (k, v) in dict.entries {
            guard case .string(let name) = k else {
                throw TorchCheckpointError.badStateDictKey(path: path, found: k.summary)
            }
            guard let call = Self.tensorCall(v) else {
                skipped.append(name)
                continue
            }
            tensors.append(try Self.tensor(name: name, args: call, zip: zip, base: base, bigEndian: bigEndian, path: path))
        }
        self.path = path
        self.prefix = prefix
        self.bigEndian = bigEndian
        self.stateDictKey = where_
        self.tensors = tensors
        self.skipped = skipped
    }

    struct StorageRef { let dtype: SourceDType; let key: String; let numel: Int }

    static func parseStorage(_ pid: [PickleValue], path: String) throws -> StorageRef {
        let found = PickleValue.tuple(pid).summary
        guard pid.count == 5, case .string("storage") = pid[0], case .global(let m, let n) = pid[1],
              case .string(let key) = pid[2], case .string = pid[3], case .int(let numel) = pid[4], numel >= 0
        else { throw TorchCheckpointError.badPersistentID(path: path, found: found) }
        guard m == "torch", let dtype = storageTypes[n] else {
            throw TorchCheckpointError.unknownStorageType(path: path, key: key, type: m + "." + n)
        }
        return StorageRef(dtype: dtype, key: key, numel: numel)
    }

    /// The `_rebuild_tensor_v2` argument list behind a tensor value, unwrapping
    /// `_rebuild_parameter` and `_rebuild_from_type_v2`; nil for non-tensors.
    static func tensorCall(_ v: PickleValue, depth: Int = 0) -> [PickleValue]? {
        guard depth < 4, case .object(let o) = v, let sym = o.symbol, case .tuple(let args) = o.args else { return nil }
        switch sym {
        case "torch._utils._rebuild_tensor_v2":
            return args
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            return args.first.flatMap { tensorCall($0, depth: depth + 1) }
        case "torch._tensor._rebuild_from_type_v2":
            // (func, new_type, args, state): func is _rebuild_tensor_v2 or _rebuild_parameter
            guard args.count >= 3, case .global(let fm, let fn) = args[0], case .tuple(let inner) = args[2] else { return nil }
            if fm == "torch._utils", fn == "_rebuild_tensor_v2" { return inner }
            if fm == "torch._utils", fn == "_rebuild_parameter" { return inner.first.flatMap { tensorCall($0, depth: depth + 1) } }
            return nil
        default:
            return nil
        }
    }

    static func findStateDict(_ root: PickleValue, path: String) throws -> (PickleDict, String) {
        func hasTensors(_ d: PickleDict) -> Bool { d.entries.contains { tensorCall($0.value) != nil } }
        guard case .dict(let top) = root else {
            throw TorchCheckpointError.noStateDict(path: path, found: "top level is \(root.summary)")
        }
        if hasTensors(top) { return (top, "") }
        for key in ["state_dict", "model", "module"] {
            if case .dict(let d)? = top[key], hasTensors(d) { return (d, key) }
        }
        let keys = top.entries.prefix(10).map(\.key.summary).joined(separator: ", ")
        throw TorchCheckpointError.noStateDict(path: path, found: "top-level keys: [\(keys)]")
    }

    static func ints(_ v: PickleValue) -> [Int]? {
        guard case .tuple(let t) = v else { return nil }
        var out: [Int] = []
        for x in t {
            guard case .int(let i) = x else { return nil }
            out.append(i)
        }
        return out
    }

    static func tensor(name: String, args: [PickleValue], zip: ZipArchive, base: String, bigEndian: Bool,
                       path: String) throws -> SourceTensor
    {
        guard args.count >= 4, case .persistent(let pid) = args[0] else {
            throw TorchCheckpointError.badTensorArguments(path: path, tensor: name, reason: "expected (storage, offset, size, stride, …)")
        }
        let storage = try parseStorage(pid, path: path)
        guard case .int(let offset) = args[1], let size = ints(args[2]), let stride = ints(args[3]) else {
            throw TorchCheckpointError.badTensorArguments(
                path: path, tensor: name,
                reason: "offset/size/stride must be int/tuple/tuple, found \(args[1].summary), \(args[2].summary), \(args[3].summary)")
        }
        guard size.count == stride.count, size.count <= 8 else {
            throw TorchCheckpointError.badTensorArguments(path: path, tensor: name, reason: "size \(size) vs stride \(stride)")
        }
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw TorchCheckpointError.negativeSizeOrStride(path: path, tensor: name, size: size, stride: stride)
        }
        guard let view = checkedView(shape: size, strides: stride, offset: offset),
              offset + view.extent <= storage.numel
        else {
            throw TorchCheckpointError.viewOutOfStorage(
                path: path, tensor: name, offset: offset,
                extent: checkedView(shape: size, strides: stride, offset: 0)?.extent ?? Int.max,
                storageElements: storage.numel)
        }
        let record = base + "data/" + storage.key
        guard zip.entry(record) != nil else {
            throw TorchCheckpointError.missingStorage(path: path, tensor: name, key: storage.key)
        }
        let range = try zip.storedRange(record)
        let (bytes, o) = storage.numel.multipliedReportingOverflow(by: storage.dtype.size)
        guard !o, bytes == range.count else {
            throw TorchCheckpointError.storageSizeMismatch(path: path, key: storage.key, expected: o ? Int.max : bytes, found: range.count)
        }
        return SourceTensor(name: name, dtype: storage.dtype, shape: size, elementCount: view.count, file: zip.file,
                            byteOffset: range.offset + offset * storage.dtype.size, strides: stride, bigEndian: bigEndian)
    }
}
