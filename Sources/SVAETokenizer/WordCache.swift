// A cache from pre-token bytes to their BPE ids, with no allocation per lookup: keys and ids
// live in two flat arenas, slots are open-addressed by an FNV-1a hash of the key bytes.
// When it fills up it is cleared whole (the ids never depend on the cache).

struct WordCache: Sendable {
    private struct Slot: Sendable {
        var hash: UInt64 = 0
        var keyStart: Int32 = -1  // -1: empty
        var keyLength: Int32 = 0
        var idStart: Int32 = 0
        var idLength: Int32 = 0
    }

    private var slots: [Slot]
    private var keyBytes: [UInt8] = []
    private(set) var ids: [Int32] = []
    private var count = 0
    private let mask: Int
    /// Longest pre-token (in bytes) that is cached; longer ones are rare and would bloat it.
    static let maxKeyLength = 256
    /// Key bytes kept before the cache is cleared (bounds memory at a few MiB).
    static let maxKeyBytes = 4 << 20

    /// `capacity` entries at most (rounded up to a power of two, slots are twice that).
    init(capacity: Int) {
        var n = 16
        while n < max(capacity, 1) * 2 { n <<= 1 }
        slots = [Slot](repeating: Slot(), count: n)
        mask = n - 1
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in start..<end {
            h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3
        }
        return h
    }

    /// The range in `ids` of the cached ids for `p[start..<end]`, if cached.
    @inline(__always)
    func lookup(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash h: UInt64) -> Range<Int>? {
        let length = end - start
        var s = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeBufferPointer { slots in
            keyBytes.withUnsafeBufferPointer { keys in
                while true {
                    let slot = slots[s]
                    if slot.keyStart < 0 { return nil }
                    if slot.hash == h && Int(slot.keyLength) == length {
                        let k = Int(slot.keyStart)
                        var same = true
                        for t in 0..<length where keys[k + t] != p[start + t] {
                            same = false
                            break
                        }
                        if same { return Int(slot.idStart)..<Int(slot.idStart + slot.idLength) }
                    }
                    s = (s + 1) & mask
                }
            }
        }
    }

    /// Stores `newIDs` for `p[start..<end]` (the caller checked it is not cached).
    mutating func insert(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash h: UInt64,
                         ids newIDs: ArraySlice<Int32>) {
        let length = end - start
        guard length <= WordCache.maxKeyLength else { return }
        if (count + 1) * 2 > slots.count || keyBytes.count + length > WordCache.maxKeyBytes {
            clear()
        }
        var s = Int(truncatingIfNeeded: h) & mask
        while slots[s].keyStart >= 0 { s = (s + 1) & mask }
        slots[s] = Slot(hash: h, keyStart: Int32(keyBytes.count), keyLength: Int32(length),
                        idStart: Int32(ids.count), idLength: Int32(newIDs.count))
        keyBytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<end]))
        ids.append(contentsOf: newIDs)
        count += 1
    }

    mutating func clear() {
        for i in slots.indices { slots[i] = Slot() }
        keyBytes.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        count = 0
    }
}
