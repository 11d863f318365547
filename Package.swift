// swift-tools-version:5.9
// libtextmodel: a Swift text-model engine shipped as a C library (libtextmodel.so).
//
// Targets:
//   TextModel          the engine (pure Swift API, no @_cdecl); usable by Swift packages.
//   TextModelC         the C ABI: @_cdecl functions that convert arguments and delegate.
//   CTextModelSupport  a few lines of C the ABI needs (thread-local last-error storage).
//   CKernels           hot loops compiled for AVX2, picked at run time (bit-identical to
//                      the engine's own Swift loops, which remain the fallback).
//   CJSON, CBLAS       system libraries json-c and OpenBLAS, found through pkg-config.
// Product:
//   textmodel (dynamic) -> .build/release/libtextmodel.so; build it with
//   `swift build -c release -Xswiftc -static-stdlib` so it carries no Swift runtime dependency.
//   textmodel-cli -> the command-line tool; scripts/build.sh installs it as .build/release/textmodel
//   (a product cannot share the library's name).
import PackageDescription

let package = Package(
    name: "textmodel",
    products: [
        .library(name: "textmodel", type: .dynamic, targets: ["TextModelC"]),
        .library(name: "TextModel", targets: ["TextModel"]),
        .executable(name: "textmodel-cli", targets: ["TextModelCLI"]),
    ],
    targets: [
        .systemLibrary(name: "CJSON", pkgConfig: "json-c",
                       providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CTextModelSupport"),
        .target(name: "CKernels"),
        .target(name: "TextModel", dependencies: ["CJSON", "CBLAS", "CKernels"]),
        .target(name: "TextModelC", dependencies: ["TextModel", "CTextModelSupport"]),
        // The command-line tool over the Swift API (Sources/TextModelCLI: one file per subcommand).
        .executableTarget(name: "TextModelCLI", dependencies: ["TextModel"]),
        // Every test lives under tests/ (swift/, c/, acceptance/, fixtures/): one folder, not
        // Tests/ beside tests/, which clash on case-insensitive file systems.
        // Test-only: counts heap allocations (the test executable's own malloc), so tests can
        // show that training steps and warm prediction calls allocate nothing.
        .target(name: "CAllocationCounter", path: "tests/swift/CAllocationCounter"),
        .testTarget(name: "TextModelTests", dependencies: ["TextModel", "CAllocationCounter"],
                    path: "tests/swift/TextModelTests"),
    ]
)
