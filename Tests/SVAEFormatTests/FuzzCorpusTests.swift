// Replays the committed corpus of the `sections` fuzz harness (tools/fuzz/corpus/sections,
// tools/fuzz/FuzzSections.swift) in the normal build: first byte even = a metadata section body,
// odd = a tokenizer section body. Each input decodes (and then encodes back to the same bytes)
// or fails with a FormatProblem whose message is plain words.

import Foundation
import Testing
@testable import SVAEFormat

@Suite struct SectionsFuzzCorpusTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/fuzz/corpus/sections").path

    func check(_ name: String, _ body: () throws -> Void) -> Bool {
        do {
            try body()
            return true
        } catch {
            guard let problem = error as? FormatProblem else {
                Issue.record("\(name): untyped error \(type(of: error)): \(error)")
                return false
            }
            let text = SVAEFormatError(file: name, problem).description
            #expect(text.hasPrefix(name + ": ") && text.count > name.count + 4 && !text.contains("(what:"), "\(text)")
            return false
        }
    }

    @Test func sectionsCorpus() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.dir).sorted()
        #expect(names.count >= 3)
        var decoded = 0
        for n in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/" + n)))
            guard let kind = bytes.first else { continue }
            let body = Array(bytes.dropFirst())
            let ok = check(n) {
                if kind & 1 == 0 {
                    let m = try body.withUnsafeBytes { b in try Metadata.decode(b) }
                    let enc = try m.encoded()
                    let again = try enc.withUnsafeBytes { b in try Metadata.decode(b) }.encoded()
                    #expect(enc == again, "\(n): metadata does not round-trip")
                } else {
                    let t = try body.withUnsafeBytes { b in try TokenizerData.decode(b) }
                    let back = try t.encoded().withUnsafeBytes { b in try TokenizerData.decode(b) }
                    #expect(back == t, "\(n): tokenizer section does not round-trip")
                }
            }
            if ok { decoded += 1 }
        }
        #expect(decoded > 0, "no input of the sections corpus decodes: the seeds are gone")
    }
}
