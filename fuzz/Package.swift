// swift-tools-version:5.9
// libFuzzer harnesses for libtextmodel's byte-level entry points.
//
// A separate package so the fuzzing flags never touch the main build. Build it with
// the sanitizer flags on the command line (see run.sh / README.md):
//
//   swift build -c release --package-path fuzz --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing
//
// (-enable-testing: FuzzSupport reaches the library's internal readers by @testable import.)
//
// Every target defines LLVMFuzzerTestOneInput; libFuzzer supplies main().
import PackageDescription

let fuzzTargets = ["FuzzConfig", "FuzzCSV", "FuzzFastText", "FuzzModelFile", "FuzzTokenizer", "FuzzJSONL",
                   "FuzzVectors", "FuzzCheckpoint"]

// SwiftPM names a path dependency by its folder (lower-cased), not by the name in its
// manifest: the root package is "main" when checked out as /work/main. Derive it so the
// fuzz package builds from any checkout folder.
let rootPackage = Context.packageDirectory.split(separator: "/").dropLast().last.map { $0.lowercased() } ?? "textmodel"
let textModel = Target.Dependency.product(name: "TextModel", package: rootPackage)

let package = Package(
    name: "textmodel-fuzz",
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // Shared helpers (byte → String decoding, expected-error handling), compiled into each target.
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport",
                dependencies: ["CFuzzerDriver", textModel]),
    ] + fuzzTargets.map { name in
        .executableTarget(name: name,
                          dependencies: ["FuzzSupport", textModel])
    }
)
