// Shared by the import harnesses: read what a reader hands out.
extension FuzzFile {
    /// Reads every tensor of small views as f32 (exercises the strided reader).
    static func readAll(_ tensors: [SourceTensor]) {
        for t in tensors where t.dtype.isFloatingPoint && t.elementCount <= 1 << 16 {
            let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: t.elementCount)
            defer { buf.deallocate() }
            _ = try? t.readF32(into: buf)
        }
    }
}
