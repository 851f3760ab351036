import ArgumentParser
import Foundation
import SVAEFormat

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a .svae file: metadata, tokenizer, tensors, totals by element type, bits per weight.",
        discussion: """
            svae.max_seq_len in the metadata is the model's sentence limit in tokens (BOS included).

            Examples:
              svae inspect svae-tiny.svae
              svae inspect svae-tiny.svae --json --model
            """)

    @Argument(help: "The .svae file.") var file: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "Also check the model-level rules (required tensors, shapes, hyperparameters).") var model = false

    func run() throws {
        let f = try SVAEFile.open(file)
        if model { try f.validateModel() }
        let report = InspectReport(f)
        if json {
            let data = try JSONSerialization.data(withJSONObject: report.json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
    }
}

/// What `svae inspect` shows, computed once for both output forms.
struct InspectReport {
    struct Total {
        var tensors = 0
        var elements = 0
        var bytes = 0
    }
    let file: SVAEFile
    var totals: [ElementType: Total] = [:]
    var elements = 0
    var tensorBytes = 0

    init(_ f: SVAEFile) {
        file = f
        for t in f.tensors {
            totals[t.type, default: Total()].tensors += 1
            totals[t.type, default: Total()].elements += t.elementCount
            totals[t.type, default: Total()].bytes += t.byteCount
            elements += t.elementCount
            tensorBytes += t.byteCount
        }
    }

    var bitsPerWeight: Double { elements == 0 ? 0 : Double(tensorBytes * 8) / Double(elements) }

    static func human(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.2f %@", v, units[u])
    }

    var text: String {
        var s = "file      \(file.path)\n"
        s += "format    svae 1.\(file.versionMinor), \(file.fileSize) bytes (\(Self.human(file.fileSize)))\n"
        s += "sections  " + file.sections.map { sec in
            let name = [1: "metadata", 2: "tokenizer", 3: "directory", 4: "data"][Int(sec.kind)] ?? "kind \(sec.kind)"
            return sec.codec == 1 ? "\(name) (zstd \(sec.storedSize)/\(sec.rawSize) B)" : "\(name) (\(sec.storedSize) B)"
        }.joined(separator: ", ") + "\n"
        s += "\nmetadata\n"
        let width = file.metadata.keys.map(\.count).max() ?? 0
        for (k, v) in file.metadata.entries { s += "  \(k.padding(toLength: width, withPad: " ", startingAt: 0))  \(v)\n" }
        s += "\ntokenizer\n"
        if let t = file.tokenizer {
            s += "  byte-level BPE: \(t.tokens.count) tokens, \(t.merges.count) merges, \(t.specials.count) special tokens"
            s += t.specials.isEmpty ? "\n" : " (" + t.specials.prefix(8).map { "\($0.id)=\($0.text)" }.joined(separator: " ") + ")\n"
        } else {
            s += "  none: this model takes and returns token ids\n"
        }
        s += "\ntensors (\(file.tensors.count))\n"
        let nameWidth = min(48, file.tensors.map(\.name.count).max() ?? 4)
        for t in file.tensors {
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
            s += "  \(t.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(t.type.description.padding(toLength: 5, withPad: " ", startingAt: 0))  \(shape.padding(toLength: 16, withPad: " ", startingAt: 0))  \(t.byteCount)\n"
        }
        s += "\ntotals by element type\n"
        for type in ElementType.allCases {
            guard let tot = totals[type] else { continue }
            s += "  \(type.description.padding(toLength: 5, withPad: " ", startingAt: 0))  \(tot.tensors) tensors, \(tot.elements) elements, \(tot.bytes) bytes (\(Self.human(tot.bytes)))\n"
        }
        s += String(format: "  all    %d tensors, %d elements, %d bytes, %.3f bits per weight\n", file.tensors.count, elements, tensorBytes, bitsPerWeight)
        return s
    }

    var json: [String: Any] {
        var meta: [String: Any] = [:]
        for (k, v) in file.metadata.entries { meta[k] = Self.jsonValue(v) }
        var tok: Any = NSNull()
        if let t = file.tokenizer {
            tok = ["tokens": t.tokens.count, "merges": t.merges.count,
                   "specials": t.specials.map { ["id": Int($0.id), "text": $0.text] as [String: Any] }]
        }
        var byType: [String: Any] = [:]
        for (type, tot) in totals { byType[type.description] = ["tensors": tot.tensors, "elements": tot.elements, "bytes": tot.bytes] }
        return [
            "file": file.path, "file_size": file.fileSize, "version": "1.\(file.versionMinor)",
            "metadata": meta, "tokenizer": tok,
            "tensors": file.tensors.map { ["name": $0.name, "type": $0.type.description, "shape": $0.shape, "bytes": $0.byteCount, "offset": $0.offset] as [String: Any] },
            "totals": byType, "elements": elements, "tensor_bytes": tensorBytes, "bits_per_weight": bitsPerWeight,
        ]
    }

    static func jsonValue(_ v: MetadataValue) -> Any {
        switch v {
        case let .u8(x): Int(x)
        case let .i8(x): Int(x)
        case let .u16(x): Int(x)
        case let .i16(x): Int(x)
        case let .u32(x): Int(x)
        case let .i32(x): Int(x)
        case let .u64(x): NSNumber(value: x)
        case let .i64(x): Int(x)
        case let .f32(x): x.isFinite ? Double(x) as Any : "\(x)"
        case let .f64(x): x.isFinite ? x as Any : "\(x)"
        case let .bool(x): x
        case let .string(x): x
        case let .array(_, values): values.map(jsonValue)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every checksum of a .svae file; report the first bad tensor by name.",
        discussion: """
            Examples:
              svae verify svae-tiny.svae
              svae verify svae-tiny.svae; echo "exit status $?"
            """)

    @Argument(help: "The .svae file.") var file: String

    func run() throws {
        let f = try SVAEFile.open(file)
        try f.verify()
        var modelNote = "no model schema checked (no general.architecture)"
        if f.architecture != nil {
            try f.validateModel()
            modelNote = "model schema of \(f.architecture!) ok"
        }
        print("\(file): ok: header, \(f.sections.count) sections, \(f.tensors.count) tensor checksums; \(modelNote)")
    }
}
