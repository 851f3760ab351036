import SVAEFormat
import SVAEKernels

// Views into the mapped file. Biases and norms are f32 (the schema enforces it) and 64-byte
// aligned (the format guarantees it), so they are read in place as Float.

/// y = W x + b, W [out, in].
struct Linear: @unchecked Sendable {
    let w: WeightMatrix
    let b: UnsafeBufferPointer<Float>?
    /// The panel copy of an f32 `w` for few-row products (one sentence), made on first use;
    /// nil: none (`withPackedCopy`).
    var packed: PackedF32Weights? = nil
    var outputs: Int { w.rows }
    var inputs: Int { w.cols }

    /// This layer with a `PackedF32Weights` for its weight when it is f32 (the encoder's: a
    /// second copy of the matrix once a sentence of 2...`KernelContext.packedMaxRows` tokens
    /// is encoded on the AVX-512 path).
    func withPackedCopy() -> Linear {
        var l = self
        if w.type == .f32 { l.packed = PackedF32Weights(w) }
        return l
    }
}

/// LayerNorm parameters [d].
struct Norm: @unchecked Sendable {
    let w: UnsafeBufferPointer<Float>
    let b: UnsafeBufferPointer<Float>
}

/// Looks tensors up by our names (formats/svae.md §8) and makes typed views.
struct TensorTable {
    let file: SVAEFile

    func info(_ name: String) throws(ModelError) -> TensorInfo {
        guard let t = file.tensor(name) else {
            throw .format(SVAEFormatError(file: file.path, .missingTensor(name: name)))
        }
        return t
    }

    func has(_ name: String) -> Bool { file.tensor(name) != nil }

    func floats(_ name: String) throws(ModelError) -> UnsafeBufferPointer<Float> {
        let t = try info(name)
        guard t.type == .f32 else {
            throw .format(SVAEFormatError(file: file.path, .tensorType(tensor: name, expected: "f32", found: t.type.description)))
        }
        let b = file.bytes(of: t)
        return UnsafeBufferPointer(start: b.baseAddress!.assumingMemoryBound(to: Float.self), count: t.elementCount)
    }

    func matrix(_ name: String) throws(ModelError) -> WeightMatrix {
        let t = try info(name)
        let type = t.type
        guard t.shape.count == 2 else {
            throw .format(SVAEFormatError(file: file.path, .tensorShape(tensor: name, expected: [-1, -1], found: t.shape)))
        }
        do {
            return try WeightMatrix(file.bytes(of: t), type: type, rows: t.shape[0], cols: t.shape[1])
        } catch {
            throw .kernel(tensor: name, error)
        }
    }

    func linear(_ name: String, bias: Bool = true) throws(ModelError) -> Linear {
        Linear(w: try matrix(TensorName.weight(name)), b: bias ? try floats(TensorName.bias(name)) : nil)
    }

    func norm(_ name: String) throws(ModelError) -> Norm {
        Norm(w: try floats(TensorName.weight(name)), b: try floats(TensorName.bias(name)))
    }
}

/// The checks every model initializer makes before reading weights in place: a little-endian
/// host, one of `architectures`, and the model schema (formats/svae.md §5.1, §8).
func checkModelFile(_ file: SVAEFile, _ architectures: ArchitectureName...) throws(ModelError) {
    guard 1.littleEndian == 1 else { throw .bigEndianHost }
    let arch = file.architecture ?? "none"
    guard let a = ArchitectureName(rawValue: arch), architectures.contains(a) else {
        throw .wrongArchitecture(file: file.path, expected: architectures.map(\.rawValue).joined(separator: " or "), found: arch)
    }
    do { try file.validateModel() } catch { throw .format(error) }
}

/// Opens a `.svae` file for a model initializer (structural validation; the model validates the schema).
func openModelFile(_ path: String) throws(ModelError) -> SVAEFile {
    do { return try SVAEFile.open(path) } catch { throw .format(error) }
}
