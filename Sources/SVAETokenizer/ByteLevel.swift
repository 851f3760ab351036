// GPT-2's byte ↔ unicode table (`bytes_to_unicode` in GPT-2's encoder.py, `ByteLevel` in HF
// tokenizers): printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 and up,
// in byte order. Tokens in vocab.json / merges.txt are spelled in these characters.

enum ByteLevel {
    /// `byteToScalar[b]` is the character that spells byte `b` in token strings.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar`, indexed by scalar value (0..<324); -1 where no byte maps.
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (b, s) in byteToScalar.enumerated() { table[Int(s)] = Int16(b) }
        return table
    }()

    /// The token string of a single byte, e.g. `Ġ` for 0x20.
    static func string(forByte b: UInt8) -> String {
        var s = String.UnicodeScalarView()
        if let scalar = Unicode.Scalar(byteToScalar[Int(b)]) { s.append(scalar) }
        return String(s)
    }

    /// The bytes a token string stands for, as HF's ByteLevel decoder computes them: every
    /// character mapped through the table, or, if any character is not in the table, the
    /// token's own UTF-8 (HF falls back to `token.as_bytes()` the same way).
    static func bytes(ofToken token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < scalarToByte.count, scalarToByte[v] >= 0 else { return Array(token.utf8) }
            out.append(UInt8(scalarToByte[v]))
        }
        return out
    }
}
