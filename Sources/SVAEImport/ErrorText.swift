// Plain-word messages of the reading layer's errors: "<file>: <what>", naming what was
// expected and what was found. `ConvertError.describe` prints these; no case name reaches users.

extension SafetensorsError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .fileTooSmall(p, size): "\(p): expected at least 8 bytes (the header length), found \(size)"
        case let .headerTooLarge(p, length, limit): "\(p): header length \(length): expected at most \(limit) bytes"
        case let .headerPastEOF(p, length, size): "\(p): truncated: the header claims \(length) bytes, the file is \(size) bytes long"
        case let .headerNotUTF8(p): "\(p): header: expected UTF-8 JSON, found invalid bytes"
        case let .headerNotJSON(p, offset, reason): "\(p): header: invalid JSON at byte \(offset): \(reason)"
        case let .headerNotObject(p, found): "\(p): header: expected a JSON object, found \(found)"
        case let .duplicateKey(p, key): "\(p): header: key \"\(key)\" appears twice"
        case let .headerTooDeep(p, limit): "\(p): header: JSON nested deeper than \(limit) levels"
        case let .badEntry(p, t, field, e, f): "\(p): tensor \(t): \(field): expected \(e), found \(f)"
        case let .unknownDType(p, t, dtype): "\(p): tensor \(t): dtype \"\(dtype)\": expected F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL"
        case let .badShape(p, t, shape): "\(p): tensor \(t): expected a shape of non-negative integers, found \(shape)"
        case let .byteLengthMismatch(p, t, e, f): "\(p): tensor \(t): expected \(e) bytes (elements × element size), found \(f)"
        case let .beginAfterEnd(p, t, b, e): "\(p): tensor \(t): data_offsets begin \(b) is after end \(e)"
        case let .offsetsOverlap(p, t, prev, e, f): "\(p): tensor \(t): overlaps \(prev): expected to begin at \(e), found \(f)"
        case let .offsetsGap(p, t, e, f): "\(p): tensor \(t): unused bytes before it: expected to begin at \(e), found \(f)"
        case let .dataPastEOF(p, t, end, size): "\(p): truncated: tensor \(t) ends at data byte \(end), the data section is \(size) bytes long"
        case let .trailingBytes(p, e, size): "\(p): expected the file to end at byte \(e) after the last tensor, found \(size) bytes"
        case let .badMetadata(p, key, found): "\(p): __metadata__ \"\(key)\": expected a string, found \(found)"
        case let .badIndex(p, reason): "\(p): shard index: \(reason)"
        case let .shardOutsideFolder(p, shard): "\(p): shard \"\(shard)\": expected a file name in the index's folder"
        case let .missingShard(p, shard): "\(p): shard \"\(shard)\" does not exist"
        case let .tensorInTwoShards(p, t, a, b): "\(p): tensor \(t) is stored in two shards, \(a) and \(b)"
        case let .tensorNotListed(p, t, shard): "\(p): shard \(shard) holds tensor \(t), which the index does not list there"
        case let .listedTensorMissing(p, t, shard): "\(p): the index lists tensor \(t) in \(shard), which does not hold it"
        case let .tooManyTensors(p, n, limit): "\(p): expected at most \(limit) tensors, found \(n)"
        case let .indexTooLarge(p, size, limit): "\(p): shard index: expected at most \(limit) bytes, found \(size)"
        }
    }
}

extension ConfigError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .conflict(key, s1, v1, s2, v2): "\(key): \(s1) says \(v1), \(s2) says \(v2); expected one value"
        case let .missing(key, hint): "missing \(key): expected a value, found none" + (hint.isEmpty ? "" : " (\(hint))")
        case let .badValue(source, key, e, f): "\(source): \(key): expected \(e), found \(f)"
        case let .outOfRange(key, value, reason): "\(key) = \(value): \(reason)"
        case let .badConfigFile(p, reason): "\(p): \(reason)"
        }
    }
}

extension MappingError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .unknownArchitecture(p, sample):
            "\(p): expected the tensor names of a SentenceVAE, SLLM or OPT checkpoint, found \(sample.prefix(4).joined(separator: ", "))"
        case let .missingTensor(p, t): "\(p): tensor \(t): expected it, found none"
        case let .shapeMismatch(p, t, e, f): "\(p): tensor \(t): expected shape \(e), found \(f)"
        case let .layerNumbering(p, prefix, found): "\(p): layers under \(prefix): expected numbers 0, 1, …, found \(found)"
        case let .unexpectedTensors(p, ts):
            "\(p): tensors no rule uses (another architecture or an unsupported variant): \(ts.prefix(6).joined(separator: ", "))\(ts.count > 6 ? " and \(ts.count - 6) more" : "")"
        case let .unsupportedDType(p, t, dtype): "\(p): tensor \(t): expected a floating-point dtype, found \(dtype)"
        }
    }
}

