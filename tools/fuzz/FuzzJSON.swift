// libFuzzer entry point for the strict JSON reader: parse; a parsed value's numbers and members
// must be readable, and a value must be found again by key.
func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let v = try? StrictJSON.parse(bytes) else { return 0 }
    func walk(_ v: JSONValue, _ budget: inout Int) {
        budget -= 1
        guard budget > 0 else { return }
        switch v {
        case .number: _ = v.intValue; _ = v.doubleValue
        case .array(let a): for x in a { walk(x, &budget) }
        case .object(let m):
            for (k, x) in m {
                precondition(v[k] != nil, "member \(k) not found by key")
                walk(x, &budget)
            }
        default: break
        }
    }
    var budget = 10_000
    walk(v, &budget)
    return 0
}
