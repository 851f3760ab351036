// Fixed numbers of the layout (formats/svae.md §3, §4).
enum Layout {
    static let magic: [UInt8] = [0x53, 0x56, 0x41, 0x45]
    static let versionMajor: UInt16 = 1
    static let versionMinor: UInt16 = 0
    static let endianMarker: UInt32 = 0x0A0B_0C0D
    static let headerSize = 64
    static let sectionEntrySize = 48
    static let alignment = 64
    static let maxSections = 16
    static let minSections = 3
    static let maxNameLength = 255
    static let maxRank = 4
    /// Dimensions are below 2^48: larger is never a real tensor and keeps products sane.
    static let maxDimension: UInt64 = 1 << 48
}

/// Section kinds (§4.1).
public enum SectionKind: UInt32, Sendable {
    case metadata = 1, tokenizer = 2, directory = 3, data = 4
    static let optionalBit: UInt32 = 0x8000_0000
    var name: String {
        switch self {
        case .metadata: "metadata"
        case .tokenizer: "tokenizer"
        case .directory: "tensor directory"
        case .data: "tensor data"
        }
    }
}

/// One entry of the section table.
public struct SectionInfo: Sendable, Equatable {
    public var kind: UInt32
    public var codec: UInt32
    public var offset: UInt64
    public var storedSize: UInt64
    public var rawSize: UInt64
    public var checksum: UInt64
}

/// One tensor of the directory (§7). `offset` is absolute (from the start of the file).
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let type: ElementType
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// Absolute file offset of the first byte (a multiple of 64).
    public let offset: Int
    public let byteCount: Int
    public let checksum: UInt64
    public var elementCount: Int { shape.reduce(1, *) }
}

func isValidTensorName(_ s: String) -> Bool {
    let u = s.utf8
    guard !u.isEmpty, u.count <= Layout.maxNameLength else { return false }
    return u.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E }
}

/// Versions for `--version` and the APIs: the toolkit's release and the file format it writes
/// (it reads every 1.x file).
public enum SVAEVersion {
    public static let toolkit = "0.1.0"
    public static let formatMajor = Int(Layout.versionMajor)
    public static let formatMinor = Int(Layout.versionMinor)
}
