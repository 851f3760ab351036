// Replays the committed fuzz corpora (tools/fuzz/corpus/<harness>, kept small by
// `libFuzzer -merge=1`) through the same entry points as the harnesses in tools/fuzz, in the
// normal build: every input either parses or fails with a typed error in plain words. A trap
// or an untyped error fails the suite.

import Foundation
import Testing
@testable import SVAEImport
import SVAEJSON

enum FuzzCorpus {
    /// tools/fuzz/corpus of this checkout (the tests are compiled from it).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/fuzz/corpus").path

    /// Every file of one harness's corpus.
    static func files(_ harness: String) -> [(name: String, bytes: [UInt8])] {
        let dir = root + "/" + harness
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.compactMap { n in
            FileManager.default.contents(atPath: dir + "/" + n).map { (n, [UInt8]($0)) }
        }
    }
}

/// Runs `body`; any error must be one of the reading layer's typed errors and print as plain
/// words naming the input (no Swift case names or `(path:` dumps). Returns whether it parsed.
@discardableResult
func expectParsesOrTypedError(_ name: String, _ body: () throws -> Void) -> Bool {
    do {
        try body()
        return true
    } catch {
        let typed = error is PickleError || error is ZipError || error is TorchCheckpointError
            || error is SafetensorsError || error is SourceTensorError || error is JSONFailure
        #expect(typed, "\(name): untyped error \(type(of: error)): \(error)")
        let text = "\(error)"
        #expect(!text.isEmpty && !text.contains("(path:"), "\(name): message \(text)")
        return false
    }
}

@Suite struct FuzzCorpusTests {
    /// Reads every floating-point tensor (the strided reader), as the harnesses do.
    func readAll(_ tensors: [SourceTensor]) throws {
        for t in tensors where t.dtype.isFloatingPoint && t.elementCount <= 1 << 16 {
            var buf = [Float](repeating: 0, count: t.elementCount)
            try buf.withUnsafeMutableBufferPointer { b throws(SourceTensorError) in try t.readF32(into: b) }
        }
    }

    @Test func corporaArePresent() {
        for h in ["pickle", "zip", "pth", "safetensors", "json", "yaml"] {
            #expect(FuzzCorpus.files(h).count >= 3, "tools/fuzz/corpus/\(h) holds too few inputs")
        }
    }

    @Test func pickleCorpus() {
        for (name, bytes) in FuzzCorpus.files("pickle") {
            expectParsesOrTypedError(name) {
                let (v, pids) = try Unpickler.load(bytes, path: name)
                _ = v.summary
                for p in pids { _ = try? TorchCheckpoint.parseStorage(p, path: name) }
            }
        }
    }

    @Test func jsonCorpus() {
        var parsed = 0
        for (name, bytes) in FuzzCorpus.files("json") {
            if expectParsesOrTypedError(name, { _ = try StrictJSON.parse(bytes) }) { parsed += 1 }
        }
        #expect(parsed > 0, "no input of the JSON corpus parses: the seeds are gone")
    }

    /// The input split at "\n--\n" into a.yaml, b.yaml, sub/c.yaml, d.yaml of a fresh include
    /// root holding the reference's opt-125m config.json; a.yaml loaded as `--config` loads it.
    @Test func yamlCorpus() throws {
        var loaded = 0
        for (name, bytes) in FuzzCorpus.files("yaml") {
            let dir = tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/model_repo/opt-125m", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fx.path("reference/model_repo/opt-125m/config.json"),
                                             toPath: dir + "/model_repo/opt-125m/config.json")
            let text = Array(bytes)
            let sep = Array("\n--\n".utf8)
            var parts: [[UInt8]] = []
            var start = 0, i = 0
            while i + sep.count <= text.count, parts.count < 3 {
                if Array(text[i..<(i + sep.count)]) == sep { parts.append(Array(text[start..<i])); i += sep.count; start = i } else { i += 1 }
            }
            parts.append(Array(text[start...]))
            for (k, f) in ["a.yaml", "b.yaml", "sub/c.yaml", "d.yaml"].enumerated() {
                _ = FileManager.default.createFile(atPath: dir + "/" + f, contents: Data(k < parts.count ? parts[k] : []))
            }
            do {
                _ = try ReferenceConfig.load(path: dir + "/a.yaml", includeRoot: dir, workingDirectory: dir)
                loaded += 1
            } catch {
                let typed = error is ReferenceConfigError || error is ConfigError
                #expect(typed, "\(name): untyped error \(type(of: error)): \(error)")
                #expect(!"\(error)".contains("(file:"), "\(name): \(error)")
            }
        }
        #expect(loaded > 0, "no input of the YAML corpus loads: the seeds are gone")
    }

    @Test func zipCorpus() {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, bytes) in FuzzCorpus.files("zip") {
            let p = dir + "/" + name
            _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
            expectParsesOrTypedError(name) {
                let z = try ZipArchive(path: p)
                for e in z.entries {
                    // compressed entries are listed but refused when read
                    _ = expectParsesOrTypedError(name + ":" + e.name) { _ = try z.read(e.name) }
                }
            }
        }
    }

    @Test func pthCorpus() {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var parsed = 0
        for (name, bytes) in FuzzCorpus.files("pth") {
            let p = dir + "/" + name
            _ = FileManager.default.createFile(atPath: p, contents: Data(bytes))
            if expectParsesOrTypedError(name, { try readAll(TorchCheckpoint(path: p).tensors) }) { parsed += 1 }
        }
        #expect(parsed > 0, "no input of the .pth corpus parses: the seeds are gone")
    }

    /// First byte even: one safetensors file; odd: an index and its shard `s.safetensors`,
    /// split at the first "\n--\n" (tools/fuzz/FuzzSafetensors.swift).
    @Test func safetensorsCorpus() {
        var parsed = 0
        for (name, bytes) in FuzzCorpus.files("safetensors") where !bytes.isEmpty {
            let dir = tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let body = Array(bytes.dropFirst())
            let ok: Bool
            if bytes[0] & 1 == 0 {
                let p = dir + "/in.safetensors"
                _ = FileManager.default.createFile(atPath: p, contents: Data(body))
                ok = expectParsesOrTypedError(name) { try readAll(SafetensorsFile(path: p).tensors) }
            } else {
                let sep = Array("\n--\n".utf8)
                let cut = (0...max(0, body.count - sep.count)).first { body.count >= sep.count && Array(body[$0..<($0 + sep.count)]) == sep }
                let index = cut.map { Array(body[..<$0]) } ?? body
                let shard = cut.map { Array(body[($0 + sep.count)...]) } ?? []
                _ = FileManager.default.createFile(atPath: dir + "/s.safetensors", contents: Data(shard))
                let p = dir + "/model.safetensors.index.json"
                _ = FileManager.default.createFile(atPath: p, contents: Data(index))
                ok = expectParsesOrTypedError(name) { try readAll(SafetensorsIndex(path: p).tensors) }
            }
            if ok { parsed += 1 }
        }
        #expect(parsed > 0, "no input of the safetensors corpus parses: the seeds are gone")
    }
}
