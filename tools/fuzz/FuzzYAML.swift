// libFuzzer entry point for the YAML config loader with `!include`: the input is split at
// "\n--\n" into up to four files, written as a.yaml, b.yaml, sub/c.yaml and d.yaml in a fresh
// folder (the include root); a.yaml is loaded as `svae-convert --config` loads it (includes,
// `__base__` merging, then the keys). Built by tools/fuzz/build.sh with Yams, SVAEJSON and
// ReferenceConfig.swift in one module (fuzzSplit: FuzzSplit.swift).
#if canImport(Glibc)
import Glibc
#endif

func fuzzYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let parts = fuzzSplit(bytes[...], max: 4)
    let dir = FuzzFile.dir + "/yaml"
    mkdir(dir, 0o700)
    mkdir(dir + "/sub", 0o700)
    let names = ["a.yaml", "b.yaml", "sub/c.yaml", "d.yaml"]
    for (k, name) in names.enumerated() {
        _ = FuzzFile.write(k < parts.count ? parts[k] : [], name: "yaml/" + name)
    }
    _ = try? ReferenceConfig.load(path: dir + "/a.yaml", includeRoot: dir, workingDirectory: dir)
    return 0
}
