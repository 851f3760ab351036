// XXH64 (xxHash, 64-bit, seed 0 by default), the checksum of the .svae format (formats/svae.md §1).
// Written from the public algorithm description; streaming so the writer can hash tensors as they pass.

private let p1: UInt64 = 0x9E37_79B1_85EB_CA87
private let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
private let p3: UInt64 = 0x1656_67B1_9E37_79F9
private let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
private let p5: UInt64 = 0x27D4_EB2F_1656_67C5

@inline(__always) private func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 &- r)) }
@inline(__always) private func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
    rotl(acc &+ input &* p2, 31) &* p1
}
@inline(__always) private func mergeRound(_ acc: UInt64, _ val: UInt64) -> UInt64 {
    (acc ^ round(0, val)) &* p1 &+ p4
}
@inline(__always) private func load64(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 {
    UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
}
@inline(__always) private func load32(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 {
    UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
}

/// Streaming XXH64 hasher. `update` may be called any number of times; `digest` does not consume it.
public struct XXH64: Sendable {
    private var v1, v2, v3, v4: UInt64
    private let seed: UInt64
    private var total: UInt64 = 0
    private var buffer: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var buffered = 0

    public init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ p1 &+ p2
        v2 = seed &+ p2
        v3 = seed
        v4 = seed &- p1
    }

    /// One-shot hash of a buffer.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var h = XXH64(seed: seed)
        h.update(bytes)
        return h.digest()
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var n = bytes.count
        total &+= UInt64(n)
        if buffered > 0 {
            let take = min(32 - buffered, n)
            withUnsafeMutableBytes(of: &buffer) { b in
                b.baseAddress!.advanced(by: buffered).copyMemory(from: p, byteCount: take)
            }
            buffered += take; p += take; n -= take
            if buffered < 32 { return }
            withUnsafeBytes(of: buffer) { b in consumeStripe(b.baseAddress!) }
            buffered = 0
        }
        while n >= 32 {
            consumeStripe(p)
            p += 32; n -= 32
        }
        if n > 0 {
            withUnsafeMutableBytes(of: &buffer) { b in b.baseAddress!.copyMemory(from: p, byteCount: n) }
            buffered = n
        }
    }

    @inline(__always) private mutating func consumeStripe(_ p: UnsafeRawPointer) {
        v1 = round(v1, load64(p, 0))
        v2 = round(v2, load64(p, 8))
        v3 = round(v3, load64(p, 16))
        v4 = round(v4, load64(p, 24))
    }

    public func digest() -> UInt64 {
        var h: UInt64
        if total >= 32 {
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = mergeRound(h, v1); h = mergeRound(h, v2); h = mergeRound(h, v3); h = mergeRound(h, v4)
        } else {
            h = seed &+ p5
        }
        h &+= total
        let rest = buffered
        return withUnsafeBytes(of: buffer) { b -> UInt64 in
            let p = b.baseAddress!
            var i = 0
            while i + 8 <= rest {
                h ^= round(0, load64(p, i))
                h = rotl(h, 27) &* p1 &+ p4
                i += 8
            }
            if i + 4 <= rest {
                h ^= load32(p, i) &* p1
                h = rotl(h, 23) &* p2 &+ p3
                i += 4
            }
            while i < rest {
                h ^= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) &* p5
                h = rotl(h, 11) &* p1
                i += 1
            }
            h ^= h >> 33; h &*= p2
            h ^= h >> 29; h &*= p3
            h ^= h >> 32
            return h
        }
    }
}
