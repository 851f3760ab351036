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
    let dir = fuzzYAMLFolder
    let names = ["a.yaml", "b.yaml", "sub/c.yaml", "d.yaml"]
    for (k, name) in names.enumerated() {
        _ = FuzzFile.write(k < parts.count ? parts[k] : [], name: "yaml/" + name)
    }
    _ = try? ReferenceConfig.load(path: dir + "/a.yaml", includeRoot: dir, workingDirectory: dir)
    return 0
}

/// The include root, made once: sub/ for includes, and model_repo/opt-125m/config.json (the
/// reference fixture, when run from the repository) so `ref_model_dir` resolves and the whole
/// load runs.
let fuzzYAMLFolder: String = {
    let dir = FuzzFile.dir + "/yaml"
    for d in [dir, dir + "/sub", dir + "/model_repo", dir + "/model_repo/opt-125m"] { mkdir(d, 0o700) }
    let fixture = "Tests/SVAEImportTests/Fixtures/reference/model_repo/opt-125m/config.json"
    if let f = fopen(fixture, "rb") {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[..<n]
        }
        fclose(f)
        _ = FuzzFile.write(bytes, name: "yaml/model_repo/opt-125m/config.json")
    }
    return dir
}()
