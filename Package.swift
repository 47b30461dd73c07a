// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    // Linux only (Glibc, /proc, pidfd, prctl, sync_file_range): no Apple platform is declared,
    // because none would build.
    name: "SupportHost",
    products: [
        .executable(name: "support-host", targets: ["support-host"]),
        .library(name: "PluginAPI", targets: ["PluginAPI"]),
        .library(name: "SupportHost", targets: ["SupportHost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The types of swift-subprocess's API (FileDescriptor, FilePath) come from here.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // The contract a plug-in is written against: Foundation only.
        .target(name: "PluginAPI", path: "Sources/PluginAPI"),

        // The C calls Swift cannot make: prctl and syscall are variadic, and the SSE4.2 CRC-32C
        // instruction has no Swift spelling.
        .target(name: "CSupport", path: "Sources/CSupport"),

        .target(name: "Ping", dependencies: ["PluginAPI"], path: "Sources/Plugins/Ping"),
        // Not a plug-in: PITA's data model (platforms and their canonical hash, the safe
        // PITA-XML reader) shared by Discover and Test, which must not depend on each other.
        .target(
            name: "PITAXML",
            dependencies: ["PluginAPI", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Plugins/PITAXML"
        ),
        .target(
            name: "Discover",
            dependencies: ["PluginAPI", "PITAXML"],
            path: "Sources/Plugins/Discover"
        ),
        .target(
            name: "Test",
            dependencies: ["PluginAPI", "PITAXML", "CSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Plugins/Test"
        ),
        .target(name: "CPANMirror", dependencies: ["PluginAPI"], path: "Sources/Plugins/CPANMirror"),
        .target(name: "Watchdog", dependencies: ["PluginAPI"], path: "Sources/Plugins/Watchdog"),

        .target(
            name: "SupportHost",
            dependencies: [
                "PluginAPI", "Ping", "Discover", "Test", "CPANMirror", "Watchdog", "CSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "support-host",
            dependencies: [
                "SupportHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SupportHostTests",
            dependencies: [
                "SupportHost", "PluginAPI", "Test", "Discover", "CPANMirror", "Ping", "PITAXML",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // EmbeddedChannel: the HTTP handlers tested one by one, without a socket.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
