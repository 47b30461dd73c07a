// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    // Linux only (Glibc, /proc, pidfd, prctl, sync_file_range): no Apple platform is declared,
    // because none would build.
    name: "SupportHost",
    products: [
        .executable(name: "support-host", targets: ["support-host"]),
        .library(name: "PluginAPI", targets: ["PluginAPI"]),
        .library(name: "PluginTesting", targets: ["PluginTesting"]),
        .library(name: "SupportHost", targets: ["SupportHost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // The types of swift-subprocess's API (FileDescriptor, FilePath) come from here.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // JSON values and the machinery that reads and writes them (the parser, the writer, a
        // journal record's fields read lazily): Foundation only. `PluginAPI` re-exports `JSONValue`.
        .target(name: "JSONKit", path: "Sources/JSONKit"),
        // The contract a plug-in is written against: Foundation, swift-log's Logger, JSONValue.
        .target(
            name: "PluginAPI",
            dependencies: ["JSONKit", .product(name: "Logging", package: "swift-log")],
            path: "Sources/PluginAPI"
        ),
        // Helpers the host and the built-in plug-ins share (hex, digests, writing every byte,
        // durable file replacement, blocking work off the cooperative pool). Not part of the
        // contract: a new plug-in needs only PluginAPI.
        .target(
            name: "SupportKit",
            dependencies: [
                "CSupport",
                .product(name: "SystemPackage", package: "swift-system"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/SupportKit"
        ),
        // Drives a plug-in's hooks with a recording context and in-memory bodies: no server,
        // no sockets (in the spirit of HummingbirdTesting).
        .target(
            name: "PluginTesting",
            dependencies: ["PluginAPI", .product(name: "Logging", package: "swift-log")],
            path: "Sources/PluginTesting"
        ),

        // The C calls Swift cannot make: prctl and syscall are variadic, and the SSE4.2 CRC-32C
        // instruction has no Swift spelling.
        .target(name: "CSupport", path: "Sources/CSupport"),

        // Plug-in targets are named SupportHost<Name>, not after their class nor a library's module
        // (a module `Test` hid swift-testing's `Test`; a module `Watchdog` the host's `struct Watchdog`).
        .target(name: "SupportHostPing", dependencies: ["PluginAPI", "SupportKit"], path: "Sources/Plugins/Ping"),
        // Not a plug-in: PITA's data model (platforms and their canonical hash, the safe
        // PITA-XML reader) shared by Discover and Test, which must not depend on each other.
        .target(
            name: "PITAXML",
            dependencies: ["PluginAPI", "SupportKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Plugins/PITAXML"
        ),
        .target(
            name: "SupportHostDiscover",
            dependencies: ["PluginAPI", "PITAXML", "SupportKit"],
            path: "Sources/Plugins/Discover"
        ),
        .target(
            name: "SupportHostTest",
            dependencies: [
                "PluginAPI", "PITAXML", "CSupport", "SupportKit",
                .product(name: "SystemPackage", package: "swift-system"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Plugins/Test"
        ),
        .target(name: "SupportHostCPANMirror", dependencies: ["PluginAPI", "SupportKit"], path: "Sources/Plugins/CPANMirror"),
        .target(name: "SupportHostWatchdog", dependencies: ["PluginAPI", "SupportKit"], path: "Sources/Plugins/Watchdog"),
        // The example of docs/writing-a-plugin.md: PluginAPI only, its tests in its own folder.
        .target(name: "SupportHostEcho", dependencies: ["PluginAPI"], path: "Sources/Plugins/Echo", exclude: ["Tests"]),
        .testTarget(name: "EchoPluginTests", dependencies: ["SupportHostEcho", "PluginTesting"], path: "Sources/Plugins/Echo/Tests"),
        // Barriers, mutexes and events between a run's guests: PluginAPI only, like Echo.
        .target(name: "SupportHostSync", dependencies: ["PluginAPI"], path: "Sources/Plugins/Sync", exclude: ["Tests", "Bench"]),
        .testTarget(name: "SyncPluginTests", dependencies: ["SupportHostSync", "PluginTesting"], path: "Sources/Plugins/Sync/Tests"),
        // Barrier round trip for 2, 8, 32 parties, the plug-in alone (docs/sync.md).
        .executableTarget(name: "sync-bench", dependencies: ["SupportHostSync", "PluginTesting"], path: "Sources/Plugins/Sync/Bench"),

        .target(
            name: "SupportHost",
            dependencies: [
                "PluginAPI", "JSONKit", "SupportKit", "CSupport",
                "SupportHostPing", "SupportHostDiscover", "SupportHostTest", "SupportHostCPANMirror", "SupportHostWatchdog",
                "SupportHostEcho", "SupportHostSync",
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
                "SupportHost", "SupportKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every built-in plug-in tested through PluginTesting alone: no host, no server.
        .testTarget(
            name: "PluginTests",
            dependencies: [
                "PluginAPI", "PluginTesting",
                "SupportHostPing", "SupportHostWatchdog", "SupportHostDiscover", "SupportHostTest", "SupportHostCPANMirror",
            ],
            path: "Tests/PluginTests"
        ),
        .testTarget(
            name: "SupportHostTests",
            dependencies: [
                "SupportHost", "PluginAPI", "PluginTesting", "JSONKit", "SupportKit", "PITAXML",
                "SupportHostTest", "SupportHostDiscover", "SupportHostCPANMirror", "SupportHostPing", "SupportHostWatchdog",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // EmbeddedChannel: the HTTP handlers tested one by one, without a socket.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
