// swift-tools-version: 6.0
//
// svae: a runtime and converter for SentenceVAE / SLLM models.
//
// Layers (imports only go down this list):
//   format   SVAEFormat            bytes on disk: .svae spec, mmap reader, streaming writer (no math)
//            SVAEJSON              the one strict JSON reader (no dependencies), for the tokenizer and the importer
//   kernels  CSVAEKernels, SVAEKernels  quantizers, SIMD matrix kernels, thread pool (no model knowledge;
//            element types are the format's)
//   model    SVAETokenizer, SVAEModel   tokenizer, splitter, encoder, decoder, SLLM
//   import   SVAEImport            safetensors / PyTorch readers, configs (JSON, the reference's YAML), the converter pipeline
//   API      SVAE (Swift); SVAECAPI (C, @_cdecl) with its header target CSVAEAPI → libsvae.so
//   tools    SVAECLISupport        the tools' exit statuses, error text, stderr line and JSON lines (only the three below import it)
//            svae, svae-convert    command-line programs
//            svae-bench            the benchmarks (docs/bench.md), kept out of the user CLI
import PackageDescription

let package = Package(
    name: "svae",
    products: [
        .library(name: "SVAE", targets: ["SVAE"]),
        .library(name: "SVAEFormat", targets: ["SVAEFormat"]),
        // The C API (include/svae.h) for C, C++ and Python (ctypes), built as libSVAECAPI.so;
        // tools/install.sh links it with the Swift stdlib inside (flags on its command line, no
        // unsafeFlags here) and installs it as libsvae.so.ABI. (A product named "svae" would
        // collide with the `svae` CLI: SwiftPM keeps one product per name and drops the executable.)
        .library(name: "SVAECAPI", type: .dynamic, targets: ["SVAECAPI"]),
        .executable(name: "svae", targets: ["svae"]),
        .executable(name: "svae-convert", targets: ["svae-convert"]),
        .executable(name: "svae-bench", targets: ["svae-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML for the reference's config files (svae-convert --config x.yaml), import layer only.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: system libraries
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // MARK: format
        .target(name: "SVAEFormat", dependencies: ["CZstd"]),
        .target(name: "SVAEJSON"),

        // MARK: kernels
        .target(name: "CSVAEKernels"),
        .target(name: "SVAEKernels", dependencies: ["SVAEFormat", "CSVAEKernels", "CBLAS"]),

        // MARK: model
        .target(name: "SVAETokenizer", dependencies: ["SVAEJSON"]),
        .target(name: "SVAEModel", dependencies: ["SVAEFormat", "SVAEKernels", "SVAETokenizer"]),

        // MARK: import
        .target(
            name: "SVAEImport",
            dependencies: ["SVAEFormat", "SVAEKernels", "SVAEJSON", "SVAETokenizer", "SVAEModel",
                           .product(name: "Yams", package: "Yams")]),

        // MARK: API
        .target(name: "SVAE", dependencies: ["SVAEModel", "SVAETokenizer", "SVAEFormat", "SVAEKernels"]),
        // C API: the header alone (module map generated from include/), implemented in Swift.
        .target(name: "CSVAEAPI"),
        .target(name: "SVAECAPI", dependencies: ["CSVAEAPI", "SVAE", "SVAEModel", "SVAETokenizer", "SVAEFormat", "SVAEKernels"]),

        // MARK: tools
        .target(
            name: "SVAECLISupport",
            dependencies: ["SVAE", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "svae",
            dependencies: [
                "SVAECLISupport", "SVAE", "SVAEFormat", "SVAEKernels", "SVAEModel", "SVAETokenizer", "SVAEJSON",  // SVAEJSON: strict JSON input lines
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "svae-convert",
            dependencies: [
                "SVAECLISupport", "SVAEImport", "SVAEFormat", "SVAE", "SVAEJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "svae-bench",
            dependencies: [
                "SVAECLISupport", "SVAE", "SVAEFormat", "CSVAEKernels", "SVAEKernels", "CBLAS", "SVAEModel", "SVAETokenizer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: tests
        // Shared by the API test targets: a small random-weight model written with the format layer.
        .target(name: "SVAETestSupport", dependencies: ["SVAEFormat", "SVAEKernels", "SVAEModel"], path: "Tests/SVAETestSupport"),
        .testTarget(name: "SVAEFormatTests", dependencies: ["SVAEFormat"]),
        .testTarget(name: "SVAEKernelsTests", dependencies: ["SVAEKernels", "CSVAEKernels", "SVAETestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SVAETokenizerTests", dependencies: ["SVAETokenizer", "SVAEJSON", "SVAETestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "SVAEModelTests", dependencies: ["SVAEModel", "SVAEImport", "SVAEFormat", "SVAEKernels", "SVAEJSON", "SVAETestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "SVAETests", dependencies: ["SVAE", "SVAEFormat", "SVAEImport", "SVAEKernels", "SVAEModel", "SVAETokenizer", "SVAETestSupport"]),
        .testTarget(name: "CAPITests", dependencies: ["CSVAEAPI", "SVAECAPI", "SVAE", "SVAEFormat", "SVAEModel", "SVAETokenizer", "SVAETestSupport"]),
        // The CLI's own helpers via @testable import of the executable, and the built `svae` /
        // `svae-convert` programs run as a user would.
        .testTarget(
            name: "SVAECLITests",
            dependencies: ["svae", "SVAECLISupport", "SVAE", "SVAEFormat", "SVAETestSupport", "SVAETokenizer",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The benchmarks' helpers (statistics, the JSON the scripts read, the random-model writer)
        // via @testable import of `svae-bench`, and the built `svae-bench` run as a user would.
        .testTarget(
            name: "SVAEBenchTests",
            dependencies: ["svae-bench", "SVAECLISupport", "SVAE", "SVAEFormat", "SVAEModel", "SVAETokenizer", "SVAETestSupport"]),
        .testTarget(
            name: "SVAEImportTests", dependencies: ["SVAEImport", "SVAEFormat", "SVAEModel", "SVAETokenizer", "SVAEJSON", "SVAETestSupport"],
            resources: [.copy("Fixtures")]),
    ]
)
