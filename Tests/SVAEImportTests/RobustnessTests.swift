// Robustness: truncated and bit-flipped fixtures must produce errors, never traps.

import Foundation
import Testing
@testable import SVAEImport

@Suite struct RobustnessTests {
    /// Opens with auto-detection and, on success, reads every tensor.
    func exercise(_ bytes: [UInt8], name: String) {
        let p = tempFile(bytes, name: name)
        defer { try? FileManager.default.removeItem(atPath: p) }
        guard let c = try? SourceCheckpoint.open(p) else { return }
        for t in c.tensors { _ = try? values(t) }
    }

    /// A small deterministic generator (SplitMix64) so failures reproduce.
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: ["views.pth", "be_small.pth", "dtypes.safetensors", "evil_eval.pth"])
    func truncationsNeverTrap(_ fixture: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path(fixture))))
        for n in stride(from: 0, to: bytes.count, by: 7) { exercise(Array(bytes.prefix(n)), name: fixture) }
    }

    @Test(arguments: ["views.pth", "be_small.pth", "dtypes.safetensors"])
    func bitFlipsNeverTrap(_ fixture: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fx.path(fixture))))
        var rng = Rng(s: 42)
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
        var rng = Rng(s: 7)
        for _ in 0..<300 {
            var b = pkl
            let i = Int(rng.next() % UInt64(b.count))
            b[i] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? Unpickler.load(b, path: "m")
            _ = try? Unpickler.load(Array(pkl.prefix(i)), path: "m")
        }
    }
}
