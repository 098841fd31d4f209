// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]

let package = Package(
    name: "haha",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "haha", targets: ["haha"]),
        .executable(name: "haha-oci-shim", targets: ["haha-oci-shim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(name: "haha", dependencies: ["HahaCommands"], swiftSettings: strict),
        .executableTarget(name: "haha-oci-shim", swiftSettings: strict),
        .target(
            name: "HahaCommands",
            dependencies: [
                "HahaCore", "HahaSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .target(
            name: "HahaCore",
            dependencies: [
                "Yams",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(
            name: "HahaSystem",
            dependencies: ["HahaCore"],
            resources: [.copy("Recipes")],
            swiftSettings: strict),
        .testTarget(name: "HahaCoreTests", dependencies: ["HahaCore"], exclude: ["Golden", "Fixtures"], swiftSettings: strict),
        .target(name: "HahaTestSupport", dependencies: ["HahaSystem", "HahaCore"], path: "Tests/HahaTestSupport", swiftSettings: strict),
        .testTarget(name: "HahaSystemTests", dependencies: ["HahaSystem", "HahaTestSupport"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["HahaSystem", "HahaCore", "HahaTestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
