/// Element types of tensors in a `.svae` file (formats/svae.md §7.1).
public enum ElementType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case bf16 = 2
    case q8_0 = 3
    case q4_0 = 4
    /// Per-row int8 in 16-row panels (formats/quantization.md §9): not a block type; a tensor's
    /// bytes depend on its row count (`byteCount(elements:innermost:)`).
    case i8r = 5

    /// Elements per block (1 for plain floats, 32 for q8_0/q4_0). For `i8r`, 4: the multiple
    /// the row length must be (its bytes are laid out per 16-row panel, not per block).
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0, .q4_0: 32
        case .i8r: 4
        }
    }

    /// Bytes per block (`i8r`: the 4 codes of a group, without the per-row scale and sum).
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 34
        case .q4_0: 18
        case .i8r: 4
        }
    }

    public var isQuantized: Bool { blockElements > 1 }

    /// True for types laid out in row panels (`i8r`), whose size depends on the row count.
    public var isRowPanel: Bool { self == .i8r }

    /// Bits per weight, scale included (q8_0: 8.5, q4_0: 4.5; i8r: 8, plus 64 bits per row).
    public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockElements) }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q8_0: "q8_0"
        case .q4_0: "q4_0"
        case .i8r: "i8r"
        }
    }

    public init?(name: String) {
        guard let t = ElementType.allCases.first(where: { $0.description == name }) else { return nil }
        self = t
    }

    /// Rows per panel of `i8r`.
    public static let panelRows = 16

    /// Bytes needed for `elements` values whose innermost dimension is `innermost`,
    /// or nil when the count overflows or the innermost dimension is not a whole number of blocks.
    /// `i8r`: rows = elements / innermost, rounded up to 16, times (innermost + 8) bytes.
    public func byteCount(elements: Int, innermost: Int) -> Int? {
        guard elements >= 0, innermost > 0, innermost % blockElements == 0 else { return nil }
        if isRowPanel {
            guard elements % innermost == 0 else { return nil }
            let panels = (elements / innermost + Self.panelRows - 1) / Self.panelRows
            let (pb, o1) = (innermost + 8).multipliedReportingOverflow(by: Self.panelRows)
            let (b, o2) = panels.multipliedReportingOverflow(by: pb)
            return o1 || o2 ? nil : b
        }
        let (b, o) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return o ? nil : b
    }
}
