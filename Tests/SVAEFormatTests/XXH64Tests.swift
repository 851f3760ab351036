import Testing
@testable import SVAEFormat

@Suite struct XXH64Tests {
    @Test func knownVectors() {
        #expect(XXH64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXH64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        // 771 bytes: bytes 0..255 three times then "xyz" (value from the Python xxhash package).
        let long = (0..<3).flatMap { _ in (0...255).map { UInt8($0) } } + Array("xyz".utf8)
        #expect(XXH64.hash(long) == 0xE921_A1B4_5BD7_79F8)
    }

    @Test func streamingEqualsOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = XXH64.hash(data)
        for split in [1, 3, 7, 31, 32, 33, 64, 500, 999] {
            var h = XXH64()
            var i = 0
            while i < data.count {
                let e = min(data.count, i + split)
                h.update(Array(data[i..<e]))
                i = e
            }
            #expect(h.digest() == whole, "chunk size \(split)")
        }
    }
}