extension SourceTensorError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .unsupportedDType(p, t, dtype): "\(p): tensor \(t): expected a floating-point dtype, found \(dtype)"
        case let .bufferSize(p, t, e, f): "\(p): tensor \(t): expected a buffer of \(e) elements, found \(f)"
        case let .rowRange(p, t, rows, r): "\(p): tensor \(t): rows \(r) outside 0..<\(rows)"
        case let .elementRange(p, t, n, r): "\(p): tensor \(t): elements \(r) outside 0..<\(n)"
        }
    }
}

extension ZipError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .noEndOfCentralDirectory(p): "\(p): not a zip archive (no end-of-central-directory record)"
        case let .badZip64(p, reason): "\(p): zip64 record: \(reason)"
        case let .multiDisk(p): "\(p): multi-disk zip archives are not supported"
        case let .badCentralDirectory(p, reason): "\(p): zip central directory: \(reason)"
        case let .unsafeName(p, e): "\(p): zip entry \"\(e)\": expected a relative name without .., found an unsafe one"
        case let .duplicateName(p, e): "\(p): zip entry \"\(e)\" appears twice"
        case let .entryPastEOF(p, e, end, size): "\(p): truncated: zip entry \(e) ends at byte \(end), the file is \(size) bytes long"
        case let .localHeaderMismatch(p, e, field, ex, f): "\(p): zip entry \(e): \(field): expected \(ex) (central directory), found \(f)"
        case let .compressedEntry(p, e, method): "\(p): zip entry \(e): expected a stored entry, found compression method \(method)"
        case let .encryptedEntry(p, e): "\(p): zip entry \(e) is encrypted"
        case let .missingEntry(p, e): "\(p): zip entry \(e): expected it, found none"
        case let .tooManyEntries(p, n, limit): "\(p): zip archive: expected at most \(limit) entries, found \(n)"
        }
    }
}

extension PickleError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .unknownOpcode(p, o, op): "\(p): pickle byte \(o): unsupported opcode 0x\(String(op, radix: 16))"
        case let .unsupportedProtocol(p, o, v): "\(p): pickle byte \(o): expected protocol 5 or lower, found \(v)"
        case let .stackUnderflow(p, o, op, n, f): "\(p): pickle byte \(o): \(op) needs \(n) stack items, found \(f)"
        case let .missingMark(p, o, op): "\(p): pickle byte \(o): \(op) expected a MARK, found none"
        case let .unknownMemo(p, o, i): "\(p): pickle byte \(o): memo \(i) was never stored"
        case let .truncated(p, o, op, n, a): "\(p): truncated pickle at byte \(o): \(op) needs \(n) bytes, \(a) remain"
        case let .noStop(p): "\(p): truncated pickle: it ends without STOP"
        case let .nestingTooDeep(p, o, limit): "\(p): pickle byte \(o): nested deeper than \(limit) levels"
        case let .limitExceeded(p, o, what, limit): "\(p): pickle byte \(o): expected at most \(limit) \(what), found more"
        case let .dangerousCallable(p, o, name): "\(p): pickle byte \(o): refuses to call \(name) (only tensor rebuilding is allowed)"
        case let .badOperand(p, o, op, e, f): "\(p): pickle byte \(o): \(op): expected \(e), found \(f)"
        }
    }
}

extension TorchCheckpointError: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .noDataPickle(p): "\(p): expected a data.pkl record (a torch.save zip), found none"
        case let .legacyFormat(p): "\(p): a pre-1.6 torch.save file: re-save it with a current PyTorch"
        case let .multipleDataPickles(p, found): "\(p): expected one data.pkl, found \(found.joined(separator: ", "))"
        case let .badByteOrder(p, found): "\(p): byteorder: expected little or big, found \(found)"
        case let .badPersistentID(p, found): "\(p): expected a storage reference, found \(found)"
        case let .unknownStorageType(p, key, type): "\(p): storage \(key): unknown storage type \(type)"
        case let .storageTypeConflict(p, key, a, b): "\(p): storage \(key) is used as \(a) and as \(b)"
        case let .missingStorage(p, t, key): "\(p): tensor \(t): storage data/\(key) is missing"
        case let .storageSizeMismatch(p, key, e, f): "\(p): storage \(key): expected \(e) bytes, found \(f)"
        case let .badTensorArguments(p, t, reason): "\(p): tensor \(t): \(reason)"
        case let .negativeSizeOrStride(p, t, size, stride): "\(p): tensor \(t): expected non-negative sizes and strides, found \(size) and \(stride)"
        case let .viewOutOfStorage(p, t, o, extent, n): "\(p): tensor \(t): offset \(o) + extent \(extent) goes past its storage of \(n) elements"
        case let .noStateDict(p, found): "\(p): expected a dict of tensors (or one under state_dict / model / module), found \(found)"
        case let .badStateDictKey(p, found): "\(p): expected string state-dict keys, found \(found)"
        case let .pickleTooLarge(p, entry, size, limit): "\(p): \(entry): expected a pickle of at most \(limit) bytes, found \(size)"
        case let .tooManyTensors(p, n, limit): "\(p): expected at most \(limit) tensors, found \(n)"
        }
    }
}
