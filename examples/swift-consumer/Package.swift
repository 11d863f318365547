// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "SwiftConsumer",
    dependencies: [
        // This repository; from elsewhere: .package(url: "<git URL of libtextmodel>", from: "0.6.0")
        .package(name: "textmodel", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "SwiftConsumer",
            dependencies: [.product(name: "TextModel", package: "textmodel")]
        ),
    ]
)
