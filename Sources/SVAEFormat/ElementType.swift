/// Element types of tensors in a `.svae` file (formats/svae.md §7.1).
public enum ElementType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case bf16 = 2
    case q8_0 = 3
    case q4_0 = 4

    /// Elements per block (1 for plain floats, 32 for the quantized types).
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0, .q4_0: 32
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 34
        case .q4_0: 18
        }
    }

    public var isQuantized: Bool { blockElements > 1 }

    /// Bits per weight, scale included (q8_0: 8.5, q4_0: 4.5).
    public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockElements) }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q8_0: "q8_0"
        case .q4_0: "q4_0"
        }
    }

    public init?(name: String) {
        guard let t = ElementType.allCases.first(where: { $0.description == name }) else { return nil }
        self = t
    }

    /// Bytes needed for `elements` values whose innermost dimension is `innermost`,
    /// or nil when the count overflows or the innermost dimension is not a whole number of blocks.
    public func byteCount(elements: Int, innermost: Int) -> Int? {
        guard elements >= 0, innermost > 0, innermost % blockElements == 0 else { return nil }
        let (b, o) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return o ? nil : b
    }
}
