// Robustness: truncated and bit-flipped fixtures must produce errors, never traps.

import Foundation
import Testing
import SVAETestSupport
@testable import SVAEImport

@Suite struct RobustnessTests {
    /// Opens with auto-detection and, on success, reads every tensor.
    func exercise(_ bytes: [UInt8], name: String) {
        let p = tempFile(bytes, name: name)
        defer { try? FileManager.default.removeItem(atPath: p) }
        guard let c = try? SourceCheckpoint.open(p) else { return }
        for t in c.tensors { _ = try? values(t) }
    }

    /// Every proper prefix of a checkpoint is refused with an error, when opened or when its
    /// tensors are read (a prefix that opened and read fully would be a silently different
    /// model); none traps.
    @Test(arguments: ["views.pth", "be_small.pth", "dtypes.safetensors", "evil_eval.pth"])
    func truncationsAreErrors(_ fixture: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path(fixture))))
        var accepted: [Int] = []
        for n in stride(from: 0, to: bytes.count, by: 7) {
            let p = tempFile(Array(bytes.prefix(n)), name: fixture)
            defer { try? FileManager.default.removeItem(atPath: p) }
            do {
                let c = try SourceCheckpoint.open(p)
                for t in c.tensors { _ = try values(t) }
                accepted.append(n)
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
        #expect(accepted.isEmpty, "\(fixture) (\(bytes.count) bytes): prefixes of \(accepted.prefix(5)) bytes opened and read without an error")
    }

    @Test(arguments: ["views.pth", "be_small.pth", "dtypes.safetensors"])
    func bitFlipsNeverTrap(_ fixture: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path(fixture))))
        var rng = SplitMix64(42)
        for _ in 0..<200 {
            var b = bytes
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(b.count))
                b[i] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
            }
            exercise(b, name: fixture)
        }
    }

    @Test func pickleMutationsNeverTrap() throws {
        let z = try ZipArchive(path: Fx.path("svae_mmengine.pth"))
        let pkl = try z.read("archive/data.pkl")
        var rng = SplitMix64(7)
        for _ in 0..<300 {
            var b = pkl
            let i = Int(rng.next() % UInt64(b.count))
            b[i] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? Unpickler.load(b, path: "m")
            _ = try? Unpickler.load(Array(pkl.prefix(i)), path: "m")
        }
    }
}
