/// A typed metadata value (formats/svae.md §5).
public enum MetadataValue: Equatable, Sendable, CustomStringConvertible {
    case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), u64(UInt64), i64(Int64)
    case f32(Float), f64(Double), bool(Bool), string(String)
    /// A homogeneous array; every element has the type `elementType` (arrays do not nest).
    case array(elementType: MetadataType, values: [MetadataValue])

    public var type: MetadataType {
        switch self {
        case .u8: .u8
        case .i8: .i8
        case .u16: .u16
        case .i16: .i16
        case .u32: .u32
        case .i32: .i32
        case .u64: .u64
        case .i64: .i64
        case .f32: .f32
        case .f64: .f64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The value as an integer if it is any integer type and fits.
    public var intValue: Int? {
        switch self {
        case let .u8(v): Int(v)
        case let .i8(v): Int(v)
        case let .u16(v): Int(v)
        case let .i16(v): Int(v)
        case let .u32(v): Int(v)
        case let .i32(v): Int(v)
        case let .u64(v): Int(exactly: v)
        case let .i64(v): Int(v)
        default: nil
        }
    }

    public var stringValue: String? { if case let .string(s) = self { s } else { nil } }
    public var boolValue: Bool? { if case let .bool(b) = self { b } else { nil } }
    public var floatValue: Double? {
        switch self {
        case let .f32(v): Double(v)
        case let .f64(v): v
        default: nil
        }
    }

    public var description: String {
        switch self {
        case let .u8(v): "\(v)"
        case let .i8(v): "\(v)"
        case let .u16(v): "\(v)"
        case let .i16(v): "\(v)"
        case let .u32(v): "\(v)"
        case let .i32(v): "\(v)"
        case let .u64(v): "\(v)"
        case let .i64(v): "\(v)"
        case let .f32(v): "\(v)"
        case let .f64(v): "\(v)"
        case let .bool(v): "\(v)"
        case let .string(s): quoted(s)
        case let .array(t, values):
            values.count <= 8
                ? "[" + values.map(\.description).joined(separator: ", ") + "]"
                : "[\(t) × \(values.count)]"
        }
    }
}

/// Value type ids of §5.
public enum MetadataType: UInt32, Sendable, CustomStringConvertible {
    case u8 = 0, i8, u16, i16, u32, i32, u64, i64, f32, f64, bool, string, array
    public var description: String {
        ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool", "string", "array"][Int(rawValue)]
    }
    /// Smallest encoded size of one value of this type (used to bound counts before allocating).
    var minBytes: Int {
        switch self {
        case .u8, .i8, .bool: 1
        case .u16, .i16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64, .string: 8
        case .array: 12
        }
    }
}

/// Metadata of a file: keys in strictly increasing byte order, as stored.
public struct Metadata: Equatable, Sendable {
    public private(set) var entries: [(key: String, value: MetadataValue)] = []

    public init() {}

    public init(_ dict: [String: MetadataValue]) {
        for (k, v) in dict { self[k] = v }
    }

    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> MetadataValue? {
        get {
            let i = insertionIndex(key)
            return i < entries.count && entries[i].key == key ? entries[i].value : nil
        }
        set {
            let i = insertionIndex(key)
            let present = i < entries.count && entries[i].key == key
            switch (present, newValue) {
            case let (true, v?): entries[i].value = v
            case (true, nil): entries.remove(at: i)
            case let (false, v?): entries.insert((key, v), at: i)
            case (false, nil): break
            }
        }
    }

    private func insertionIndex(_ key: String) -> Int {
        let k = Array(key.utf8)
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Array(entries[mid].key.utf8).lexicographicallyPrecedes(k) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public func int(_ key: String) -> Int? { self[key]?.intValue }
    public func string(_ key: String) -> String? { self[key]?.stringValue }
    public func bool(_ key: String) -> Bool? { self[key]?.boolValue }
    public func float(_ key: String) -> Double? { self[key]?.floatValue }

    /// The value under a registered key (Names.swift).
    public subscript(key: MetadataKey) -> MetadataValue? {
        get { self[key.rawValue] }
        set { self[key.rawValue] = newValue }
    }
    public func int(_ key: MetadataKey) -> Int? { self[key]?.intValue }
    public func string(_ key: MetadataKey) -> String? { self[key]?.stringValue }
    public func bool(_ key: MetadataKey) -> Bool? { self[key]?.boolValue }
    public func float(_ key: MetadataKey) -> Double? { self[key]?.floatValue }
}

// MARK: - Registry (§5.1)

public enum MetadataRegistry {
    /// Every registered key with its required type (the names table, Names.swift).
    public static let types: [String: MetadataType] =
        Dictionary(uniqueKeysWithValues: MetadataKey.allCases.map { ($0.rawValue, $0.type) })

    /// Allowed string values for enumerated keys.
    public static let allowedStrings: [String: Set<String>] =
        Dictionary(uniqueKeysWithValues: MetadataKey.allCases.compactMap { k in k.allowedValues.map { (k.rawValue, Set($0)) } })

    /// Check a key against the registry: registered keys must have their type (and allowed
    /// value), unregistered keys must start with `x.`.
    static func check(_ key: String, _ value: MetadataValue) throws(FormatProblem) {
        guard let t = types[key] else {
            if key.hasPrefix("x.") { return }
            throw .wrongMetadataType(key: key, expected: "a registered key or an x. extension key", found: "an unknown key")
        }
        guard value.type == t else {
            throw .wrongMetadataType(key: key, expected: t.description, found: value.type.description)
        }
        if let allowed = allowedStrings[key], let s = value.stringValue, !allowed.contains(s) {
            throw .wrongMetadataType(key: key, expected: "one of " + allowed.sorted().joined(separator: ", "), found: quoted(s))
        }
    }
}

// MARK: - Encoding

let maxKeyLength = 255

func isValidKey(_ key: String) -> Bool {
    let u = Array(key.utf8)
    guard !u.isEmpty, u.count <= maxKeyLength, u.first != UInt8(ascii: "."), u.last != UInt8(ascii: ".") else { return false }
    return u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E }
}

extension Metadata {
    /// Encodes the section body of §5. Throws if a key is invalid or a value breaks the registry.
    func encoded() throws(FormatProblem) -> [UInt8] {
        var s = ByteSink()
        s.u64(UInt64(entries.count))
        for (key, value) in entries {
            guard isValidKey(key) else { throw .invalidName(what: "metadata key", found: key) }
            try MetadataRegistry.check(key, value)
            let k = Array(key.utf8)
            s.u16(UInt16(k.count))
            s.raw(k)
            s.u32(value.type.rawValue)
            if case let .array(t, values) = value {
                guard t != .array else { throw .wrongMetadataType(key: key, expected: "array of scalars or strings", found: "nested array") }
                s.u32(t.rawValue)
                s.u64(UInt64(values.count))
                for v in values {
                    guard v.type == t else { throw .wrongMetadataType(key: key, expected: "array of \(t)", found: "an element of type \(v.type)") }
                    Metadata.encodeScalar(v, &s)
                }
            } else {
                Metadata.encodeScalar(value, &s)
            }
        }
        return s.bytes
    }

    private static func encodeScalar(_ v: MetadataValue, _ s: inout ByteSink) {
        switch v {
        case let .u8(x): s.u8(x)
        case let .i8(x): s.u8(UInt8(bitPattern: x))
        case let .u16(x): s.u16(x)
        case let .i16(x): s.u16(UInt16(bitPattern: x))
        case let .u32(x): s.u32(x)
        case let .i32(x): s.u32(UInt32(bitPattern: x))
        case let .u64(x): s.u64(x)
        case let .i64(x): s.u64(UInt64(bitPattern: x))
        case let .f32(x): s.u32(x.bitPattern)
        case let .f64(x): s.u64(x.bitPattern)
        case let .bool(x): s.u8(x ? 1 : 0)
        case let .string(x):
            let b = Array(x.utf8)
            s.u64(UInt64(b.count))
            s.raw(b)
        case .array: break  // handled by the caller; arrays do not nest
        }
    }

    /// Decodes and validates the section body of §5.
    static func decode(_ body: UnsafeRawBufferPointer) throws(FormatProblem) -> Metadata {
        var c = ByteCursor(body, what: "metadata section")
        let count = try c.count("entry count", minElementBytes: 2 + 4 + 1)
        var m = Metadata()
        m.entries.reserveCapacity(count)
        var previous: [UInt8]? = nil
        for _ in 0..<count {
            let keyLength = Int(try c.u16("key length"))
            guard keyLength >= 1 else { throw .invalidName(what: "metadata key", found: "") }
            let keyBytes = try c.bytes(keyLength, "key")
            let key = decodeUTF8(keyBytes) ?? ""
            guard isValidKey(key) else {
                throw .invalidName(what: "metadata key", found: key.isEmpty ? "<\(keyLength) non-UTF-8 bytes>" : key)
            }
            let k = Array(keyBytes)
            if let p = previous {
                if p == k { throw .duplicateKey(key: key) }
                if !p.lexicographicallyPrecedes(k) {
                    throw .unsortedKeys(previous: String(decoding: p, as: UTF8.self), found: key)
                }
            }
            previous = k
            let rawType = try c.u32("value type of \(key)")
            guard let type = MetadataType(rawValue: rawType) else { throw .unknownValueType(key: key, found: rawType) }
            let value: MetadataValue
            if type == .array {
                let rawElement = try c.u32("array element type of \(key)")
                guard let et = MetadataType(rawValue: rawElement), et != .array else {
                    throw .wrongMetadataType(key: key, expected: "array element type 0–11", found: "\(rawElement)")
                }
                let n = try c.count("array length of \(key)", minElementBytes: et.minBytes)
                var values: [MetadataValue] = []
                values.reserveCapacity(n)
                for _ in 0..<n { values.append(try decodeScalar(et, key, &c)) }
                value = .array(elementType: et, values: values)
            } else {
                value = try decodeScalar(type, key, &c)
            }
            try MetadataRegistry.check(key, value)
            m.entries.append((key, value))
        }
        if !c.atEnd { throw .trailingBytes(what: "metadata section", count: UInt64(c.remaining)) }
        return m
    }

    private static func decodeScalar(_ t: MetadataType, _ key: String, _ c: inout ByteCursor) throws(FormatProblem) -> MetadataValue {
        switch t {
        case .u8: return .u8(try c.u8(key))
        case .i8: return .i8(Int8(bitPattern: try c.u8(key)))
        case .u16: return .u16(try c.u16(key))
        case .i16: return .i16(Int16(bitPattern: try c.u16(key)))
        case .u32: return .u32(try c.u32(key))
        case .i32: return .i32(Int32(bitPattern: try c.u32(key)))
        case .u64: return .u64(try c.u64(key))
        case .i64: return .i64(Int64(bitPattern: try c.u64(key)))
        case .f32: return .f32(Float(bitPattern: try c.u32(key)))
        case .f64: return .f64(Double(bitPattern: try c.u64(key)))
        case .bool:
            let b = try c.u8(key)
            guard b <= 1 else { throw .wrongMetadataType(key: key, expected: "bool 0 or 1", found: "\(b)") }
            return .bool(b == 1)
        case .string:
            let n = try c.count("string length of \(key)", minElementBytes: 1)
            return .string(try c.string(n, "string of \(key)"))
        case .array:
            throw .wrongMetadataType(key: key, expected: "array element type 0–11", found: "array")
        }
    }
}
