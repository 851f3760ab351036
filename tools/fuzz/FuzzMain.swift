// The libFuzzer entry point of a harness binary. One binary per module group holds several
// harnesses (they share one build of the sources); SVAE_FUZZ_TARGET picks which one runs.
#if canImport(Glibc)
import Glibc
#endif

let fuzzTarget: (UnsafePointer<UInt8>, Int) -> CInt = {
    let name = getenv("SVAE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let f = fuzzTargets[name] else {
        fatalError("SVAE_FUZZ_TARGET must be one of \(fuzzTargets.keys.sorted()), found '\(name)'")
    }
    return f
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzTarget(data, size)
}
