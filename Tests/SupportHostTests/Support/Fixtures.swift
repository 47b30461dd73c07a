import Crypto
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Shared fixtures: temporary directories, guest scripts, tools on this machine.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One directory per test process, removed when the process exits; one left by a test
    /// process that was killed is removed by the next.
    static let scratchRoot: URL = {
        let manager = FileManager.default
        let tmp = manager.temporaryDirectory
        for name in (try? manager.contentsOfDirectory(atPath: tmp.path)) ?? [] where name.hasPrefix("support-host-tests-") {
            if let pid = pid_t(name.dropFirst("support-host-tests-".count)), pid != getpid(), kill(pid, 0) != 0 {
                try? manager.removeItem(at: tmp.appendingPathComponent(name))
            }
        }
        let url = tmp.appendingPathComponent("support-host-tests-\(getpid())")
        try? manager.createDirectory(at: url, withIntermediateDirectories: true)
        scratchPath = url.path
        atexit { if let path = Fixtures.scratchPath { try? FileManager.default.removeItem(atPath: path) } }
        return url
    }()
    nonisolated(unsafe) private static var scratchPath: String?

    /// This process's environment with TMPDIR in the scratch directory: what a child leaves in
    /// its temporary directory (a killed host's injector, chromium's scoped folders) goes at exit.
    static func scratchEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = temporaryDirectory("tmp").path
        return environment
    }

    /// A new empty directory for one test.
    static func temporaryDirectory(_ name: String) -> URL {
        let url = scratchRoot.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A run directory path that does not exist yet.
    static func runDirectory(_ name: String) -> URL {
        temporaryDirectory("runs").appendingPathComponent(name)
    }

    /// Writes an executable POSIX sh guest script and returns its path. The script runs with
    /// `set -eu`; `$SUPPORT_HOST_URL` and the other variables come from the host.
    static func guestScript(_ body: String) -> String {
        let url = temporaryDirectory("guest").appendingPathComponent("guest.sh")
        let text = "#!/bin/sh\nset -eu\n" + body + "\n"
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o755])
        return url.path
    }

    /// Figures a test measured (fuzz counts, memory, boot times): printed only with
    /// SUPPORT_HOST_TEST_VERBOSE=1, so that `swift test` shows nothing a user must ignore.
    static func note(_ text: @autoclosure () -> String) {
        if ProcessInfo.processInfo.environment["SUPPORT_HOST_TEST_VERBOSE"] == "1" { print(text()) }
    }

    /// Whether a program is on PATH (tests that need it skip with how to install it).
    static func has(_ program: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(program)")
        }
    }

    /// Whether a process exists (and is not a zombie).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// The resident set size of a process in KiB, from `/proc/PID/status` (`VmRSS`).
    static func residentKiB(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
    }

    /// Polls until a file exists.
    static func waitForFile(_ url: URL, timeout: Double = 60) async -> Bool {
        await eventually(timeout: timeout) { FileManager.default.fileExists(atPath: url.path) }
    }

    /// The files in a directory (names), empty when it does not exist.
    static func files(in url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func randomData(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}

/// Trait conditions with install hints.
enum Needs {
    static let curl = Fixtures.has("curl")
    static let curlHint: Comment = "needs curl and python3: apt-get install -y curl python3"
    static let python3 = Fixtures.has("python3")
    static let curlAndPython = curl && python3
    static let curlAndPythonHint: Comment = curlHint
    /// cpanm drives perl, make and a C toolchain's make; Debian's cpanminus pulls in perl.
    static let cpanm = Fixtures.has("cpanm") && Fixtures.has("make") && Fixtures.has("perl")
    static let cpanmHint: Comment = "needs cpanm, perl and make: apt-get install -y cpanminus make"
    static let perlAndMake = Fixtures.has("perl") && Fixtures.has("make")
    static let perlAndMakeHint: Comment = "needs perl and make: apt-get install -y perl make"
    /// A qemu guest: qemu, xorriso, python3 (the stop command) and the x86_64 guest built by
    /// scripts/build-guest.
    static let qemu = Fixtures.has("qemu-system-x86_64") && Fixtures.has("xorriso") && python3 && GuestBuild.ready["x86_64"] == true
    static let qemuHint: Comment = """
        needs qemu and a built guest: apt-get install -y qemu-system-x86 xorriso cpio zstd lz4 xz-utils python3 linux-image-amd64, \
        then scripts/build-guest --arch x86_64 (it must be able to read /boot/vmlinuz-*)
        """
    /// The three architectures' guests, and qemu for arm64 too.
    static let qemuAllArchitectures = qemu && Fixtures.has("qemu-system-aarch64") && GuestBuild.ready.values.allSatisfy { $0 }
    static let qemuAllArchitecturesHint: Comment = """
        needs the three qemu guests: apt-get install -y qemu-system-x86 qemu-system-arm xorriso cpio zstd lz4 xz-utils python3 \
        linux-image-amd64; dpkg --add-architecture i386; dpkg --add-architecture arm64; apt-get update; then \
        scripts/build-guest --arch x86_64, --arch i386 and --arch arm64 (see docs/guests.md)
        """
}
