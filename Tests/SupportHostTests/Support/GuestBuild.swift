import Foundation

/// The qemu guest, built once per test run by `scripts/build-guest` into the git-ignored
/// `guest-build/` (which does nothing when its key — the script, the image manager, the kernel
/// and busybox — is unchanged).
enum GuestBuild {
    static let directory = Fixtures.packageRoot.appendingPathComponent("guest-build")

    static let ready: Bool = {
        guard Fixtures.has("cpio"), FileManager.default.isExecutableFile(atPath: "/bin/busybox") else { return false }
        let build = Process()
        build.executableURL = Fixtures.packageRoot.appendingPathComponent("scripts/build-guest")
        build.standardOutput = FileHandle.nullDevice
        do {
            try build.run()
        } catch {
            return false
        }
        build.waitUntilExit()
        return build.terminationStatus == 0
            && FileManager.default.fileExists(atPath: directory.appendingPathComponent("vmlinuz").path)
    }()

    /// The kernel release of the built guest (from the key's kernel, as `uname -r` shows it).
    static var kernelRelease: String? {
        let boot = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
        return boot.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }.sorted().last
    }
}
