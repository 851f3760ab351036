// Checkpoint: opens any supported source checkpoint by path and lists its tensors.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The tensors of one source checkpoint, whatever its format.
package struct SourceCheckpoint: Sendable {
    /// Which reader opened it.
    package enum Format: String, Sendable { case safetensors, safetensorsSharded, torchZip }

    /// The path given to `open` (file or folder).
    package let path: String
    /// The detected format.
    package let format: Format
    /// All tensors, in file order.
    package let tensors: [SourceTensor]

    /// Opens `path`:
    /// - a folder: `model.safetensors.index.json`, else `model.safetensors`, else
    ///   `pytorch_model.bin`;
    /// - `*.index.json`: a sharded safetensors index;
    /// - a file starting with `PK`: a PyTorch zip checkpoint;
    /// - any other file: single-file safetensors.
    package static func open(_ path: String) throws -> SourceCheckpoint {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            for candidate in ["model.safetensors.index.json", "model.safetensors", "pytorch_model.bin"] {
                let p = path + "/" + candidate
                if access(p, F_OK) == 0 { return try open(p) }
            }
            throw FileIOError(path: path, reason: "folder holds no model.safetensors(.index.json) or pytorch_model.bin")
        }
        if path.hasSuffix(".index.json") {
            return SourceCheckpoint(path: path, format: .safetensorsSharded, tensors: try SafetensorsIndex(path: path).tensors)
        }
        let file = try MappedFile(path: path)
        if file.count >= 4, file.le(UInt32.self, at: 0) == 0x0403_4b50 {
            return SourceCheckpoint(path: path, format: .torchZip, tensors: try TorchCheckpoint(path: path).tensors)
        }
        if file.count >= 2, file.le(UInt16.self, at: 0) == 0x0280 {
            // a bare pickle (PROTO 2): torch.save before 1.6 or with _use_new_zipfile_serialization=False
            throw TorchCheckpointError.legacyFormat(path: path)
        }
        return SourceCheckpoint(path: path, format: .safetensors, tensors: try SafetensorsFile(path: path).tensors)
    }

    /// The tensor named `name`.
    package subscript(name: String) -> SourceTensor? { tensors.first { $0.name == name } }
}
