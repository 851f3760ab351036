import ArgumentParser
import Foundation
import SVAECLISupport
import SVAEFormat

/// One row of `svae-bench sizes`: a `.svae` file of one element type against the f32 source.
struct SizeRow: Equatable {
    var type: String
    var fileBytes: Int
    /// Bytes of the reference f32 safetensors checkpoint's tensor data (header excluded, a few KB).
    var sourceBytes: Int
    /// Parameters of the reference checkpoint (the denominator of bits per weight).
    var parameters: Int

    /// File size over the f32 source.
    var ratio: Double { Double(fileBytes) / Double(sourceBytes) }
    /// Whole-file bits per reference parameter (f32 vectors, metadata and alignment included).
    var bitsPerWeight: Double { Double(fileBytes) * 8 / Double(parameters) }

    var json: [String: Any] {
        ["type": type, "file_bytes": fileBytes, "source_bytes": sourceBytes, "parameters": parameters,
         "ratio": ratio, "bits_per_weight": bitsPerWeight]
    }

    init(type: String, fileBytes: Int, shape: ReleasedShape) {
        self.type = type
        self.fileBytes = fileBytes
        parameters = shape.referenceParameters
        sourceBytes = 4 * parameters
    }
}

/// `svae-bench sizes`: file size per element type for a released shape.
struct BenchSizes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sizes",
        abstract: "File size per element type against the f32 safetensors source, and bits per weight.")

    @Option(help: "Shape: \(ReleasedShape.all.map(\.name).joined(separator: ", ")).") var shape = "svae-768-h4"
    @Option(help: "Element types, comma-separated.") var types = "f32,f16,q8_0,q4_0"
    @Option(help: "Folder to keep the model files in, named SHAPE-TYPE.svae, reused when present (default: temporary files).")
    var dir: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let s = ReleasedShape.named(shape) else { throw CLIError("unknown shape \(shape)") }
        var rows: [SizeRow] = []
        for name in types.split(separator: ",").map(String.init) {
            guard let t = SVAEFormat.ElementType(name: name) else { throw CLIError("unknown element type \(name)") }
            let (path, temporary) = try benchModelFile(s, t, file: dir.map { "\($0)/\(s.name)-\(t).svae" })
            rows.append(SizeRow(type: t.description, fileBytes: fileBytes(path), shape: s))
            if temporary { try? FileManager.default.removeItem(atPath: path) }
        }
        if json {
            printJSON(["shape": s.name, "rows": rows.map(\.json)])
        } else {
            print("\(s.name): \(s.referenceParameters) parameters, f32 safetensors source \(String(format: "%.1f", Double(4 * s.referenceParameters) / 1e6)) MB")
            print("| type | file, MB | × f32 source | bits per weight |")
            print("|---|---|---|---|")
            for r in rows {
                print("| \(r.type) | \(fmt(Double(r.fileBytes) / 1e6, 1)) | \(fmt(r.ratio, 3)) | \(fmt(r.bitsPerWeight, 2)) |")
            }
        }
    }
}
