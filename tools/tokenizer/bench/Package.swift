// swift-tools-version: 6.0
// A stand-alone benchmark package, kept out of the main Package.swift on purpose: it compiles
// the real Sources/SVAETokenizer and Sources/SVAEJSON (through symlinks) into a release executable.
//   cd tools/tokenizer/bench && swift build -c release
//   .build/release/bench TEXT_FILE [REPETITIONS] [HF_IDS_FILE]
import PackageDescription

let package = Package(
    name: "svae-tokenizer-bench",
    targets: [
        .target(name: "SVAEJSON"),
        .target(name: "SVAETokenizer", dependencies: ["SVAEJSON"]),
        .executableTarget(name: "bench", dependencies: ["SVAETokenizer"]),
    ]
)
